/* When a session ends while a page is open (signed out elsewhere, expired, account removed), the
   server answers the page's next callback with 401 "Sign in first.": reload, so the server sends
   the sign-in page instead of the page silently no longer updating. */
(function () {
  var originalFetch = window.fetch;
  var reloading = false;
  window.fetch = function () {
    return originalFetch.apply(this, arguments).then(function (response) {
      if (response.status === 401 && !reloading && String(response.url).indexOf('/_dash-') !== -1) {
        reloading = true;
        window.location.reload();
      }
      return response;
    });
  };
})();
