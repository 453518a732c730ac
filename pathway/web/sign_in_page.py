"""The sign-in page and the no-access page: plain server-rendered HTML (no script), every value
HTML-escaped, so they work before any Dash code is served."""

from __future__ import annotations

from html import escape

TITLE = "Perinatal Pathway Analytics"

_STYLE = """
body { font-family: Arial, Helvetica, sans-serif; margin: 0; background: #f0f4f5; color: #212b32; }
header { background: #005eb8; color: #fff; padding: 1rem 2rem; font-size: 1.25rem; font-weight: bold; }
main { max-width: 28rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 4px; }
label { display: block; font-weight: bold; margin-top: 1rem; }
input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem;
  border: 2px solid #4c6272; margin-top: .25rem; }
input:focus, button:focus { outline: 3px solid #ffeb3b; outline-offset: 0; }
button { margin-top: 1.5rem; background: #007f3b; color: #fff; border: 0; padding: .6rem 1.2rem; font-size: 1rem;
  cursor: pointer; }
.error { border-left: 6px solid #d5281b; padding: .5rem 1rem; background: #fbe9e7; margin: 1rem 0; }
.hint { color: #4c6272; font-size: .9rem; }
"""


def _document(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
            f"<header>{escape(TITLE)}</header><main>{body}</main></body></html>")


def sign_in_page(csrf_token: str, next_path: str = "/", error: str | None = None) -> str:
    problem = f'<p class="error" role="alert" id="sign-in-error">{escape(error)}</p>' if error else ""
    return _document(f"Sign in - {TITLE}", f"""
<h1>Sign in</h1>
{problem}
<form method="post" action="/sign-in" id="sign-in-form">
<input type="hidden" name="csrf_token" value="{escape(csrf_token)}">
<input type="hidden" name="next" value="{escape(next_path)}">
<label for="user_name">User name</label>
<input type="text" id="user_name" name="user_name" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" id="sign-in-button">Sign in</button>
</form>
<p class="hint">No account? Ask your data manager to add one with <code>pathway users add</code>.</p>""")


def no_access_page(user_name: str) -> str:
    return _document(f"No access - {TITLE}", f"""
<h1>No access</h1>
<p>You are signed in as <strong>{escape(user_name)}</strong>, but this dashboard has no account for you.</p>
<p class="hint">Ask a data manager to add one: <code>pathway users add {escape(user_name)} --role viewer --no-password</code>.</p>""")
