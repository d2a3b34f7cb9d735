"""Who reads which letter: department, jurisdiction, misconduct reports, writers, code holders.

The predicate (rules.can_read, the perm "letters.view_letter") and the queryset
(queries.visible_letters) must agree for every user and letter."""

import pytest
from django.core.exceptions import PermissionDenied

from servicehall.accounts.models import Station
from servicehall.accounts.tests.factories import (
    CitizenFactory,
    StationFactory,
    department,
    district,
)
from servicehall.letters import queries, workflow
from servicehall.letters import rules as letter_rules

from .conftest import letter, receive, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(db):
    heping, shenhe = district("210102"), district("210103")
    return {
        "heping_a": StationFactory(district=heping),
        "heping_b": StationFactory(district=heping),
        "shenhe": StationFactory(district=shenhe),
    }


def test_staff_of_another_department_cannot_read_or_act(citizen, team):
    mail = workflow.assign(
        actor=team["triage"], letter=letter(citizen), department=department("huzheng")
    )
    outsider = team["other"]  # public order: clerk, approver and supervisor
    assert not letter_rules.can_read(outsider, mail)
    assert not outsider.has_perm("letters.view_letter", mail)
    assert not queries.visible_letters(outsider).filter(pk=mail.pk).exists()
    assert team["clerk"].has_perm("letters.view_letter", mail)
    for verb, kwargs in [
        (workflow.claim, {}),
        (workflow.draft_reply, {"body": "越权"}),
        (workflow.transfer, {"department": department("zhian"), "note": "越权"}),
        (workflow.set_handler, {"handler": outsider}),
    ]:
        with pytest.raises(PermissionDenied):
            verb(actor=outsider, letter=mail, **kwargs)


def test_station_letters_stay_in_their_jurisdiction(citizen, team, places):
    mail = workflow.assign(
        actor=team["triage"],
        letter=letter(citizen),
        department=department("huzheng"),
        station=places["heping_a"],
    )
    own_station = staff("huzheng", "window_clerk", station=places["heping_a"])
    next_station = staff("huzheng", "window_clerk", station=places["heping_b"])
    district_level = staff("huzheng", "approver", district=district("210102"))
    other_district = staff("huzheng", "approver", district=district("210103"))
    city_level = team["leader"]
    assert letter_rules.can_read(own_station, mail)
    assert not letter_rules.can_read(next_station, mail)
    assert letter_rules.can_read(district_level, mail)
    assert not letter_rules.can_read(other_district, mail)
    assert letter_rules.can_read(city_level, mail)
    with pytest.raises(PermissionDenied):
        workflow.claim(actor=next_station, letter=mail)
    workflow.claim(actor=own_station, letter=mail)
    # A letter without a station is the whole department's.
    unbound = workflow.assign(
        actor=team["triage"], letter=letter(citizen), department=department("huzheng")
    )
    assert letter_rules.can_read(next_station, unbound)


def test_misconduct_reports_are_read_by_police_inspection_only(citizen, team):
    report = letter(None, channel="misconduct", kind="report", anonymous=True)
    ordinary = letter(citizen)
    assert letter_rules.can_read(team["inspector"], report)
    assert letter_rules.can_read(team["inspection_supervisor"], report)
    for name in ("triage", "office_supervisor", "clerk", "leader", "supervisor", "other"):
        assert not letter_rules.can_read(team[name], report), name
    # The letters-office supervisors oversee every other letter, wherever it went.
    moved = workflow.assign(actor=team["triage"], letter=ordinary, department=department("zhian"))
    assert letter_rules.can_read(team["office_supervisor"], moved)
    assert not letter_rules.can_read(team["triage"], moved)
    assert not letter_rules.can_read(team["inspector"], moved)


def test_writers_read_their_own_letters_and_code_holders_one_letter(citizen, team):
    mine = letter(citizen)
    theirs = letter(CitizenFactory())
    assert letter_rules.can_read(citizen, mine) and not letter_rules.can_read(citizen, theirs)
    assert list(queries.writer_letters(citizen)) == [mine]
    assert not queries.visible_letters(citizen).exists()  # the staff view is staff only
    receipt = receive(None, kind="report", anonymous=True)
    assert queries.letter_for_code(receipt.follow_up_code) == receipt.letter
    assert letter_rules.acts_as_writer(None, receipt.letter, receipt.follow_up_code)
    assert not letter_rules.acts_as_writer(None, mine, receipt.follow_up_code)
    assert not queries.writer_letters(None).exists()


def test_the_queryset_agrees_with_the_predicate(citizen, team, places):
    letters = [
        letter(citizen),
        letter(None, channel="misconduct", kind="report", anonymous=True),
        workflow.assign(
            actor=team["triage"], letter=letter(citizen), department=department("huzheng")
        ),
        workflow.assign(
            actor=team["triage"],
            letter=letter(citizen),
            department=department("huzheng"),
            station=places["heping_a"],
        ),
        workflow.assign(
            actor=team["triage"],
            letter=letter(citizen),
            department=department("xinfang"),
            station=places["shenhe"],
        ),
    ]
    people = [
        *team.values(),
        staff("huzheng", "window_clerk", station=places["heping_b"]),
        staff("huzheng", "approver", district=district("210102")),
        staff("xinfang", "supervisor", station=places["heping_a"]),
        citizen,
    ]
    for person in people:
        visible = set(queries.visible_letters(person).values_list("pk", flat=True))
        for mail in letters:
            expected = letter_rules.can_read(person, mail) and person.is_staff_member
            assert (mail.pk in visible) == expected, (person, mail, mail.department, mail.station)
    assert Station.objects.count() >= 3
