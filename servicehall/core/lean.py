"""The lean lane: a Django handler with a short middleware list for public count APIs.

See config/wsgi.py for why. The handler is an ordinary WSGIHandler whose middleware chain is
built from settings.LEAN_API_MIDDLEWARE instead of settings.MIDDLEWARE; everything else
(URL resolution, views, exception handling, signals closing old connections) is Django's.
"""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler


class LeanWSGIHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        # BaseHandler reads settings.MIDDLEWARE; swap the list only while the chain is built
        # (once, at start-up, before any request is served).
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.LEAN_API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


def lean_dispatch(hall, lean):
    """A WSGI app sending paths under settings.LEAN_API_PREFIXES to `lean`, the rest to
    `hall`."""
    prefixes = tuple(settings.LEAN_API_PREFIXES)

    def application(environ, start_response):
        app = lean if environ.get("PATH_INFO", "").startswith(prefixes) else hall
        return app(environ, start_response)

    return application
