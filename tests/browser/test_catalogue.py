"""A citizen on a phone: search, open an item, read materials and limits, switch language and
type size, scan the QR code."""

import io

import pytest
import zxingcpp
from PIL import Image

pytestmark = pytest.mark.django_db(transaction=True)


def test_citizen_searches_and_reads_a_guide_on_a_phone(phone, screenshot):
    phone.goto(phone.base_url + "/")
    screenshot(phone, "home")
    phone.get_by_role("searchbox").first.fill("出生")
    phone.get_by_role("button", name="搜索").first.click()
    phone.wait_for_url("**/services/search/?q=*")
    results = phone.locator(".item-list a.item-name")
    assert results.first.inner_text() == "婴儿出生登记"
    screenshot(phone, "results")

    results.first.click()
    phone.wait_for_url("**/services/item/HZ-QR-001/")
    assert phone.get_by_role("heading", level=1).inner_text() == "婴儿出生登记"
    materials = phone.get_by_role("table")
    assert "《出生医学证明》" in materials.inner_text()
    facts = phone.locator(".facts").inner_text()
    assert "法定时限" in facts and "20个工作日" in facts
    assert "承诺时限" in facts and "1个工作日" in facts
    # Nothing may be wider than the phone: no sideways scrolling of the page itself.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "guide")


def test_svg_qr_code_as_rendered_decodes_to_the_item_url(phone, screenshot):
    phone.goto(phone.base_url + "/services/item/HZ-QR-001/")
    image = phone.locator(".qr img")
    image.scroll_into_view_if_needed()
    phone.wait_for_function("document.querySelector('.qr img').complete")
    png = image.screenshot()
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [r.text for r in decoded] == [phone.base_url + "/services/item/HZ-QR-001/"]


def test_switch_to_english_and_back(phone, screenshot):
    phone.goto(phone.base_url + "/services/item/HZ-QR-001/")
    phone.get_by_role("button", name="English").click()
    phone.wait_for_load_state()
    assert phone.get_by_role("heading", level=1).inner_text() == "Birth registration of a newborn"
    assert phone.locator("html").get_attribute("lang") == "en"
    assert "Legal time limit" in phone.locator(".facts").inner_text()
    screenshot(phone, "english")
    phone.get_by_role("button", name="中文").click()
    phone.wait_for_load_state()
    assert phone.get_by_role("heading", level=1).inner_text() == "婴儿出生登记"


def test_large_type_mode_enlarges_text(phone, screenshot):
    phone.goto(phone.base_url + "/services/")
    normal = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    phone.get_by_role("button", name="大字模式").click()
    phone.wait_for_load_state()
    large = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert large >= normal * 1.25
    assert phone.get_by_role("button", name="标准字号").get_attribute("aria-pressed") == "true"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "large-type")


def test_keyboard_user_reaches_main_content_first(phone):
    phone.goto(phone.base_url + "/")
    phone.keyboard.press("Tab")
    focused = phone.evaluate("document.activeElement.textContent.trim()")
    assert focused == "跳到主要内容"
