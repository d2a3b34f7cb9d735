"""WSGI entry point: the hall, with a lean lane for the public count APIs.

Anonymous, read-only JSON endpoints that answer from precomputed counts (the newborn
same-name query) are hit far more often than any page, and Django's full middleware chain
(sessions, authentication, second factor, lockout, messages, CSP, htmx) costs several times
what their database look-up does. Requests under settings.LEAN_API_PREFIXES are therefore
served by a second Django handler built with settings.LEAN_API_MIDDLEWARE only: the same
URLconf, views, settings, database connections and error handling, no session or user.
A view served there must not rely on request.user or request.session.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
hall = get_wsgi_application()

from servicehall.core.lean import LeanWSGIHandler, lean_dispatch  # noqa: E402  (needs setup)

application = lean_dispatch(hall, LeanWSGIHandler())
