"""System checks for core settings (registered on import from models.py)."""

from django.conf import settings
from django.core.checks import Error, register

# Same floor as servicehall.core.audit.MIN_RETENTION_DAYS (six months in any calendar).
MIN_RETENTION_DAYS = 184


@register()
def audit_retention(app_configs, **kwargs):
    days = getattr(settings, "AUDIT_RETENTION_DAYS", None)
    if not isinstance(days, int) or days < MIN_RETENTION_DAYS:
        return [
            Error(
                f"AUDIT_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS} (six months); "
                f"it is {days!r}.",
                hint="The audit log must be kept for at least six months.",
                id="servicehall.core.E001",
            )
        ]
    return []
