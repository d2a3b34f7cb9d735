"""Read side for applicants and the public progress page."""

from django.db.models import Q

from servicehall.accounts.models import EnterpriseMembership

from . import deadlines, flows
from .models import Case


def cases_of(user):
    """The user's own cases and those of enterprises they act for, newest first."""
    enterprises = EnterpriseMembership.objects.filter(user=user, is_active=True).values(
        "enterprise"
    )
    return (
        Case.objects.filter(Q(submitted_by=user) | Q(enterprise__in=enterprises))
        .exclude(status=flows.Status.WITHDRAWN)
        .select_related("item")
        .order_by("-created_at")
    )


def case_page(case: Case) -> dict:
    return {
        "case": case,
        "events": case.events.all(),
        "correction": getattr(case, "correction", None),
        "attachments": case.attachments.all(),
        "rating": getattr(case, "rating", None),
        "can_withdraw": flows.target(case.flow, flows.Action.WITHDRAW, case.status) is not None,
    }


def case_for_progress(number: str, phone: str) -> Case | None:
    return (
        Case.objects.filter(number=number, applicant_phone=phone)
        .exclude(status=flows.Status.DRAFT)
        .select_related("item", "item__department")
        .first()
    )


def public_progress(case: Case) -> dict:
    """What anyone holding the number and phone may see: no names, IDs or form contents."""
    from servicehall.cases.workflow import today

    return {
        "case": case,
        "events": case.events.all(),
        "warning": deadlines.level_on(case, today()),
    }
