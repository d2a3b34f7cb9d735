"""Audit lockouts of staff accounts (django-axes' user_locked_out signal)."""

from axes.signals import user_locked_out
from django.dispatch import receiver

from .models import User


@receiver(user_locked_out, dispatch_uid="accounts_audit_staff_lockout")
def audit_staff_lockout(sender, request, username, ip_address, **kwargs):
    from . import signin

    user = User.objects.filter(username=username, kind=User.Kind.STAFF).first()
    if user is not None and request is not None:
        signin.audit_signin(request, user=user, action="auth.lockout", success=False)
