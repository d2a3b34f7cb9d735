"""Who may do what with bookings.

* Citizens book for themselves (their real-name profile gives ID number, name and phone).
* Operators — staff holding `dispatcher` (the 96110/hotline seats) or `window_clerk` — book,
  cancel and rebook on a caller's behalf, at any office.
* Enterprise liaisons (active EnterpriseMembership) book visa-office slots for the
  enterprise's foreign staff, identified by passport number.
* Office staff (`window_clerk`) check people in, call numbers and record no-shows at offices
  they work at: staff of the office's department attached to the office's district, or
  bureau-level staff of that department (any of its offices).
* Closures are added by the office manager: a `supervisor` of the office's department who
  works at the office (same rule as above). No new role: a closure is a supervisory act on
  the office's service promise, supervisors already answer for the department's windows,
  and a new role would need role administration and training for one verb.
"""

from __future__ import annotations

from servicehall.accounts.rules import acts_for_enterprise, has_role

OPERATOR_ROLES = ("dispatcher", "window_clerk")
COUNTER_ROLES = ("window_clerk",)
MANAGER_ROLES = ("supervisor",)

is_operator = has_role(*OPERATOR_ROLES)


def works_at(user, office) -> bool:
    if not (user and user.is_authenticated and user.is_staff_member):
        return False
    profile = user.staff_profile_or_none
    if profile is None or profile.department_id != office.department_id:
        return False
    district_id = profile.district_id or (profile.station.district_id if profile.station else None)
    if district_id is None:
        return True  # bureau level: every office of the department
    return office.district_id == district_id


def can_serve(user, office) -> bool:
    return has_role(*COUNTER_ROLES)(user) and works_at(user, office)


def can_manage(user, office) -> bool:
    return has_role(*MANAGER_ROLES)(user) and works_at(user, office)


def is_liaison(user, enterprise) -> bool:
    return bool(user and getattr(user, "is_enterprise_agent", False)) and acts_for_enterprise(
        user, enterprise
    )


def may_handle_booking(user, booking) -> bool:
    """Cancel/rebook: the holder, the operator, or a liaison of the booking's enterprise."""
    if not (user and user.is_authenticated):
        return False
    if booking.account_id is not None and booking.account_id == user.pk:
        return True
    if booking.enterprise_id is not None and is_liaison(user, booking.enterprise):
        return True
    return bool(is_operator(user))
