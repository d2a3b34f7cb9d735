"""System checks for the notification settings: a broken gateway path or a lease shorter
than a send would otherwise only show up as messages that never leave."""

from django.core.checks import Error, register
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
    return errors
