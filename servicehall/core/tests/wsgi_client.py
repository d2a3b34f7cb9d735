"""Call the project's real WSGI entry point (config.wsgi.application, what gunicorn serves)
in-process, for tests of the lean lane that Django's test Client would bypass."""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.signals import request_finished, request_started
from django.db import close_old_connections


@dataclass
class WSGIResponse:
    status_code: int
    headers: dict[str, str]
    cookies: list[str]
    content: bytes

    def json(self):
        import json

        return json.loads(self.content)


@contextmanager
def _keep_test_connection():
    # As Django's test Client does: a request must not close the connection that holds the
    # test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def wsgi_get(path: str, params: dict | None = None, **headers: str) -> WSGIResponse:
    from config.wsgi import application

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": urlencode(params or {}),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = response_headers

    with _keep_test_connection():
        result = application(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
    return WSGIResponse(
        status_code=started["status"],
        headers={k.lower(): v for k, v in started["headers"] if k.lower() != "set-cookie"},
        cookies=[v for k, v in started["headers"] if k.lower() == "set-cookie"],
        content=body,
    )
