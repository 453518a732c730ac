"""The dashboard in one process: `python app.py` serves http://127.0.0.1:8050 (building the
county demo data on first run); `pathway serve` is the multi-worker way to share it.
"""

from pathway.web.server import create_app, run_development_server

app = create_app()
server = app.server  # for a WSGI server: gunicorn app:server

if __name__ == "__main__":
    run_development_server()
