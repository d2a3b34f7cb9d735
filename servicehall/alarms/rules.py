"""Who may act on incidents, units and 12110 conversations.

No new role. Call-takers and dispatchers hold the existing `dispatcher` role (接警调度员);
what they may work is decided by their unit, like every jurisdiction in the hall:

* Desks come from their department (conf ALARM_DESK_DEPARTMENTS): the command centre
  (指挥中心, the unified 三台合一 centre) works police, fire and traffic; the patrol police
  (巡特警) police; fire supervision (消防) fire; traffic (交警) traffic. A staff member of
  any other department works no desk.
* District: a dispatcher attached to a district (or a station in it) works that district's
  incidents and those not yet located in any district (someone must locate them); bureau-
  level dispatchers work the whole city. Units: a district-level dispatcher sends only the
  district's units, a bureau-level one any unit (mutual aid across districts).
* An incident is worked by a dispatcher who holds at least one of its desks: a traffic
  dispatcher cannot act on a fire-only incident until it is classified as traffic too.
* A unit is sent by a dispatcher holding the unit's desk, and only to an incident on that
  desk.
* Figures are read by dispatchers and by supervisors of a desk department.
"""

from __future__ import annotations

import rules
from django.db.models import Q

from servicehall.accounts.rules import has_role, is_otp_verified, is_staff_member

from .conf import setting
from .models import LINE_DESK, Incident, Unit, desk_filter

ROLES = ("dispatcher",)
FIGURE_ROLES = ("dispatcher", "supervisor")

is_dispatcher = has_role(*ROLES)


def desks_of(user) -> frozenset[str]:
    """The desks a staff member works (empty for anyone else)."""
    if not is_staff_member(user):
        return frozenset()
    profile = user.staff_profile_or_none
    if profile is None or profile.department_id is None:
        return frozenset()
    code = profile.department.code
    return frozenset(str(desk) for desk in setting("ALARM_DESK_DEPARTMENTS").get(code, ()))


def district_of(user) -> int | None:
    """The district a staff member is attached to (directly or by station); None = city."""
    profile = user.staff_profile_or_none
    if profile is None:
        return None
    if profile.district_id is not None:
        return profile.district_id
    return profile.station.district_id if profile.station_id else None


def _district_ok(user, district_id) -> bool:
    own = district_of(user)
    return own is None or district_id is None or district_id == own


def may_take(user, line: str) -> bool:
    """Answer a call on `line` (110/119/122) and create its incident."""
    desk = LINE_DESK.get(str(line))
    return bool(is_dispatcher(user) and desk is not None and str(desk) in desks_of(user))


def may_take_desks(user, desks) -> bool:
    """Create an incident on `desks` (escalating a letter): holds one of them."""
    return bool(is_dispatcher(user) and desks_of(user) & {str(d) for d in desks})


@rules.predicate
def may_work(user, incident: Incident) -> bool:
    """Act on `incident`: answer, classify, locate, merge, reply by SMS, close."""
    if incident is None or not is_dispatcher(user):
        return False
    return bool(desks_of(user) & incident.desks) and _district_ok(user, incident.district_id)


@rules.predicate
def may_send(user, unit: Unit) -> bool:
    """Send `unit` or record its status (its desk, and its district for district staff)."""
    if unit is None or not is_dispatcher(user):
        return False
    own = district_of(user)
    return unit.desk in desks_of(user) and (own is None or unit.district_id == own)


def may_dispatch(user, incident: Incident, unit: Unit) -> bool:
    return bool(may_work(user, incident) and may_send(user, unit) and unit.desk in incident.desks)


@rules.predicate
def may_view_figures(user) -> bool:
    return bool(has_role(*FIGURE_ROLES)(user) and desks_of(user))


def visible_incidents(user, queryset=None):
    """The incidents a dispatcher's console shows: their desks, their district (plus those
    not located yet)."""
    queryset = Incident.objects.all() if queryset is None else queryset
    desks = desks_of(user)
    if not is_dispatcher(user) or not desks:
        return queryset.none()
    queryset = queryset.filter(desk_filter(desks))
    own = district_of(user)
    if own is not None:
        queryset = queryset.filter(Q(district_id=own) | Q(district_id__isnull=True))
    return queryset


verified_staff = is_staff_member & is_otp_verified

rules.add_perm("alarms.take_calls", verified_staff & is_dispatcher)
rules.add_perm("alarms.work_incident", verified_staff & may_work)
rules.add_perm("alarms.view_figures", verified_staff & may_view_figures)
