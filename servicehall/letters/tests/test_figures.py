"""The letters' reply figures: every number equals a plain count over the Letter rows, the page
and the API give the same numbers, bad parameters get a 400 in the user's language, and the
public page shows counts only (no personal data, no letter numbers) under a strict CSP."""

import datetime as dt
import re
from collections import defaultdict

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from servicehall.accounts.tests.factories import CitizenFactory, department, login_verified_staff
from servicehall.core import workdays
from servicehall.letters import figures, intake, queries, workflow
from servicehall.letters.flows import CLOCK_RUNNING, Channel, Kind
from servicehall.letters.models import Letter, OutsidePlatform
from servicehall.letters.views_figures import COLUMNS, show

from .conftest import receive

pytestmark = pytest.mark.django_db
D = dt.date.fromisoformat
TODAY = D("2026-11-27")
NOON_TODAY = "2026-11-27 12:00 +0800"
YEAR_2026 = figures.Period(D("2026-01-01"), D("2026-12-31"))


def at(when: str):
    return time_machine.travel(when, tick=False)


def assign(team, mail, code):
    actor = team["inspector"] if mail.is_misconduct else team["triage"]
    return workflow.assign(actor=actor, letter=mail, department=department(code))


def answer(team, mail, when: str):
    """The department's clerk (and leader where the kind needs one) answers at `when`."""
    clerk, leader = {
        "huzheng": (team["clerk"], team["leader"]),
        "zhian": (team["other"], None),
    }[mail.department.code]
    with at(when):
        workflow.draft_reply(actor=clerk, letter=mail, body="您好，答复如下。")
        if workflow.needs_approval(mail):
            workflow.submit_for_approval(actor=clerk, letter=mail)
            workflow.approve_reply(actor=leader, letter=mail)
        else:
            workflow.send_reply(actor=clerk, letter=mail)
    return Letter.objects.get(pk=mail.pk)


def rate(writer, mail, level: int, when: str, **kwargs):
    with at(when):
        workflow.rate(actor=writer, letter=mail, level=level, **kwargs)
    return Letter.objects.get(pk=mail.pk)


def reopen(writer, mail, when: str, **kwargs):
    with at(when):
        return workflow.reopen(actor=writer, letter=mail, reason="答复没有解决问题", **kwargs)


@pytest.fixture
def books(citizen, team):
    """Letters of 2025 and 2026 in every status, channel and kind, several months and
    departments: withdrawn, merged, reopened (and answered again, still open, withdrawn),
    overdue, on time and late, rated at every level. Today is 27 November 2026."""
    w = citizen
    made = {}

    def new(name, when, writer=w, **fields):
        made[name] = receive(writer, at=when, subject=f"来信主题{name}", **fields).letter
        return made[name]

    # A: January, on time, very satisfied.
    a = assign(team, new("A", "2026-01-05 10:00 +0800"), "huzheng")
    a = rate(w, answer(team, a, "2026-01-06 16:00 +0800"), 5, "2026-01-07 09:00 +0800")
    # B: February, late, rated dissatisfied, reopened, answered again and rated satisfied.
    b = assign(
        team, new("B", "2026-02-02 10:00 +0800", channel="online110", kind="help"), "huzheng"
    )
    b = rate(w, answer(team, b, "2026-02-10 10:00 +0800"), 2, "2026-02-10 12:00 +0800")
    b = reopen(w, b, "2026-02-11 09:00 +0800")
    rate(w, answer(team, b, "2026-02-12 10:00 +0800"), 4, "2026-02-13 09:00 +0800")
    # C: March, a complaint approved by the leader the next day; basically satisfied.
    c = assign(
        team, new("C", "2026-03-03 10:00 +0800", channel="appeal", kind="complaint"), "huzheng"
    )
    rate(w, answer(team, c, "2026-03-04 10:00 +0800"), 3, "2026-03-05 10:00 +0800")
    # D: March, a hotline suggestion withdrawn with the caller's follow-up code.
    hotline = receive(
        team["operator"],
        at="2026-03-10 10:00 +0800",
        channel="hotline",
        kind="suggestion",
        subject="来信主题D",
        contact_name="王先生",
        contact_phone="13912345678",
    )
    made["D"] = hotline.letter
    with at("2026-03-11 10:00 +0800"):
        workflow.withdraw(actor=None, letter=hotline.letter, code=hotline.follow_up_code)
    # F: April, never triaged (open, overdue); E: its duplicate, merged into it.
    f = new("F", "2026-04-07 10:00 +0800", kind="help")
    e = new("E", "2026-04-07 11:00 +0800", kind="help")
    with at("2026-04-07 15:00 +0800"):
        workflow.merge_duplicate(actor=team["triage"], letter=e, into=f)
    # G: May, an anonymous misconduct report with police inspection, open and overdue.
    g = new(
        "G",
        "2026-05-12 10:00 +0800",
        writer=None,
        channel="misconduct",
        kind="report",
        anonymous=True,
        subject_officer="张警官",
    )
    assign(team, g, "ducha")
    # H: June, from 民心网, answered on time by public order (no writer to rate it).
    platform = OutsidePlatform.objects.create(code="minxin", name="民心网")
    with at("2026-06-09 10:00 +0800"):
        h = intake.import_outside(
            platform=platform,
            outside_id="MX-2026-0001",
            kind="consultation",
            subject="来信主题H",
            body="外部平台转来的咨询",
            contact_name="李女士",
            contact_phone="13687654321",
        ).letter
    made["H"] = h
    h = answer(team, assign(team, h, "zhian"), "2026-06-10 10:00 +0800")
    # P: July, answered, rated very dissatisfied, reopened and not answered again (overdue).
    p = assign(team, new("P", "2026-07-01 10:00 +0800"), "huzheng")
    p = rate(w, answer(team, p, "2026-07-02 10:00 +0800"), 1, "2026-07-02 12:00 +0800")
    reopen(w, p, "2026-07-03 09:00 +0800")
    # I: received the day before the National Day holidays, answered after them.
    i = assign(team, new("I", "2026-09-30 10:00 +0800", channel="online110"), "zhian")
    answer(team, i, "2026-10-09 10:00 +0800")
    # J: October, answered, rated dissatisfied, reopened, then withdrawn.
    j = assign(team, new("J", "2026-10-15 10:00 +0800", kind="complaint"), "huzheng")
    j = rate(w, answer(team, j, "2026-10-16 10:00 +0800"), 1, "2026-10-16 12:00 +0800")
    j = reopen(w, j, "2026-10-17 09:00 +0800")
    with at("2026-10-18 09:00 +0800"):
        workflow.withdraw(actor=w, letter=j)
    # L: a complaint waiting for the leader's approval, due today (not overdue).
    lt = assign(
        team, new("L", "2026-11-20 10:00 +0800", channel="appeal", kind="complaint"), "huzheng"
    )
    with at("2026-11-23 10:00 +0800"):
        workflow.draft_reply(actor=team["clerk"], letter=lt, body="草稿")
        workflow.submit_for_approval(actor=team["clerk"], letter=lt)
    # K: yesterday, a praise not yet triaged; Q: an anonymous report in an ordinary mailbox.
    new("K", "2026-11-26 10:00 +0800", kind="praise")
    new("Q", "2026-11-26 11:00 +0800", writer=None, kind="report", anonymous=True)
    # The first minutes of 2026 in Shenyang are still 2025 in UTC; the last of 2025 too.
    new("N", "2026-01-01 00:10 +0800", kind="suggestion")
    m = assign(team, new("M", "2025-12-31 23:50 +0800"), "zhian")
    answer(team, m, "2026-01-05 10:00 +0800")
    return made


# --- the count the figures must equal, written plainly over the rows ---------------------------


def local_day(moment):
    return timezone.localtime(moment).date()


def group_of(letter, group):
    return {
        "month": lambda: local_day(letter.received_at).strftime("%Y-%m"),
        "department": lambda: letter.department.code,
        "channel": lambda: letter.channel,
        "kind": lambda: letter.kind,
    }[group]()


def count_over_letters(group, period, today):
    """Every figure, by plain Python over Letter.objects.all() and its replies."""
    tallies = defaultdict(lambda: defaultdict(int))
    sums = defaultdict(lambda: defaultdict(int))
    for letter in Letter.objects.all():
        received_on = local_day(letter.received_at)
        if not period.start <= received_on <= period.end:
            continue
        t = tallies[group_of(letter, group)]
        s = sums[group_of(letter, group)]
        sent = sorted(
            (r for r in letter.replies.all() if r.status == "sent"), key=lambda r: r.round
        )
        first = next((r for r in sent if r.round == 1), None)
        counted = letter.status not in ("withdrawn", "merged")
        t["received"] += 1
        t["withdrawn"] += letter.status == "withdrawn"
        t["merged"] += letter.status == "merged"
        t["counted"] += counted
        if counted and first is not None:
            t["replied"] += 1
            t["due"] += 1
            t["replied_on_time"] += local_day(first.sent_at) <= first.due_date
            replied_on = local_day(first.sent_at)
            s["calendar"] += (replied_on - received_on).days
            s["working"] += workdays.working_days_between(received_on, replied_on)
        if counted and first is None and letter.due_date < today:
            t["due"] += 1
        t["open"] += letter.status in CLOCK_RUNNING
        t["overdue"] += letter.status in CLOCK_RUNNING and letter.due_date < today
        t["reopened"] += letter.reopened_count > 0
        ratings = [r.rating_level for r in reversed(sent) if r.rating_level is not None]
        if ratings:
            t["rated"] += 1
            t["satisfied"] += ratings[0] >= 4
            s["rating"] += ratings[0]

    def share(part, whole, digits):
        return round(part / whole, digits) if whole else None

    expected = {}
    for key, t in tallies.items():
        s = sums[key]
        expected[key] = dict(t) | {
            "reply_rate": share(t["replied"], t["counted"], 4),
            "on_time_rate": share(t["replied_on_time"], t["due"], 4),
            "average_working_days": share(s["working"], t["replied"], 2),
            "average_calendar_days": share(s["calendar"], t["replied"], 2),
            "satisfaction_rate": share(t["satisfied"], t["rated"], 4),
            "average_rating": share(s["rating"], t["rated"], 2),
        }
    return expected


def without_zeros(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("key", "label") and v not in (0, None)}


@pytest.mark.parametrize("group", figures.GROUPS)
@pytest.mark.parametrize(
    "period", [YEAR_2026, figures.Period(D("2025-12-01"), D("2026-03-31"))], ids=["2026", "winter"]
)
def test_figures_equal_a_count_over_the_letters(books, group, period):
    result = figures.letters_figures(period=period, group=group, today=TODAY)
    expected = count_over_letters(group, period, TODAY)
    got = {row.key: without_zeros(row.as_dict()) for row in result.rows}
    assert {k: v for k, v in got.items() if v} == {k: without_zeros(v) for k, v in expected.items()}
    total = result.total.as_dict()
    for name in ("received", "withdrawn", "merged", "replied", "rated", "open", "overdue"):
        assert total[name] == sum(row.get(name, 0) for row in expected.values())


def test_the_fixture_has_what_the_definitions_are_about(books):
    total = figures.letters_figures(period=YEAR_2026, group="kind", today=TODAY).total
    # 15 letters in 2026 (M was received in 2025): J and D withdrawn, E merged.
    assert (total.received, total.withdrawn, total.merged, total.counted) == (15, 2, 1, 12)
    # Replied: A B C H P I (J was replied but is withdrawn).
    assert total.replied == 6
    assert total.reply_rate == 6 / 12
    # Due: the six replied plus F, G and N, unanswered past their due dates (L is due today,
    # K and Q later).
    assert total.due == 9
    # Open: F G P (reopened, second round) L K Q N; overdue: F G P N.
    assert (total.open, total.overdue, total.reopened) == (7, 4, 3)
    # Ratings: A 5, B 4 (after 2), C 3, P 1 (reopened, the 1 stands until the second
    # rating), J 1 (withdrawn, still rated): 2 of 5 satisfied.
    assert (total.rated, total.satisfied, total.rating_sum) == (5, 2, 14)
    assert total.satisfaction_rate == 0.4
    assert total.received == total.counted + total.withdrawn + total.merged


def test_channel_and_kind_list_every_choice_and_months_run_to_today(books):
    by_channel = figures.letters_figures(period=YEAR_2026, group="channel", today=TODAY)
    assert [row.key for row in by_channel.rows] == list(Channel.values)
    misconduct = next(row for row in by_channel.rows if row.key == "misconduct")
    assert (misconduct.received, misconduct.open, misconduct.overdue) == (1, 1, 1)
    by_kind = figures.letters_figures(period=YEAR_2026, group="kind", today=TODAY)
    assert [row.key for row in by_kind.rows] == list(Kind.values)
    by_month = figures.letters_figures(period=YEAR_2026, group="month", today=TODAY)
    assert [row.key for row in by_month.rows] == [f"2026-{m:02d}" for m in range(1, 12)]
    assert by_month.rows[7].received == 0  # August: no letters, still shown
    by_department = figures.letters_figures(period=YEAR_2026, group="department", today=TODAY)
    assert {row.key for row in by_department.rows} == {"xinfang", "huzheng", "zhian", "ducha"}


def test_the_period_is_the_local_day_received(books):
    new_year = figures.Period(D("2026-01-01"), D("2026-01-01"))
    rows = figures.letters_figures(period=new_year, group="kind", today=TODAY).rows
    assert sum(row.received for row in rows) == 1  # N, received at 00:10 Beijing time
    eve = figures.Period(D("2025-12-31"), D("2025-12-31"))
    total = figures.letters_figures(period=eve, group="kind", today=TODAY).total
    assert (total.received, total.replied) == (1, 1)  # M, at 23:50 on New Year's Eve


def test_the_totals_agree_with_reply_figures(books):
    total = figures.letters_figures(period=YEAR_2026, group="month", today=TODAY).total
    older = queries.reply_figures(figures.letters_in(YEAR_2026), today=TODAY)
    assert (total.received, total.withdrawn, total.merged, total.counted) == (
        older.received,
        older.withdrawn,
        older.merged,
        older.counted,
    )
    assert (total.replied, total.replied_on_time) == (older.replied, older.replied_on_time)


def test_a_narrower_set_of_letters(books, team):
    mine = queries.visible_letters(team["inspection_supervisor"])
    total = figures.letters_figures(period=YEAR_2026, group="kind", today=TODAY, letters=mine).total
    assert (total.received, total.overdue) == (1, 1)


# --- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-13-01"}, "格式不正确"),
        ({"to": "tomorrow"}, "格式不正确"),
        ({"from": "2026-06-01", "to": "2026-05-31"}, "开始日期不能晚于结束日期"),
        ({"from": "2000-01-01", "to": "2026-01-01"}, "不能超过10年"),
        ({"year": "26"}, "四位数字年份"),
        ({"year": "1999"}, "不能早于2000年"),
        ({"group": "station"}, "分组方式不正确"),
    ],
)
def test_bad_parameters_are_refused_with_a_message(params, message):
    with pytest.raises(figures.BadParameter, match=message):
        figures.group_from(params)
        figures.period_from(params, today=TODAY)


def test_the_period_defaults_to_this_year_and_either_end_can_move():
    assert figures.period_from({}, today=TODAY) == YEAR_2026
    assert figures.period_from({"year": "2025", "to": "2025-06-30"}, today=TODAY) == (
        figures.Period(D("2025-01-01"), D("2025-06-30"))
    )
    assert figures.period_from({"from": "2026-11-01"}, today=TODAY).end == D("2026-12-31")
    assert figures.group_from({}) == "month"
    assert figures.group_from({}, allow_all=True) == ""


# --- API ---------------------------------------------------------------------------------------

API = "/api/letters/figures/"


@pytest.mark.parametrize("group", figures.GROUPS)
def test_the_api_gives_the_figures(client, books, group):
    with at(NOON_TODAY):
        body = client.get(API, {"group": group, "from": "2025-12-01", "to": "2026-11-30"}).json()
    period = figures.Period(D("2025-12-01"), D("2026-11-30"))
    result = figures.letters_figures(period=period, group=group, today=TODAY)
    assert body == result.as_dict()
    assert (body["group"], body["from"], body["to"], body["as_of"]) == (
        group,
        "2025-12-01",
        "2026-11-30",
        "2026-11-27",
    )
    expected = count_over_letters(group, period, TODAY)
    assert {r["key"]: without_zeros(r) for r in body["rows"] if without_zeros(r)} == {
        k: without_zeros(v) for k, v in expected.items()
    }


def test_the_api_defaults_to_this_year_by_month(client, books):
    with at(NOON_TODAY):
        body = client.get(API).json()
    assert (body["group"], body["from"], body["to"]) == ("month", "2026-01-01", "2026-12-31")
    assert body["total"]["received"] == 15


@pytest.mark.parametrize(
    "params",
    [{"group": "station"}, {"from": "2026-02-30"}, {"from": "2026-06-01", "to": "2026-01-01"}],
)
def test_bad_api_parameters_get_a_400_in_the_users_language(client, params):
    response = client.get(API, params)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert re.search(r"[\u4e00-\u9fff]", detail)
    english = client.get(API, params, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 400 and english.json()["detail"]
    assert english["Content-Language"] == "en"


def test_the_api_is_documented(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"][API]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"group", "from", "to"}
    assert set(operation["responses"]) >= {"200", "400"}
    assert "reply_rate" in schema["components"]["schemas"]["FiguresRowOut"]["properties"]


# --- pages -------------------------------------------------------------------------------------

PAGE = "/letters/figures/"
ROW = re.compile(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>')
CELL = re.compile(r"<td>(.*?)</td>")


def tables(html: str) -> dict[str, dict[str, list[str]]]:
    """{section id: {row label: cells}} from the page's figure tables."""
    found = {}
    for section in re.findall(
        r'<section aria-labelledby="heading-(\w+)"(.*?)</section>', html, re.S
    ):
        group, body = section
        found[group] = {label: CELL.findall(cells) for label, cells in ROW.findall(body)}
    return found


def test_the_page_shows_the_same_numbers_as_the_api(client, books):
    with at(NOON_TODAY):
        response = client.get(PAGE, {"year": "2026"})
        api = {g: client.get(API, {"group": g}).json() for g in figures.GROUPS}
    assert response.status_code == 200
    html = response.content.decode()
    shown = tables(html)
    assert set(shown) == set(figures.GROUPS)
    for group, body in api.items():
        expected = {
            row["label"]: [show(row[key], kind) for key, _label, kind in COLUMNS]
            for row in [*body["rows"], body["total"]]
        }
        assert shown[group] == expected
    # The headline and the explanation carry the totals; withdrawn and merged stay visible.
    assert "50.0%" in html  # reply rate 6/12
    assert "撤回 2 件、合并的重复来信 1 件" in html
    for group in figures.GROUPS:
        assert f'id="chart-data-{group}" type="application/json"' in html
        assert f'data-source="chart-data-{group}"' in html


def test_one_grouping_can_be_chosen(client, books):
    with at(NOON_TODAY):
        response = client.get(PAGE, {"group": "channel"})
    assert set(tables(response.content.decode())) == {"channel"}
    assert "12389举报" in response.content.decode()


def test_the_page_is_csp_clean(client, books):
    with at(NOON_TODAY):
        response = client.get(PAGE)
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "script-src 'self'" in policy
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert ' src="' in tag or 'type="application/json"' in tag, tag
    assert "style=" not in html and "<style" not in html
    assert re.search(r"\son[a-z]+=", html) is None  # no inline event handlers
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert "/static/js/letters-figures.js" in html


def test_the_public_page_and_api_reveal_no_personal_data(client, books, citizen):
    with at(NOON_TODAY):
        page = client.get(PAGE).content.decode()
        api = "".join(client.get(API, {"group": g}).content.decode() for g in figures.GROUPS)
    secrets = [citizen.name, citizen.citizen_profile.mobile, "王先生", "13912345678", "李女士"]
    secrets += ["13687654321", "张警官", "MX-2026-0001", "来信主题", "答复如下"]
    secrets += list(Letter.objects.values_list("number", flat=True))
    for text in (page, api):
        for secret in secrets:
            assert secret not in text


def test_the_page_costs_a_few_queries_whatever_the_number_of_letters(
    client, books, django_assert_max_num_queries
):
    # Two aggregate queries per grouping and one for the departments' names.
    with at(NOON_TODAY), django_assert_max_num_queries(12):
        assert client.get(PAGE).status_code == 200


def test_the_page_without_letters(client, db):
    response = client.get(PAGE, {"year": "2020"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "该期间没有来信。" in html  # no department has letters
    assert "2020年1月" in html and "0 件" in html


def test_bad_page_parameters_are_explained(client):
    response = client.get(PAGE, {"from": "2026-02-30"})
    assert response.status_code == 400
    assert "格式不正确" in response.content.decode()
    assert 'role="alert"' in response.content.decode()


def test_the_page_works_in_english(client, books):
    with at(NOON_TODAY):
        response = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Language"] == "en"


# --- supervision -------------------------------------------------------------------------------

SUPERVISION = "/letters/figures/supervision/"


def test_only_verified_supervisors_see_the_overdue_letters(client, team):
    assert reverse("letters_figures:supervision") == SUPERVISION
    assert client.get(SUPERVISION).status_code == 302  # to the sign-in page
    client.force_login(CitizenFactory())
    assert client.get(SUPERVISION).status_code == 403
    login_verified_staff(client, team["clerk"])
    assert client.get(SUPERVISION).status_code == 403
    client.force_login(team["office_supervisor"])  # second factor not passed
    assert client.get(SUPERVISION).status_code == 302


def test_supervisors_see_overdue_letters_they_may_read(client, books, team):
    with at(NOON_TODAY):  # the staff session counts from the sign-in
        login_verified_staff(client, team["office_supervisor"])
        response = client.get(SUPERVISION)
    html = response.content.decode()
    assert response.status_code == 200
    listed = re.findall(r'href="/staff/letters/(XF\d{13})/"', html)
    # F (never triaged), P (reopened), N (suggestion, due in January); not G, a 12389 report.
    assert listed == [books[n].number for n in ("N", "F", "P")]
    assert books["G"].number not in html
    assert "另有 1 件超期来信不在您的查看范围内" in html
    with at(NOON_TODAY):
        login_verified_staff(client, team["inspection_supervisor"])
        html = client.get(SUPERVISION).content.decode()
    assert re.findall(r'href="/staff/letters/(XF\d{13})/"', html) == [books["G"].number]


def test_the_public_page_links_supervisors_to_the_overdue_list(client, team):
    assert "/letters/figures/supervision/" not in client.get(PAGE).content.decode()
    login_verified_staff(client, team["office_supervisor"])
    assert "/letters/figures/supervision/" in client.get(PAGE).content.decode()


def test_letters_stay_on_the_books(books):
    before = Letter.objects.count()
    with pytest.raises(Exception, match="never deleted"):
        Letter.objects.filter(pk=books["D"].pk).delete()
    assert Letter.objects.count() == before
    assert Letter.objects.get(pk=books["D"].pk).status == "withdrawn"
    assert Letter.objects.get(pk=books["E"].pk).status == "merged"
