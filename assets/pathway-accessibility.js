/* dcc.Upload renders its file input without a label and has no property for one: name it after the
   drop zone, so screen readers announce it (WCAG 1.3.1 and 4.1.2). */
(function () {
  function labelUploads() {
    document.querySelectorAll('.pathway-upload input[type=file]:not([aria-label])').forEach(function (input) {
      input.setAttribute('aria-label', 'Upload an extract file (CSV, XLSX or Parquet)');
    });
  }
  new MutationObserver(labelUploads).observe(document.documentElement, {childList: true, subtree: true});
})();
