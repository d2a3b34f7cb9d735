"""System checks for the notification settings: a broken gateway path or a lease shorter
than a send would otherwise only show up as messages that never leave."""

from urllib.parse import urlsplit

from django.core.checks import Error, Warning, register
from django.utils.module_loading import import_string

from .conf import setting

GATEWAY_SETTINGS = ("NOTIFY_SMS_GATEWAY", "NOTIFY_EMAIL_GATEWAY")


@register()
def notify_settings(app_configs, **kwargs):
    errors = []
    for name in GATEWAY_SETTINGS:
        path = setting(name)
        try:
            gateway = import_string(path)
        except ImportError as exc:
            errors.append(
                Error(
                    f"{name} = {path!r} cannot be imported: {exc}",
                    hint="Give the dotted path of a gateway class, e.g. "
                    "servicehall.notify.gateways.ConsoleGateway.",
                    id="servicehall.notify.E001",
                )
            )
            continue
        if not callable(getattr(gateway, "send", None)):
            errors.append(
                Error(f"{name} = {path!r} has no send() method", id="servicehall.notify.E002")
            )
    timeout = float(setting("NOTIFY_GATEWAY_TIMEOUT_SECONDS"))
    lease = float(setting("NOTIFY_SENDING_TIMEOUT_SECONDS"))
    if lease < 2 * timeout + 10:
        # deliver_due only starts a send with a gateway timeout (+5 s) of lease left.
        errors.append(
            Error(
                f"NOTIFY_SENDING_TIMEOUT_SECONDS ({lease:g}) must be at least twice "
                f"NOTIFY_GATEWAY_TIMEOUT_SECONDS ({timeout:g}) plus 10",
                id="servicehall.notify.E003",
            )
        )
    if int(setting("NOTIFY_MAX_ATTEMPTS")) < 1:
        errors.append(Error("NOTIFY_MAX_ATTEMPTS must be at least 1", id="servicehall.notify.E004"))
    errors.extend(_http_sms_warnings())
    return errors


def _http_sms_warnings():
    from .gateways import HttpSmsGateway

    try:
        gateway = import_string(setting("NOTIFY_SMS_GATEWAY"))
    except ImportError:
        return []
    if not (isinstance(gateway, type) and issubclass(gateway, HttpSmsGateway)):
        return []
    url = setting("NOTIFY_SMS_HTTP_URL")
    warnings = []
    if not url:
        warnings.append(
            Warning(
                "NOTIFY_SMS_GATEWAY is the HTTP gateway but NOTIFY_SMS_HTTP_URL is empty: "
                "SMS will wait in the outbox until it is set",
                id="servicehall.notify.W001",
            )
        )
    elif urlsplit(url).scheme == "http" and urlsplit(url).hostname not in {
        "127.0.0.1",
        "localhost",
        "::1",
    }:
        # The API key and every phone number and text would cross the network in clear.
        warnings.append(
            Warning(
                "NOTIFY_SMS_HTTP_URL is plain http to another host; use https",
                id="servicehall.notify.W002",
            )
        )
    if not setting("NOTIFY_SMS_RECEIPT_SECRET"):
        warnings.append(
            Warning(
                "NOTIFY_SMS_RECEIPT_SECRET is empty: delivery receipts are refused and SMS "
                "stay 'sent', never 'delivered'",
                id="servicehall.notify.W003",
            )
        )
    return warnings
