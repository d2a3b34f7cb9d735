"""A resident's own household card (我的户籍), read-only, audited as a self-read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from servicehall.core.audit import client_ip
from servicehall.core.permissions import forbidden

from . import lookup


@login_required
@require_GET
def my_household(request):
    """Members masked except the resident; staff and hotel accounts have no household here."""
    if request.user.is_staff_member or request.user.is_hotel:
        return forbidden(request, _("此页面供居民本人查询自己的户籍信息。"))
    try:
        card = lookup.own_household(actor=request.user, ip=client_ip(request))
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    response = render(request, "registry/resident/household.html", {"card": card})
    add_never_cache_headers(response)
    return response
