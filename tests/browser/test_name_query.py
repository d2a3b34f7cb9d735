"""A parent on a phone checks a name for the baby: how many people already bear it, in the
district, by decade, and which names sound the same."""

import datetime as dt

import pytest

from servicehall.accounts.models import District
from servicehall.accounts.organisation import sync_districts
from servicehall.registry import names
from servicehall.registry.tests.factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registry(catalogue):
    sync_districts(District)  # a transactional test's flush empties them
    heping = HouseholdFactory()
    shenhe = HouseholdFactory(station=None, district=District.objects.get(code="210103"))
    for i, (name, home, year, gender) in enumerate(
        [
            ("张子涵", heping, 2015, "M"),
            ("张子涵", heping, 2016, "F"),
            ("张子涵", shenhe, 2018, "F"),
            ("张子涵", shenhe, 1992, "M"),
            ("张紫涵", heping, 2017, "F"),
            ("张资涵", shenhe, 2019, "F"),
            ("章子涵", heping, 1988, "M"),
        ]
    ):
        PersonFactory(name=name, household=home, birth_date=dt.date(year, 3, 1 + i), gender=gender)
    names.rebuild()


def test_parent_queries_a_name_on_a_phone(phone, screenshot, registry):
    phone.goto(phone.base_url + "/registry/names/")
    assert phone.get_by_role("heading", level=1).inner_text() == "新生儿取名重名查询"
    assert "不显示任何人的身份信息" in phone.get_by_role("search", name="重名查询").inner_text()
    phone.get_by_label("姓名").fill("张子涵")
    phone.get_by_label("区县（可选）").select_option(label="和平区")
    screenshot(phone, "form")
    phone.get_by_role("button", name="查询").click()
    phone.wait_for_url("**/registry/names/?name=*")

    result = phone.get_by_role("region", name="“张子涵”的查询结果")
    facts = result.locator(".facts").inner_text()
    assert "全市同名" in facts and "4 人" in facts
    assert "其中和平区" in facts
    assert "zhāng zǐ hán" in result.inner_text()
    decades = result.get_by_role("table").first.inner_text()
    assert "1990年代" in decades and "2010年代" in decades
    # Homophones: 张紫涵 and 章子涵 sound the same even in tones; 张资涵 only without tones.
    homophones = result.locator(".item-list").inner_text()
    assert "张紫涵" in homophones and "张资涵" in homophones and "章子涵" in homophones
    assert "共 7 人，其中其他写法 3 人" in homophones
    assert "共 6 人，其中其他写法 2 人" in homophones
    assert "本名" in homophones
    assert "只显示人数" in result.inner_text()
    # Phone-first: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "result")

    # A name typed in Latin letters gets a clear message, in Chinese, next to the field.
    phone.get_by_label("姓名").fill("Zhang")
    phone.get_by_role("button", name="查询").click()
    phone.wait_for_load_state()
    assert "不能包含字母" in phone.locator(".field.has-error").inner_text()
    screenshot(phone, "error")
