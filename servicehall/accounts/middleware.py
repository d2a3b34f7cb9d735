"""Staff idle timeout: a staff session unused for settings.STAFF_IDLE_TIMEOUT is signed out.

Citizens keep their ordinary session (SESSION_COOKIE_AGE). The last-seen time is stored in
the session and refreshed at most every 30 seconds, so an active staff member does not cost
a session write per request. Must come after AuthenticationMiddleware.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url

from .signin import STAFF_SEEN_KEY

REFRESH_EVERY = 30  # seconds


class StaffSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            response = self._check(request, session)
            if response is not None:
                return response
        return self.get_response(request)

    def _check(self, request, session):
        now = time.time()
        last_seen = session.get(STAFF_SEEN_KEY)
        if last_seen is None:
            if getattr(request.user, "is_staff_member", False):
                session[STAFF_SEEN_KEY] = now
            return None
        if now - last_seen > settings.STAFF_IDLE_TIMEOUT.total_seconds():
            return self._sign_out(request, idle_seconds=int(now - last_seen))
        # A page's background read (the dispatch console's live refresh) is no activity.
        if now - last_seen >= REFRESH_EVERY and not request.headers.get("X-Background-Refresh"):
            session[STAFF_SEEN_KEY] = now
        return None

    def _sign_out(self, request, *, idle_seconds: int):
        from servicehall.core import audit

        user = request.user
        if user.is_authenticated:
            audit.record(
                actor=user,
                action="auth.session_timeout",
                target=user,
                ip=audit.client_ip(request),
                details={"idle_seconds": idle_seconds},
            )
        logout(request)
        login_url = resolve_url(settings.LOGIN_URL)
        query = {"timeout": "1"}
        if request.method == "GET":
            query["next"] = request.get_full_path()
        target = f"{login_url}?{urlencode(query)}"
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
