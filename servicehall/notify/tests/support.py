"""Real implementations of the notify interfaces for tests (no mocks): an in-memory gateway,
a small SMS provider speaking HTTP on 127.0.0.1, and an e-mail backend that fails on cue."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from servicehall.notify.gateways import Gateway


class RecordingGateway(Gateway):
    """Accepts messages into `sent` (thread-safe). While `down` is an exception it raises
    it; `on_send(message)` runs before each accepted send (to move time, crash, ...)."""

    name = "recording"

    def __init__(self, *, down: BaseException | None = None, delay: float = 0.0, on_send=None):
        self.down = down
        self.delay = delay
        self.on_send = on_send
        self.calls = 0
        self.sent: list[int] = []
        self._lock = threading.Lock()

    def send(self, message) -> str:
        with self._lock:
            self.calls += 1
            calls = self.calls
        if self.down is not None:
            raise self.down
        if self.on_send is not None:
            self.on_send(message)
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.sent.append(message.pk)
        return f"rec-{message.pk}-{calls}"


class SmsProvider:
    """An SMS provider's HTTP API on 127.0.0.1 (a real server in a thread).

    Records every request; answers 200 {"id": "p-<n>"} unless told otherwise: `script` is a
    list of (status, body, delay) consumed in order, `status_while_down` answers every
    request while set.
    """

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple[int, object, float]] = []
        self.status_while_down: int | None = None
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                provider.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "raw": raw}
                )
                n = len(provider.requests)
                if provider.script:
                    status, body, delay = provider.script.pop(0)
                elif provider.status_while_down:
                    status, body, delay = provider.status_while_down, {"error": "busy"}, 0
                else:
                    status, body, delay = 200, {"id": f"p-{n}"}, 0
                if delay:
                    time.sleep(delay)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1/sms"

    def json(self, i: int) -> dict:
        return json.loads(self.requests[i]["raw"])

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ScriptedEmailBackend(BaseEmailBackend):
    """A Django e-mail backend that raises settings.TEST_EMAIL_ERROR when it is set and
    otherwise delegates to the in-memory backend."""

    def send_messages(self, email_messages):
        error = getattr(settings, "TEST_EMAIL_ERROR", None)
        if error is not None:
            raise error
        from django.core.mail.backends.locmem import EmailBackend

        return EmailBackend().send_messages(email_messages)
