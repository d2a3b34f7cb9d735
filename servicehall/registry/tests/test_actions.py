"""Registry verbs: births, deaths and moves keep the name counts equal to an independent count
over persons (and to a fresh rebuild), write audit entries, assign valid ID numbers, and do not
lose updates when clerks record the same name at the same moment. A completed birth
registration case adds the child."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connections

from servicehall.accounts.models import Department, District
from servicehall.accounts.organisation import sync_districts
from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory, district
from servicehall.cases import workflow
from servicehall.catalog.models import ServiceItem
from servicehall.core.idnumbers import (
    id_number_birth_date,
    id_number_gender,
    is_valid_id_number,
    make_id_number,
)
from servicehall.core.models import AuditEntry
from servicehall.registry import actions, names
from servicehall.registry.actions import RegistryError
from servicehall.registry.models import NameStat, Person, PersonStatus
from servicehall.registry.tests.factories import HouseholdFactory, PersonFactory
from servicehall.registry.tests.test_names import (
    SAMPLE,
    assert_consistent,
    households,
    populate,
    stats_snapshot,
)

BORN = dt.date(2026, 3, 8)


@pytest.fixture
def city(catalogue):
    """The catalogue and the 13 districts (a transactional test's flush empties them)."""
    sync_districts(District)
    return catalogue


@pytest.fixture
def clerk(db):
    return StaffFactory(roles=["window_clerk"], department=Department.objects.get(code="huzheng"))


@pytest.fixture
def registry(city):
    populate()
    names.rebuild()
    return households()


def rebuilt_equals_incremental():
    incremental = stats_snapshot()
    names.rebuild()
    return stats_snapshot() == incremental


# --- ID numbers -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_birth_assigns_a_valid_id_number(clerk, registry):
    home = registry["210103"]
    # Sequence 001 (a boy) is taken by a card that is no longer live: numbers are never reused.
    PersonFactory(
        household=home,
        id_number=make_id_number("210103", BORN, 1),
        birth_date=BORN,
        gender="M",
        status=PersonStatus.DECEASED,
    )
    boy = actions.record_birth(
        actor=clerk, household=home, name="张伟", gender="男", birth_date=BORN
    )
    girl = actions.record_birth(
        actor=clerk, household=home, name="张薇", gender="女", birth_date=BORN
    )
    assert boy.id_number == make_id_number("210103", BORN, 3)
    assert girl.id_number == make_id_number("210103", BORN, 0)
    for person, gender in ((boy, "M"), (girl, "F")):
        assert is_valid_id_number(person.id_number)
        assert person.id_number[:6] == home.district.code
        assert id_number_birth_date(person.id_number) == BORN
        assert id_number_gender(person.id_number) == gender == person.gender
        assert person.status == PersonStatus.REGISTERED
        assert (person.household, person.district, person.address) == (
            home,
            home.district,
            home.address,
        )
    assert boy.relation == "子" and girl.relation == "女"


@pytest.mark.django_db
def test_birth_with_a_given_id_number_is_checked(clerk, registry):
    home = registry["210102"]
    good = make_id_number("210102", BORN, 11)
    with pytest.raises(RegistryError, match="出生日期"):
        actions.record_birth(
            actor=clerk,
            household=home,
            name="张伟",
            gender="男",
            birth_date=BORN - dt.timedelta(days=1),
            id_number=good,
        )
    with pytest.raises(RegistryError, match="性别"):
        actions.record_birth(
            actor=clerk, household=home, name="张薇", gender="女", birth_date=BORN, id_number=good
        )
    with pytest.raises(RegistryError, match="校验位"):
        actions.record_birth(
            actor=clerk,
            household=home,
            name="张伟",
            gender="男",
            birth_date=BORN,
            id_number=good[:-1] + ("0" if good[-1] != "0" else "1"),
        )
    person = actions.record_birth(
        actor=clerk, household=home, name="张伟", gender="男", birth_date=BORN, id_number=good
    )
    assert person.id_number == good
    with pytest.raises(RegistryError, match="在册"):
        actions.record_birth(
            actor=clerk, household=home, name="张伟", gender="男", birth_date=BORN, id_number=good
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "Tom"}, "不能包含字母"),
        ({"name": "张"}, "2至6个汉字"),
        ({"gender": "X"}, "性别"),
        ({"birth_date": dt.date(2999, 1, 1)}, "晚于今天"),
    ],
)
def test_birth_refuses_bad_data_and_changes_nothing(clerk, registry, fields, message):
    before = (Person.objects.count(), stats_snapshot())
    data = {"name": "张伟", "gender": "男", "birth_date": BORN, **fields}
    with pytest.raises(RegistryError, match=message):
        actions.record_birth(actor=clerk, household=registry["210102"], **data)
    assert (Person.objects.count(), stats_snapshot()) == before


# --- counts stay consistent ----------------------------------------------------------------------


@pytest.mark.django_db
def test_counts_follow_births_deaths_and_moves(clerk, registry):
    home, other, third = registry["210102"], registry["210103"], registry["210104"]
    # Births: an existing name, a new name, a homophone, a name in a new district.
    actions.record_birth(actor=clerk, household=home, name="张伟", gender="男", birth_date=BORN)
    actions.record_birth(actor=clerk, household=other, name="张伟", gender="女", birth_date=BORN)
    actions.record_birth(actor=clerk, household=home, name="张炜", gender="男", birth_date=BORN)
    actions.record_birth(actor=clerk, household=third, name="单明", gender="女", birth_date=BORN)
    assert_consistent([*SAMPLE, "张炜"])
    # A death and a move out.
    oldest = Person.objects.filter(name="张伟", status="registered").order_by("birth_date")[0]
    actions.record_death(actor=clerk, person=oldest, date=dt.date(2026, 1, 2))
    leaving = Person.objects.get(name="章伟")  # the only 章伟: the spelling disappears
    actions.record_move_out(actor=clerk, person=leaving)
    assert not NameStat.objects.filter(name="章伟").exists()
    assert_consistent([*SAMPLE, "张炜", "章伟"])
    # A move in (someone born elsewhere) and a move within the city.
    arriving = actions.record_move_in(
        actor=clerk,
        household=third,
        id_number=make_id_number("110101", dt.date(1988, 6, 1), 21),
        name="章伟",
        gender="男",
        birth_date=dt.date(1988, 6, 1),
    )
    assert arriving.district.code == "210104" and arriving.id_number.startswith("110101")
    actions.record_transfer(actor=clerk, person=arriving, household=home)
    assert_consistent([*SAMPLE, "张炜", "章伟"])
    assert names.query("章伟", "210102").district.total == 1
    assert names.query("章伟", "210104").district.total == 0
    # The incremental counts are exactly what a rebuild computes.
    assert rebuilt_equals_incremental()


@pytest.mark.django_db
def test_every_verb_is_audited(clerk, registry):
    start = AuditEntry.objects.count()
    baby = actions.record_birth(
        actor=clerk, household=registry["210102"], name="李想", gender="男", birth_date=BORN
    )
    actions.record_transfer(actor=clerk, person=baby, household=registry["210103"])
    actions.record_move_out(actor=clerk, person=baby)
    elder = Person.objects.filter(status="registered").first()
    actions.record_death(actor=clerk, person=elder, date=dt.date(2026, 2, 1))
    entries = list(AuditEntry.objects.order_by("sequence")[start:])
    assert [e.action for e in entries] == [
        "registry.birth",
        "registry.transfer",
        "registry.move_out",
        "registry.death",
    ]
    assert all(e.actor_id == clerk.pk for e in entries)
    assert entries[0].object_id == str(baby.pk)
    # The audit row does not spell out the ID number.
    assert baby.id_number not in entries[0].object_repr
    assert entries[3].details["date"] == "2026-02-01"


@pytest.mark.django_db
def test_dead_or_moved_persons_cannot_change_again(clerk, registry):
    person = Person.objects.filter(name="张伟", status="registered").first()
    actions.record_death(actor=clerk, person=person, date=dt.date(2026, 1, 1))
    before = stats_snapshot()
    with pytest.raises(RegistryError, match="已死亡"):
        actions.record_death(actor=clerk, person=person, date=dt.date(2026, 1, 1))
    with pytest.raises(RegistryError, match="已死亡"):
        actions.record_move_out(actor=clerk, person=person)
    with pytest.raises(RegistryError, match="不能早于出生日期"):
        actions.record_death(
            actor=clerk,
            person=Person.objects.filter(status="registered").first(),
            date=dt.date(1900, 1, 1),
        )
    assert stats_snapshot() == before


@pytest.mark.django_db
def test_move_in_of_a_live_card_is_refused(clerk, registry):
    live = Person.objects.filter(status="registered").first()
    with pytest.raises(RegistryError, match="在册"):
        actions.record_move_in(
            actor=clerk,
            household=registry["210104"],
            id_number=live.id_number,
            name=live.name,
            gender=live.gender,
            birth_date=live.birth_date,
        )


@pytest.mark.django_db
def test_moving_back_after_moving_out_makes_a_new_card(clerk, registry):
    person = Person.objects.get(name="单明")
    actions.record_move_out(actor=clerk, person=person)
    back = actions.record_move_in(
        actor=clerk,
        household=registry["210103"],
        id_number=person.id_number,
        name=person.name,
        gender=person.gender,
        birth_date=person.birth_date,
    )
    assert back.pk != person.pk
    assert Person.objects.filter(id_number=person.id_number).count() == 2
    assert_consistent(["单明"])


# --- concurrency (PostgreSQL) ----------------------------------------------------------------------


def _in_threads(count: int, work) -> list[Exception]:
    errors: list[Exception] = []
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait(10)
            work(i)
        except Exception as exc:  # noqa: BLE001 - collected and reported
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_births_of_one_name_lose_no_update(city):
    clerk = StaffFactory(roles=["window_clerk"])
    home = HouseholdFactory()
    errors = _in_threads(
        8,
        lambda i: actions.record_birth(
            actor=clerk, household=home, name="王子涵", gender="男", birth_date=BORN
        ),
    )
    assert not errors
    assert Person.objects.filter(name="王子涵").count() == 8
    # Eight different ID numbers for the same day and district, all valid and male.
    numbers = set(Person.objects.filter(name="王子涵").values_list("id_number", flat=True))
    assert len(numbers) == 8 and all(id_number_gender(n) == "M" for n in numbers)
    answer = names.query("王子涵")
    assert answer.total == answer.male == 8
    assert answer.same_tones.total == 8 and answer.same_tones.top[0].count == 8
    assert rebuilt_equals_incremental()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_homophones_births_and_deaths_keep_counts_exact(city):
    """Different spellings of one sound (one PinyinStat row) and deaths racing each other."""
    clerk = StaffFactory(roles=["window_clerk"])
    homes = [HouseholdFactory(), HouseholdFactory(station=None, district=district("210103"))]
    spellings = ["李想", "李翔", "李响", "黎想"]
    doomed = [
        PersonFactory(name=spellings[i % 4], household=homes[i % 2], gender="F") for i in range(4)
    ]
    names.rebuild()

    def work(i):
        if i < 4:
            actions.record_death(actor=clerk, person=doomed[i], date=dt.date(2026, 1, 1))
        else:
            actions.record_birth(
                actor=clerk,
                household=homes[i % 2],
                name=spellings[i % 4],
                gender="男" if i % 3 else "女",
                birth_date=BORN - dt.timedelta(days=i),
            )

    assert not _in_threads(12, work)
    assert_consistent(spellings)
    assert rebuilt_equals_incremental()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_births_during_a_rebuild_are_counted(city):
    clerk = StaffFactory(roles=["window_clerk"])
    home = HouseholdFactory()
    for _ in range(3):
        PersonFactory(name="赵敏", household=home)
    names.rebuild()

    def work(i):
        if i == 0:
            names.rebuild()
        else:
            actions.record_birth(
                actor=clerk, household=home, name="赵敏", gender="女", birth_date=BORN
            )

    assert not _in_threads(5, work)
    assert names.query("赵敏").total == 7
    assert rebuilt_equals_incremental()


# --- birth registration cases (婴儿出生登记) -------------------------------------------------------


def _birth_case(citizen, data):
    item = ServiceItem.objects.get(code=actions.BIRTH_ITEM_CODE)
    case = workflow.start_application(actor=citizen, item=item, submission_key=uuid.uuid4())
    case = workflow.save_draft(actor=citizen, case=case, data=data)
    return workflow.submit(actor=citizen, case=case, flow=case.item.flow)


@pytest.fixture
def team(city):
    huzheng = Department.objects.get(code="huzheng")
    return {
        role: StaffFactory(roles=[role], department=huzheng)
        for role in ("window_clerk", "reviewer", "approver")
    }


def _through_review(case, team):
    case = workflow.accept(actor=team["window_clerk"], case=case)
    case = workflow.start_review(actor=team["reviewer"], case=case)
    return case


CHILD = {"child_name": "张小满", "child_gender": "女", "birth_date": "2026-05-21"}


@pytest.mark.django_db
def test_completed_birth_registration_adds_the_child(registry, team):
    citizen = CitizenFactory()
    parent_home = registry["210103"]
    PersonFactory(household=parent_home, id_number=citizen.citizen_profile.id_number)
    names.rebuild()  # the parent's card came from a factory, not a verb
    data = {**CHILD, "guardian_id_number": citizen.citizen_profile.id_number}
    case = _through_review(_birth_case(citizen, data), team)
    case = workflow.approve(actor=team["approver"], case=case)
    assert not Person.objects.filter(name="张小满").exists()  # only on completion
    case = workflow.complete(actor=team["approver"], case=case)
    child = Person.objects.get(name="张小满")
    assert child.household == parent_home and child.district.code == "210103"
    assert child.gender == "F" and child.birth_date == dt.date(2026, 5, 21)
    assert is_valid_id_number(child.id_number) and child.id_number.startswith("210103")
    assert names.query("张小满").total == 1
    birth = AuditEntry.objects.get(action="registry.birth", object_id=str(child.pk))
    assert birth.actor_id == team["approver"].pk
    assert rebuilt_equals_incremental()


@pytest.mark.django_db
def test_denied_birth_registration_adds_nobody(registry, team):
    citizen = CitizenFactory()
    PersonFactory(household=registry["210102"], id_number=citizen.citizen_profile.id_number)
    case = _through_review(_birth_case(citizen, dict(CHILD)), team)
    case = workflow.deny(actor=team["approver"], case=case, reason="材料不实")
    case = workflow.complete(actor=team["approver"], case=case)
    assert case.status == "completed"
    assert not Person.objects.filter(name="张小满").exists()


@pytest.mark.django_db
def test_birth_case_without_a_registered_guardian_completes_and_is_flagged(registry, team):
    citizen = CitizenFactory()  # no card in the registry
    case = _through_review(_birth_case(citizen, dict(CHILD)), team)
    case = workflow.approve(actor=team["approver"], case=case)
    case = workflow.complete(actor=team["approver"], case=case)
    assert case.status == "completed"
    assert not Person.objects.filter(name="张小满").exists()
    flag = AuditEntry.objects.get(action="registry.birth_not_recorded")
    assert not flag.success and flag.details["reason"] == "guardian_not_registered"
    assert flag.object_id == str(case.pk)


@pytest.mark.django_db
def test_birth_case_with_a_name_the_registry_refuses_is_flagged(registry, team):
    citizen = CitizenFactory()
    PersonFactory(household=registry["210102"], id_number=citizen.citizen_profile.id_number)
    case = _through_review(_birth_case(citizen, {**CHILD, "child_name": "Tom"}), team)
    case = workflow.approve(actor=team["approver"], case=case)
    case = workflow.complete(actor=team["approver"], case=case)
    assert case.status == "completed"
    flag = AuditEntry.objects.get(action="registry.birth_not_recorded")
    assert flag.details["reason"].startswith("refused: 姓名只能由汉字组成")
    assert not Person.objects.filter(name="Tom").exists()
