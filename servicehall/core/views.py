from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .context_processors import LARGE_TYPE_COOKIE


def home(request):
    return render(request, "core/home.html")


def _safe_next(request, fallback="/"):
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or fallback
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


@require_POST
def toggle_large_type(request):
    response = HttpResponseRedirect(_safe_next(request))
    turn_on = request.COOKIES.get(LARGE_TYPE_COOKIE) != "1"
    response.set_cookie(LARGE_TYPE_COOKIE, "1" if turn_on else "0", max_age=365 * 24 * 3600, samesite="Lax")
    return response
