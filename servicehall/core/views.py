from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from servicehall.catalog import queries as catalog

from .context_processors import LARGE_TYPE_COOKIE


def home(request):
    return render(
        request,
        "core/home.html",
        {"featured": catalog.featured_items(), "life_events": catalog.life_events_with_counts()},
    )


def _safe_next(request, fallback="/"):
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or fallback
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


@require_POST
def toggle_large_type(request):
    """Elderly-friendly large type, kept in a cookie so every page renders it without script."""
    response = HttpResponseRedirect(_safe_next(request))
    turn_on = request.COOKIES.get(LARGE_TYPE_COOKIE) != "1"
    response.set_cookie(
        LARGE_TYPE_COOKIE, "1" if turn_on else "0", max_age=365 * 24 * 3600, samesite="Lax"
    )
    return response
