from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from servicehall.accounts.tests.factories import StaffFactory, login_verified_staff
from servicehall.core import workdays
from servicehall.core.calendar_files import default_files, read_year_file
from servicehall.core.models import AuditEntry, CalendarDay, CalendarYear
from servicehall.core.workdays import (
    CalendarNotConfirmed,
    add_working_days,
    is_working_day,
    next_working_day,
    working_days_between,
)

pytestmark = pytest.mark.django_db

D = date


@pytest.fixture(autouse=True)
def fresh_cache():
    # Some tests below fill the shared cache from data that their transaction rolls back.
    workdays.invalidate_cache(committed=True)
    yield
    workdays.invalidate_cache(committed=True)


@pytest.fixture
def calendar():
    call_command("load_calendar", stdout=open("/dev/null", "w"))  # noqa: SIM115


# --- the 2026 schedule -------------------------------------------------------------------


@pytest.mark.usefixtures("calendar")
class TestSchedule2026:
    def test_spring_festival(self):
        assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)  # swapped Saturday
        assert add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)
        assert next_working_day(D(2026, 2, 14)) == D(2026, 2, 24)
        assert not any(is_working_day(D(2026, 2, day)) for day in range(15, 24))
        assert is_working_day(D(2026, 2, 28))  # the other swapped Saturday

    def test_national_day(self):
        assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
        assert add_working_days(D(2026, 10, 9), 1) == D(2026, 10, 10)  # Saturday works
        assert is_working_day(D(2026, 9, 20))  # Sunday works
        assert not is_working_day(D(2026, 9, 25))  # 中秋 Friday

    def test_new_year(self):
        assert is_working_day(D(2026, 1, 4))  # a Sunday
        assert not is_working_day(D(2026, 1, 2))  # a Friday off
        assert add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)

    def test_ordinary_weekends_skipped(self):
        assert not is_working_day(D(2026, 3, 7)) and not is_working_day(D(2026, 3, 8))
        assert add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 9)
        assert add_working_days(D(2026, 3, 2), 10) == D(2026, 3, 16)

    def test_zero_days_is_the_same_day(self):
        assert add_working_days(D(2026, 2, 15), 0) == D(2026, 2, 15)

    def test_negative_days_refused(self):
        with pytest.raises(ValueError):
            add_working_days(D(2026, 3, 2), -1)

    def test_working_days_between(self):
        assert working_days_between(D(2026, 2, 13), D(2026, 2, 24)) == 2
        assert working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
        assert working_days_between(D(2026, 10, 10), D(2026, 9, 30)) == -3
        assert working_days_between(D(2026, 2, 15), D(2026, 2, 15)) == 0
        assert working_days_between(D(2026, 2, 15), D(2026, 2, 16)) == 0
        # A whole year through the arithmetic path equals counting day by day.
        brute = sum(is_working_day(D(2026, 1, 1) + timedelta(days=i)) for i in range(365))
        assert working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == brute

    def test_datetimes_count_on_the_local_day(self):
        # 2026-02-13 17:00 UTC is already 2026-02-14 01:00 in Shanghai.
        moment = datetime(2026, 2, 13, 17, 0, tzinfo=UTC)
        assert add_working_days(moment, 1) == D(2026, 2, 24)


# --- unconfirmed years ---------------------------------------------------------------------


@pytest.mark.usefixtures("calendar")
def test_2027_refused_with_a_chinese_message():
    with pytest.raises(CalendarNotConfirmed, match="2027年的节假日安排尚未确认，无法计算工作日"):
        is_working_day(D(2027, 3, 1))
    with pytest.raises(CalendarNotConfirmed):
        add_working_days(D(2026, 12, 31), 1)
    with pytest.raises(CalendarNotConfirmed):
        working_days_between(D(2026, 12, 1), D(2027, 1, 5))
    with pytest.raises(CalendarNotConfirmed):
        is_working_day(D(2024, 12, 31))


@pytest.mark.usefixtures("calendar")
def test_unconfirmed_year_refused_until_confirmed():
    year = CalendarYear.objects.create(year=2027, source="草稿")
    CalendarDay.objects.create(calendar_year=year, date=D(2027, 1, 1), kind="holiday", name="元旦")
    with pytest.raises(CalendarNotConfirmed) as excinfo:
        is_working_day(D(2027, 1, 4))
    assert excinfo.value.year == 2027
    year.confirmed = True
    year.save()
    assert is_working_day(D(2027, 1, 4)) and not is_working_day(D(2027, 1, 1))


# --- cache -------------------------------------------------------------------------------


@pytest.mark.usefixtures("calendar")
def test_edits_show_at_once_and_rollbacks_do_not_linger():
    monday = D(2026, 3, 9)
    assert is_working_day(monday)
    year = CalendarYear.objects.get(year=2026)
    day = CalendarDay.objects.create(calendar_year=year, date=monday, kind="holiday", name="测试")
    assert not is_working_day(monday)
    day.delete()
    assert is_working_day(monday)
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarDay.objects.create(calendar_year=year, date=monday, kind="holiday", name="测试")
        assert not is_working_day(monday)
        raise RuntimeError
    assert is_working_day(monday)


@pytest.mark.usefixtures("calendar")
def test_other_processes_changes_seen_after_revalidation(settings, django_assert_num_queries):
    # As if committed before this process started: reads now go through the shared cache.
    workdays.invalidate_cache(committed=True)
    settings.CALENDAR_CACHE_SECONDS = 3600
    assert is_working_day(D(2026, 3, 9))
    with django_assert_num_queries(0):
        for i in range(200):
            is_working_day(D(2026, 1, 1) + timedelta(days=i))
    # Another process un-confirms 2026 (no signal reaches this process).
    CalendarYear.objects.filter(year=2026).update(confirmed=False, updated_at=timezone.now())
    assert is_working_day(D(2026, 3, 9))  # still cached
    settings.CALENDAR_CACHE_SECONDS = 0
    with pytest.raises(CalendarNotConfirmed):
        is_working_day(D(2026, 3, 9))


# --- properties ----------------------------------------------------------------------------

dates = st.dates(min_value=D(2025, 1, 1), max_value=D(2026, 10, 31))
hypothesis_settings = hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.usefixtures("calendar")
@hypothesis_settings
@given(d=dates, n=st.integers(min_value=0, max_value=40))
def test_between_inverts_add(d, n):
    end = add_working_days(d, n)
    assert working_days_between(d, end) == n
    assert working_days_between(end, d) == -n
    if n:
        assert is_working_day(end)
        assert add_working_days(d, n - 1) < end


@pytest.mark.usefixtures("calendar")
@hypothesis_settings
@given(a=dates, b=dates, c=dates)
def test_between_is_additive_and_matches_counting(a, b, c):
    assert working_days_between(a, b) + working_days_between(b, c) == working_days_between(a, c)
    lo, hi = min(a, b), max(a, b)
    counted = sum(is_working_day(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
    assert working_days_between(lo, hi) == counted


@pytest.mark.usefixtures("calendar")
@hypothesis_settings
@given(d=dates)
def test_next_working_day_is_the_first_one_after(d):
    nxt = next_working_day(d)
    assert nxt > d and is_working_day(nxt)
    assert working_days_between(d, nxt) == 1
    assert not any(is_working_day(d + timedelta(days=i)) for i in range(1, (nxt - d).days))


# --- the data files against two independent sources ----------------------------------------


@pytest.mark.usefixtures("calendar")
@pytest.mark.parametrize("year", [2025, 2026])
def test_files_agree_with_holidays_and_chinesecalendar(year):
    holidays = pytest.importorskip("holidays")
    chinese_calendar = pytest.importorskip("chinese_calendar")
    cn = holidays.country_holidays("CN", years=year)
    day, disagreements = D(year, 1, 1), []
    while day.year == year:
        ours = is_working_day(day)
        theirs = (cn.is_working_day(day), chinese_calendar.is_workday(day))
        if theirs != (ours, ours):
            disagreements.append((day, ours, theirs))
        day += timedelta(days=1)
    assert disagreements == []


def test_file_names_and_sources():
    files = {read_year_file(p).year: read_year_file(p) for p in default_files()}
    assert files[2025].source == "国办发明电〔2024〕12号"
    assert files[2026].source == "国办发明电〔2025〕7号"
    for year, parsed in files.items():
        assert Path(parsed.path).name == f"cn-{year}.yaml"


# --- load_calendar ---------------------------------------------------------------------------


def run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("load_calendar", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_load_calendar_is_idempotent():
    CalendarYear.objects.all().delete()  # the suite's session set-up loaded it already
    before = AuditEntry.objects.filter(action="calendar.load").count()
    assert "2026 (国办发明电〔2025〕7号): created" in run()
    year = CalendarYear.objects.get(year=2026)
    assert year.confirmed and year.confirmed_at and year.source == "国办发明电〔2025〕7号"
    assert year.days.filter(kind="workday").count() == 6
    assert year.days.filter(kind="holiday").count() == 3 + 9 + 3 + 5 + 3 + 3 + 7
    loads = AuditEntry.objects.filter(action="calendar.load").count()
    assert loads == before + 2
    assert "2026 (国办发明电〔2025〕7号): unchanged" in run()
    assert AuditEntry.objects.filter(action="calendar.load").count() == loads


def test_load_calendar_does_not_overwrite_an_edited_year_without_replace():
    run()
    CalendarDay.objects.filter(date=D(2026, 2, 28)).delete()
    with pytest.raises(CommandError, match="--replace"):
        run()
    assert not is_working_day(D(2026, 2, 28))
    assert "2026 (国办发明电〔2025〕7号): replaced" in run("--replace")
    assert is_working_day(D(2026, 2, 28))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "year: 2027\nsource: x\nholidays:\n  - {name: a, start: 2027-01-01, workdays: [2027-01-04]}\n",
            "not a Saturday or Sunday",
        ),
        (
            "year: 2027\nsource: x\nholidays:\n  - {name: a, start: 2027-01-01, end: 2027-01-03}\n  - {name: b, start: 2027-01-03}\n",
            "appears twice",
        ),
        ("year: 2027\nsource: x\nholidays:\n  - {name: a, start: 2026-12-31}\n", "not in 2027"),
        ("year: 2027\nholidays: []\n", "source"),
        (
            "year: 2027\nsource: x\nholidays:\n  - {name: a, start: 2027-01-05, end: 2027-01-03}\n",
            "start <= end",
        ),
    ],
)
def test_load_calendar_rejects_bad_files(tmp_path, body, message):
    path = tmp_path / "cn-2027.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        run(str(path))
    assert not CalendarYear.objects.filter(year=2027).exists()


# --- admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_user():
    """A superuser administrator; the admin demands a verified second factor."""
    user = StaffFactory(roles=["administrator"])
    user.is_superuser = user.is_staff = True
    user.save()
    return user


def _year_form(year, confirmed, days):
    data = {
        "year": str(year),
        "source": "国办发明电〔2026〕1号",
        "days-TOTAL_FORMS": str(len(days)),
        "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
    }
    if confirmed:
        data["confirmed"] = "on"
    for i, (day, kind, name) in enumerate(days):
        data.update({f"days-{i}-date": day, f"days-{i}-kind": kind, f"days-{i}-name": name})
    return data


@pytest.mark.usefixtures("calendar")
def test_admin_adds_and_confirms_a_year(client, admin_user):
    login_verified_staff(client, admin_user)
    response = client.post(
        "/django-admin/core/calendaryear/add/",
        _year_form(
            2027,
            True,
            [("2027-01-01", "holiday", "元旦"), ("2027-02-06", "workday", "春节")],
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    year = CalendarYear.objects.get(year=2027)
    assert year.confirmed and year.confirmed_by == admin_user and year.confirmed_at
    assert not is_working_day(D(2027, 1, 1)) and is_working_day(D(2027, 2, 6))
    actions = set(
        AuditEntry.objects.filter(
            object_type="core.calendaryear", object_id=str(year.pk)
        ).values_list("action", flat=True)
    )
    assert actions == {"calendar.confirm", "calendar.days_change"}


@pytest.mark.usefixtures("calendar")
def test_admin_rejects_a_day_outside_the_year(client, admin_user):
    login_verified_staff(client, admin_user)
    response = client.post(
        "/django-admin/core/calendaryear/add/",
        _year_form(2027, True, [("2026-12-31", "holiday", "元旦")]),
    )
    assert response.status_code == 200
    assert "日期不在该年度内" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_admin_audit_log_is_read_only(client, admin_user):
    login_verified_staff(client, admin_user)
    assert client.get("/django-admin/core/auditentry/").status_code == 200
    assert client.get("/django-admin/core/auditentry/add/").status_code == 403
