"""A citizen on a phone opens the letters' figures: the headline, a chart per grouping drawn by
Chart.js under the strict CSP, and a table beneath every chart with the same numbers."""

import pytest
import time_machine

from servicehall.accounts.tests.factories import CitizenFactory, department
from servicehall.letters import workflow
from servicehall.letters.tests.conftest import receive, staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def letters(catalogue):
    """A dozen letters of this year: answered, late, open, withdrawn, merged, rated."""
    writer = CitizenFactory()
    triage = staff("xinfang", "window_clerk")
    clerk = staff("huzheng", "window_clerk")
    clerk_b = staff("zhian", "window_clerk")
    months = ["01", "02", "03", "05", "06", "07", "09", "10"]
    made = []
    for n, month in enumerate(months):
        kind = ["consultation", "help", "suggestion", "praise"][n % 4]
        channel = ["mailbox", "online110", "appeal"][n % 3]
        mail = receive(writer, at=f"2026-{month}-10 10:00 +0800", kind=kind, channel=channel)
        made.append(mail.letter)
    for n, mail in enumerate(made[:6]):
        with time_machine.travel(mail.received_at, tick=False):
            dept = "huzheng" if n % 2 else "zhian"
            mail = workflow.assign(actor=triage, letter=mail, department=department(dept))
            handler = clerk if n % 2 else clerk_b
            workflow.draft_reply(actor=handler, letter=mail, body="您好，答复如下。")
        with time_machine.travel(f"2026-{months[n]}-{11 + 3 * (n % 3)} 10:00 +0800", tick=False):
            workflow.send_reply(actor=handler, letter=mail)
            workflow.rate(actor=writer, letter=mail, level=[5, 4, 3, 5, 2, 4][n])
    with time_machine.travel("2026-10-11 10:00 +0800", tick=False):
        workflow.withdraw(actor=writer, letter=made[7])
    with time_machine.travel("2026-09-10 11:00 +0800", tick=False):
        duplicate = receive(writer, at="2026-09-10 11:00 +0800").letter
        workflow.merge_duplicate(actor=triage, letter=duplicate, into=made[6])
    receive(None, at="2026-11-02 10:00 +0800", channel="misconduct", kind="report", anonymous=True)
    return made


def test_the_figures_page_on_a_phone(phone, screenshot, letters):
    problems = []
    phone.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
    phone.on("pageerror", lambda e: problems.append(str(e)))
    phone.goto(phone.base_url + "/letters/figures/?year=2026")
    assert phone.get_by_role("heading", level=1).inner_text() == "来信办理情况统计"
    headline = phone.locator("dl.headline").inner_text()
    assert "收信" in headline and "10 件" in headline and "答复率" in headline
    assert "撤回 1 件、合并的重复来信 1 件" in phone.locator("main").inner_text()

    # Every chart is drawn: Chart.js owns the canvas and has painted pixels on it.
    phone.wait_for_selector("canvas[data-drawn='true']")
    canvases = phone.locator("canvas[data-source]")
    assert canvases.count() == 4
    painted = phone.evaluate(
        """() => Array.from(document.querySelectorAll('canvas[data-source]')).map(c => {
            const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) n++; }
            return {drawn: c.dataset.drawn, chart: !!window.Chart.getChart(c),
                    width: c.clientWidth, height: c.clientHeight, painted: n};
        })"""
    )
    for chart in painted:
        assert chart["drawn"] == "true" and chart["chart"], chart
        assert 300 <= chart["width"] <= 390 and chart["height"] >= 200, chart
        assert chart["painted"] > 5000, chart

    # A table with a caption beneath every chart, with row and column headers.
    tables = phone.get_by_role("table")
    assert tables.count() == 4
    by_month = phone.get_by_role("table", name="2026年收到的来信，按月份统计")
    assert by_month.locator("th[scope=col]").first.inner_text() == "月份"
    assert by_month.locator("tfoot th[scope=row]").inner_text() == "合计"
    by_channel = phone.get_by_role("table", name="2026年收到的来信，按来信渠道统计")
    assert "12389举报" in by_channel.inner_text()
    assert "统计口径" in phone.locator("main").inner_text()

    # Phone-first: the page is no wider than the screen (wide tables scroll in their box).
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    assert not problems, problems
    screenshot(phone, "page")
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "top", full_page=False)
    phone.locator("#heading-month").scroll_into_view_if_needed()
    phone.evaluate("document.getElementById('heading-month').scrollIntoView()")
    screenshot(phone, "month", full_page=False)


def test_a_supervisor_follows_up_overdue_letters_on_a_phone(phone, screenshot, letters):
    from servicehall.accounts.tests.factories import totp_token

    supervisor = staff("xinfang", "supervisor", password="Correct-horse-2026")
    phone.goto(phone.base_url + "/accounts/login/?next=/letters/figures/supervision/")
    phone.get_by_label("账号").fill(supervisor.staff_profile.police_number)
    phone.get_by_label("密码").fill("Correct-horse-2026")
    phone.get_by_role("button", name="登录").last.click()
    phone.get_by_label("动态口令").fill(totp_token(supervisor))
    phone.get_by_role("button").filter(has_text="验证").first.click()
    phone.wait_for_url("**/letters/figures/supervision/")

    assert phone.get_by_role("heading", level=1).inner_text() == "督办：超期未复来信"
    by_department = phone.get_by_role("table", name="2026年收到的来信，按承办部门统计")
    assert "督察" in by_department.inner_text()  # counted, though not listed below
    overdue = phone.get_by_role("table", name="超期未复来信，按答复期限排序")
    link = overdue.get_by_role("link", name=letters[6].number)
    assert link.get_attribute("href") == f"/staff/letters/{letters[6].number}/"
    assert "另有 1 件超期来信不在您的查看范围内" in phone.locator("main").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.locator("#overdue-heading").scroll_into_view_if_needed()
    screenshot(phone, "overdue", full_page=False)
