"""Machine endpoints of the 12110 SMS gateways (see gateways_http for the contract).

Outside the session and CSRF machinery: the caller is a provider's server authenticated by
an HMAC signature, not a browser. The view only reads the raw body and answers; the work is
in gateways_http.handle_callback.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .gateways_http import handle_callback


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest, gateway: str) -> JsonResponse:
    status, answer = handle_callback(gateway, request.headers, request.body)
    response = JsonResponse(answer, status=status)
    if status == 503:
        response["Retry-After"] = "30"
    return response
