"""Who may do what with cash-escort requests (predicates; the queryset form is
queries.visible_escorts).

* Requesters: a signed-in citizen with a real-name profile, or an enterprise agent acting for
  an enterprise they are an active agent of. They read and cancel their own requests only.
* The duty station answers: staff holding `dispatcher` (the station's duty desk, 值班) or
  `approver` (the station's leaders) accept, decline, dispatch, and record the start and the
  completion — within their jurisdiction (accounts.rules.in_jurisdiction: station staff
  their station, district-branch staff their district, bureau-level staff the city). The
  department does not matter: escort duty is the station's, whatever office an officer is in.
  No new role: a new one would need role administration for five verbs the duty desk already
  performs for alarms.
* Supervisors (`supervisor`) read the requests and the figures of their jurisdiction and are
  the ones an unanswered request is escalated to; they do not act on requests.
"""

from __future__ import annotations

from servicehall.accounts import rules as account_rules
from servicehall.accounts.rules import has_role

DUTY_ROLES = ("dispatcher", "approver")
SUPERVISOR_ROLES = ("supervisor",)
READER_ROLES = (*DUTY_ROLES, *SUPERVISOR_ROLES)


def may_request(user) -> bool:
    """A citizen with a real-name profile, or an enterprise agent."""
    if not account_rules.is_authenticated(user):
        return False
    if not (user.is_citizen or user.is_enterprise_agent):
        return False
    return user.citizen_profile_or_none is not None


def acts_for(user, enterprise) -> bool:
    return bool(
        user
        and getattr(user, "is_enterprise_agent", False)
        and account_rules.acts_for_enterprise(user, enterprise)
    )


def is_requester(user, escort) -> bool:
    return bool(
        escort is not None
        and account_rules.is_authenticated(user)
        and escort.requester_id == user.pk
    )


def can_read(user, escort) -> bool:
    """Staff of a reading role whose jurisdiction holds the request's station."""
    return bool(has_role(*READER_ROLES)(user) and account_rules.in_jurisdiction(user, escort))


def can_handle(user, escort) -> bool:
    """The duty station's staff (or district/bureau staff above it) with a duty role."""
    return bool(has_role(*DUTY_ROLES)(user) and account_rules.in_jurisdiction(user, escort))


def is_supervisor(user) -> bool:
    return bool(has_role(*SUPERVISOR_ROLES)(user))
