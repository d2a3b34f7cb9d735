"""QR codes that take a phone straight to an item's guide (扩大使用“二维码”)."""

import io

import segno
from django.conf import settings


def absolute_url(request, path: str) -> str:
    """SERVICEHALL_BASE_URL when set (behind proxies, in print), else the request's host."""
    if settings.SERVICEHALL_BASE_URL:
        return settings.SERVICEHALL_BASE_URL + path
    return request.build_absolute_uri(path)


def render(content: str, kind: str) -> bytes:
    # Error correction M survives a smudged print-out; a 4-module quiet zone is the standard.
    code = segno.make_qr(content, error="m")
    out = io.BytesIO()
    if kind == "svg":
        code.save(out, kind="svg", scale=8, border=4, xmldecl=True, svgns=True)
    else:
        code.save(out, kind="png", scale=10, border=4)
    return out.getvalue()
