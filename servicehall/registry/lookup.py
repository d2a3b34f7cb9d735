"""The read side of the registry for people: station look-ups and a resident's own record.

Every function here writes exactly one audit entry per read (two when numbers are revealed),
in one transaction with the read, including reads that find nothing. Views never query
Person or Household themselves.

Who may do what (decided here, enforced here and by the views):

* Look-up (LOOKUP_ROLES: window clerk, reviewer, approver, supervisor): by ID number, or by
  name + birth date, with a purpose (事由). Only persons in the staff member's jurisdiction
  are searched (station -> its persons, district branch -> its district, bureau -> the
  city); a person outside it is "not found", exactly like a number nobody bears.
* Masking: staff see names in full (that is what they look up) but ID numbers and phones
  masked: 210102********1234, 137****0001.
* Full view (FULL_VIEW_ROLES: approver and supervisor only): the unmasked ID number and
  phone, shown once, when a second purpose for revealing them is stated. It is audited as
  `personal_data.read` with the fields shown, next to the `registry.lookup` entry. A clerk
  or reviewer asking for it is refused (PermissionDenied) before anything is read.
* A resident (a signed-in user whose real-name-verified CitizenProfile.id_number is a
  registered person) sees their own household card: themselves in full, the other members
  masked (name, ID number, phone, and birth year only). Audited as `registry.self_read`.

What the audit stores about a query: its kind, the ID number masked and as a keyed hash
(HMAC with the server's SECRET_KEY, so an auditor with the system can check "was this number
searched?" while a copy of the audit table alone cannot be brute-forced back into numbers —
an unkeyed SHA-256 of an 18-digit ID could be, the space is only ~10^11), the name masked,
and the primary keys of the persons shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from servicehall.accounts.models import Role
from servicehall.accounts.rules import jurisdiction_filter
from servicehall.core import audit
from servicehall.core.idnumbers import normalize_id_number
from servicehall.core.masking import mask_id_number, mask_name, mask_phone

from .models import Household, Person, PersonStatus

LOOKUP_ROLES = (Role.WINDOW_CLERK, Role.REVIEWER, Role.APPROVER, Role.SUPERVISOR)
FULL_VIEW_ROLES = (Role.APPROVER, Role.SUPERVISOR)
MAX_RESULTS = 50  # name + birth date is rarely more than a handful; the page stays short
SELF_READ_PURPOSE = "本人查询户籍信息"  # stored as written, whatever the interface language
REVEALED_FIELDS = ("id_number", "phone")

__all__ = [
    "FULL_VIEW_ROLES",
    "LOOKUP_ROLES",
    "HouseholdCard",
    "LookupResult",
    "MemberRow",
    "can_look_up",
    "can_view_full",
    "household_card",
    "keyed_hash",
    "look_up_by_id_number",
    "look_up_by_name",
    "own_household",
]


def can_look_up(user) -> bool:
    return bool(getattr(user, "is_staff_member", False) and user.has_role(*LOOKUP_ROLES))


def can_view_full(user) -> bool:
    return bool(getattr(user, "is_staff_member", False) and user.has_role(*FULL_VIEW_ROLES))


def keyed_hash(*parts: str) -> str:
    """A keyed digest for the audit log: correlatable inside the system, not reversible."""
    return salted_hmac("servicehall.registry.lookup", "|".join(parts)).hexdigest()[:32]


@dataclass(frozen=True)
class MemberRow:
    """One person as a page may show them: every personal field already masked or not."""

    pk: int
    household_id: int
    name: str
    gender: str
    ethnicity: str
    birth: str
    id_number: str
    phone: str
    relation: str
    status: str
    status_label: str
    address: str
    district: str
    station: str
    former_names: tuple[str, ...] = ()
    is_self: bool = False


@dataclass(frozen=True)
class LookupResult:
    rows: list[MemberRow]
    full: bool
    purpose: str


@dataclass(frozen=True)
class HouseholdCard:
    household: Household
    members: list[MemberRow] = field(default_factory=list)
    full: bool = False


def _persons():
    return Person.objects.select_related("district", "station")


def _row(person: Person, *, full: bool, is_self: bool = False, others_masked: bool = False):
    """`others_masked`: a resident's view of a family member (name and birth date too)."""
    hide_all = others_masked and not is_self
    return MemberRow(
        pk=person.pk,
        household_id=person.household_id,
        name=mask_name(person.name) if hide_all else person.name,
        gender=person.get_gender_display(),
        ethnicity=person.ethnicity,
        birth=str(person.birth_date.year) if hide_all else person.birth_date.isoformat(),
        id_number=person.id_number if full or is_self else mask_id_number(person.id_number),
        phone=person.phone if full or is_self else mask_phone(person.phone),
        relation=person.relation,
        status=person.status,
        status_label=person.get_status_display(),
        address="" if hide_all else person.address,
        district=person.district.name,
        station=person.station.name if person.station_id else "",
        former_names=() if hide_all else tuple(person.former_names or ()),
        is_self=is_self,
    )


def _check_staff(actor, reveal_reason: str) -> bool:
    """True when this read is a full view. Refuses before anything is read or recorded."""
    if not can_look_up(actor):
        raise PermissionDenied(_("您的角色无权查询户籍信息。"))
    if reveal_reason.strip() and not can_view_full(actor):
        raise PermissionDenied(_("您的角色无权查看完整身份号码和电话。"))
    return bool(reveal_reason.strip())


def _record(actor, *, ip, purpose, query, persons, full, reveal_reason, target=None):
    entry_target = target if target is not None else (persons[0] if len(persons) == 1 else None)
    audit.record(
        actor=actor,
        action="registry.lookup",
        target=entry_target,
        target_repr=_repr(entry_target),
        purpose=purpose,
        ip=ip,
        details={**query, "found": len(persons), "results": [p.pk for p in persons]},
    )
    if full and persons:
        audit.record(
            actor=actor,
            action="personal_data.read",
            target=entry_target,
            target_repr=_repr(entry_target),
            purpose=reveal_reason.strip(),
            ip=ip,
            details={
                "fields": sorted(REVEALED_FIELDS),
                "lookup_purpose": purpose,
                "results": [p.pk for p in persons],
            },
        )


def _repr(target) -> str:
    # str(Person) is already anonymous; a household's number is not personal.
    return "" if target is None else str(target)


def look_up_by_id_number(
    *, actor, id_number: str, purpose: str, reveal_reason: str = "", ip: str | None = None
) -> LookupResult:
    """Persons (any status) bearing `id_number` in the actor's jurisdiction."""
    full = _check_staff(actor, reveal_reason)
    number = normalize_id_number(id_number)
    query = {
        "query": "id_number",
        "id_number_masked": mask_id_number(number),
        "id_number_hmac": keyed_hash("id", number),
    }
    with transaction.atomic():
        persons = list(
            _scoped(actor).filter(id_number=number).order_by("status", "-updated_at")[:MAX_RESULTS]
        )
        _record(
            actor,
            ip=ip,
            purpose=purpose,
            query=query,
            persons=persons,
            full=full,
            reveal_reason=reveal_reason,
        )
    return LookupResult([_row(p, full=full) for p in persons], full, purpose)


def look_up_by_name(
    *,
    actor,
    name: str,
    birth_date: dt.date,
    purpose: str,
    reveal_reason: str = "",
    ip: str | None = None,
) -> LookupResult:
    """Persons (any status) with exactly this name and birth date in the jurisdiction."""
    full = _check_staff(actor, reveal_reason)
    query = {
        "query": "name_birth_date",
        "name_masked": mask_name(name),
        "birth_year": birth_date.year,
        "name_birth_hmac": keyed_hash("name", name, birth_date.isoformat()),
    }
    with transaction.atomic():
        persons = list(
            _scoped(actor)
            .filter(name=name, birth_date=birth_date)
            .order_by("status", "id_number")[:MAX_RESULTS]
        )
        _record(
            actor,
            ip=ip,
            purpose=purpose,
            query=query,
            persons=persons,
            full=full,
            reveal_reason=reveal_reason,
        )
    return LookupResult([_row(p, full=full) for p in persons], full, purpose)


def _scoped(actor):
    return jurisdiction_filter(
        actor, _persons(), station_field="station", district_field="district"
    )


def household_card(
    *, actor, household_id: int, purpose: str, reveal_reason: str = "", ip: str | None = None
) -> HouseholdCard | None:
    """The card of a household in the actor's jurisdiction, or None (audited either way)."""
    full = _check_staff(actor, reveal_reason)
    households = jurisdiction_filter(
        actor,
        Household.objects.select_related("district", "station"),
        station_field="station",
        district_field="district",
    )
    with transaction.atomic():
        household = households.filter(pk=household_id).first()
        members = list(_members(household)) if household else []
        _record(
            actor,
            ip=ip,
            purpose=purpose,
            query={"query": "household", "household_id": household_id},
            persons=members,
            full=full,
            reveal_reason=reveal_reason,
            target=household,
        )
    if household is None:
        return None
    return HouseholdCard(household, [_row(p, full=full) for p in members], full)


def _members(household: Household) -> list[Person]:
    # Live members first, the head of household first among them, then by age; a card
    # has a handful of rows, so sorting in Python keeps the query plain.
    return sorted(
        _persons().filter(household=household),
        key=lambda p: (p.status != PersonStatus.REGISTERED, p.relation != "户主", p.birth_date),
    )


def own_household(*, actor, ip: str | None = None) -> HouseholdCard | None:
    """The signed-in resident's household, or None when they are not a registered person.

    Only a real-name-verified profile counts: self-registration does not check that the ID
    number is the registrant's own, and an unverified claim must not open someone's card.
    """
    profile = getattr(actor, "citizen_profile_or_none", None)
    if profile is None or profile.verified_at is None:
        raise PermissionDenied(_("您的账号尚未完成实名核验，暂不能查询户籍信息。"))
    with transaction.atomic():
        me = (
            _persons()
            .select_related("household", "household__district", "household__station")
            .filter(id_number=profile.id_number, status=PersonStatus.REGISTERED)
            .first()
        )
        members = list(_members(me.household)) if me else []
        audit.record(
            actor=actor,
            action="registry.self_read",
            target=me.household if me else None,
            purpose=SELF_READ_PURPOSE,
            ip=ip,
            details={"found": bool(me), "results": [p.pk for p in members]},
        )
    if me is None:
        return None
    rows = [_row(p, full=False, is_self=p.pk == me.pk, others_masked=True) for p in members]
    return HouseholdCard(me.household, rows, False)
