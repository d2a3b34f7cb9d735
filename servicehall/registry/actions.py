"""The registry's verbs: the only code that changes who is on the registry.

Each verb takes a keyword-only `actor` (a staff user, or None for system work), runs in one
transaction, changes the person first and then the name counts (servicehall.registry.names
.adjust, which locks the affected NameStat/PinyinStat rows), and writes an audit entry. The
person-first order matters: a rebuild of the counts holds a SHARE lock on the person table,
so a verb either finishes before the rebuild counts, or waits and then adjusts the new counts.

- record_birth(*, actor, household, name, gender, birth_date, id_number=None, ...) -> Person
- record_death(*, actor, person, date) -> Person
- record_move_out(*, actor, person, date=None) -> Person
- record_move_in(*, actor, household, id_number, name, gender, birth_date, ...) -> Person
- record_transfer(*, actor, person, household) -> Person  (a move within the city)
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.core import audit
from servicehall.core.idnumbers import (
    id_number_birth_date,
    id_number_error,
    id_number_gender,
    make_id_number,
    normalize_id_number,
)
from servicehall.core.masking import mask_id_number

from . import names
from .models import Gender, Household, Person, PersonStatus


class RegistryError(Exception):
    """A change the registry refuses; the message is for the user (Chinese)."""


GENDER_WORDS = {"男": Gender.MALE, "女": Gender.FEMALE, "M": Gender.MALE, "F": Gender.FEMALE}


def _gender(value) -> str:
    try:
        return GENDER_WORDS[str(value)]
    except KeyError:
        raise RegistryError(_("性别应为“男”或“女”。")) from None


def _name(value) -> str:
    try:
        return names.validate_name(value)
    except ValidationError as error:
        raise RegistryError(error.messages[0]) from None


def _counted(person: Person, delta: int) -> None:
    names.adjust(
        name=person.name,
        district_code=person.district.code,
        birth_year=person.birth_date.year,
        gender=person.gender,
        delta=delta,
    )


def _audit(actor, action: str, person: Person, **details) -> None:
    audit.record(
        actor=actor,
        action=action,
        target=person,
        target_repr=f"Person {person.pk} {mask_id_number(person.id_number)}",
        details=details,
    )


def _checked_id_number(id_number: str, *, birth_date: dt.date, gender: str) -> str:
    number = normalize_id_number(id_number)
    error = id_number_error(number)
    if error:
        raise RegistryError(str(error))
    if id_number_birth_date(number) != birth_date:
        raise RegistryError(_("身份证号码中的出生日期与填写的出生日期不一致。"))
    if id_number_gender(number) != gender:
        raise RegistryError(_("身份证号码中的性别码与填写的性别不一致。"))
    if Person.objects.filter(id_number=number, status=PersonStatus.REGISTERED).exists():
        raise RegistryError(_("该身份证号码已有在册户籍记录。"))
    return number


def _free_id_number(region: str, birth_date: dt.date, gender: str, taken: set[str]) -> str:
    """The lowest sequence code (顺序码) of the right parity — odd for men, even for women —
    that no card, live or not, has used for this region and date: numbers are never reused."""
    prefix = f"{region}{birth_date:%Y%m%d}"
    # A range, which the plain id_number index serves (a LIKE prefix would need a
    # pattern-ops index): every number with this prefix lies between prefix+"000" and
    # prefix+"999X", since digits sort before letters in C and the usual locales.
    same_day = Person.objects.filter(
        id_number__gte=f"{prefix}000", id_number__lte=f"{prefix}999X"
    ).filter(id_number__startswith=prefix)
    used = taken | {number[14:17] for number in same_day.values_list("id_number", flat=True)}
    parity = 1 if gender == Gender.MALE else 0
    for sequence in range(parity, 1000, 2):
        if f"{sequence:03d}" not in used:
            return make_id_number(region, birth_date, sequence)
    raise RegistryError(_("该出生日期的顺序码已用尽，请联系系统管理员。"))


def _new_person(*, household: Household, id_number: str | None, **fields) -> Person:
    """Insert a registered card. Without an ID number one is assigned; two clerks registering
    babies born the same day in the same district may pick the same sequence code, so the
    loser of that race (the unique live-card constraint) takes the next free one."""
    base = {
        "household": household,
        "address": household.address,
        "district": household.district,
        "station": household.station,
        "status": PersonStatus.REGISTERED,
        **fields,
    }
    if id_number:
        return Person.objects.create(id_number=id_number, **base)
    taken: set[str] = set()
    for _attempt in range(20):
        number = _free_id_number(
            household.district.code, fields["birth_date"], fields["gender"], taken
        )
        try:
            with transaction.atomic():
                return Person.objects.create(id_number=number, **base)
        except IntegrityError:
            taken.add(number[14:17])
    raise RegistryError(_("暂时无法分配身份证号码，请稍后重试。"))


@transaction.atomic
def record_birth(
    *,
    actor,
    household: Household,
    name: str,
    gender: str,
    birth_date: dt.date,
    id_number: str | None = None,
    ethnicity: str = "汉族",
    relation: str = "",
) -> Person:
    """出生登记: a newborn joins a household; an ID number is assigned unless given."""
    name, gender = _name(name), _gender(gender)
    today = timezone.localdate()
    if birth_date > today:
        raise RegistryError(_("出生日期不能晚于今天。"))
    if id_number:
        id_number = _checked_id_number(id_number, birth_date=birth_date, gender=gender)
    household = Household.objects.select_related("district", "station").get(pk=household.pk)
    person = _new_person(
        household=household,
        id_number=id_number,
        name=name,
        gender=gender,
        birth_date=birth_date,
        ethnicity=ethnicity or "汉族",
        relation=relation or ("子" if gender == Gender.MALE else "女"),
    )
    _counted(person, +1)
    _audit(actor, "registry.birth", person, household=household.number)
    return person


def _locked_live(person: Person) -> Person:
    # of=("self",): lock the card only. Locking the joined district row too would block every
    # other clerk's insert into that district (its foreign-key check) until this commits.
    locked = (
        Person.objects.select_for_update(of=("self",))
        .select_related("district", "household")
        .get(pk=person.pk)
    )
    if locked.status != PersonStatus.REGISTERED:
        raise RegistryError(
            _("该户籍记录当前状态为“%(status)s”，不能办理。")
            % {"status": PersonStatus(locked.status).label}
        )
    return locked


@transaction.atomic
def record_death(*, actor, person: Person, date: dt.date) -> Person:
    """死亡注销: the card stays, marked deceased; the person leaves the counts."""
    if date > timezone.localdate():
        raise RegistryError(_("死亡日期不能晚于今天。"))
    person = _locked_live(person)
    if date < person.birth_date:
        raise RegistryError(_("死亡日期不能早于出生日期。"))
    person.status = PersonStatus.DECEASED
    person.save(update_fields=["status", "updated_at"])
    _counted(person, -1)
    _audit(actor, "registry.death", person, date=date.isoformat())
    return person


@transaction.atomic
def record_move_out(*, actor, person: Person, date: dt.date | None = None) -> Person:
    """迁出: the person's registration moves to another city; the card stays, marked."""
    person = _locked_live(person)
    person.status = PersonStatus.MOVED_OUT
    person.save(update_fields=["status", "updated_at"])
    _counted(person, -1)
    _audit(actor, "registry.move_out", person, date=(date or timezone.localdate()).isoformat())
    return person


@transaction.atomic
def record_move_in(
    *,
    actor,
    household: Household,
    id_number: str,
    name: str,
    gender: str,
    birth_date: dt.date,
    ethnicity: str = "汉族",
    relation: str = "",
    former_names: list[str] | None = None,
) -> Person:
    """迁入: someone registered elsewhere (or who once moved out) gets a live card here."""
    name, gender = _name(name), _gender(gender)
    number = _checked_id_number(id_number, birth_date=birth_date, gender=gender)
    household = Household.objects.select_related("district", "station").get(pk=household.pk)
    try:
        with transaction.atomic():
            person = _new_person(
                household=household,
                id_number=number,
                name=name,
                gender=gender,
                birth_date=birth_date,
                ethnicity=ethnicity or "汉族",
                relation=relation,
                former_names=list(former_names or []),
            )
    except IntegrityError:  # registered a moment ago by someone else
        raise RegistryError(_("该身份证号码已有在册户籍记录。")) from None
    _counted(person, +1)
    _audit(actor, "registry.move_in", person, household=household.number)
    return person


@transaction.atomic
def record_transfer(*, actor, person: Person, household: Household) -> Person:
    """市内迁移: a registered person moves to another household in the city; the counts
    move to the new district."""
    person = _locked_live(person)
    household = Household.objects.select_related("district", "station").get(pk=household.pk)
    if household.pk == person.household_id:
        raise RegistryError(_("迁入户与原户相同。"))
    from_household, from_district = person.household.number, person.district.code
    person.household = household
    person.address = household.address
    person.district = household.district
    person.station = household.station
    person.save(update_fields=["household", "address", "district", "station", "updated_at"])
    counted = {"name": person.name, "birth_year": person.birth_date.year, "gender": person.gender}
    names.adjust(district_code=from_district, delta=-1, **counted)
    names.adjust(district_code=household.district.code, delta=+1, **counted)
    _audit(
        actor,
        "registry.transfer",
        person,
        from_household=from_household,
        to_household=household.number,
    )
    return person


# --- birth registration cases (婴儿出生登记) ---------------------------------------------------

BIRTH_ITEM_CODE = "HZ-QR-001"
# Completion after these states adds the child; a denied case is completed without a birth.
_BIRTH_GRANTED_FROM = frozenset({"approved", "submitted"})


def _guardian_card(case) -> Person | None:
    for number in (case.applicant_id_number, (case.form_data or {}).get("guardian_id_number")):
        number = normalize_id_number(number)
        if number:
            card = (
                Person.objects.filter(id_number=number, status=PersonStatus.REGISTERED)
                .select_related("household")
                .first()
            )
            if card is not None:
                return card
    return None


def record_birth_for_case(*, actor, case) -> Person | None:
    """The registry side of completing a birth registration case: the child joins the
    household of the applicant (or of the guardian named on the form). When that cannot be
    done — no live card for the guardian, data the registry refuses, the child already on the
    card — the case still completes, and an unsuccessful audit entry says why, for the
    supervisor's list of births to enter by hand."""
    data = case.form_data or {}
    reason = ""
    person = None
    guardian = _guardian_card(case)
    if guardian is None:
        reason = "guardian_not_registered"
    else:
        try:
            birth_date = dt.date.fromisoformat(str(data.get("birth_date", "")))
            name = _name(data.get("child_name"))
            if Person.objects.filter(
                household=guardian.household,
                name=name,
                birth_date=birth_date,
                status=PersonStatus.REGISTERED,
            ).exists():
                reason = "already_registered"
            else:
                with transaction.atomic():
                    person = record_birth(
                        actor=actor,
                        household=guardian.household,
                        name=name,
                        gender=data.get("child_gender"),
                        birth_date=birth_date,
                    )
        except (ValueError, RegistryError) as error:
            reason = f"refused: {error}"
    if person is None:
        audit.record(
            actor=actor,
            action="registry.birth_not_recorded",
            target=case,
            success=False,
            details={"reason": reason[:200]},
        )
    return person


def on_case_event(sender, instance, created, raw=False, **kwargs) -> None:
    """post_save of cases.CaseEvent (connected in RegistryConfig.ready): a completed birth
    registration adds the child, inside the transaction that completes the case."""
    if raw or not created or instance.to_status != "completed":
        return
    if instance.from_status not in _BIRTH_GRANTED_FROM:
        return
    case = instance.case
    if case.item.code != BIRTH_ITEM_CODE:
        return
    record_birth_for_case(actor=instance.actor, case=case)
