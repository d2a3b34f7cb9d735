"""The public catalogue pages as a citizen (anonymous) sees them."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from servicehall.accounts.models import Department
from servicehall.catalog.models import ServiceItem

pytestmark = pytest.mark.django_db


def test_home_shows_featured_services_and_search(client, catalogue):
    response = client.get("/")
    assertContains(response, 'role="search"')
    featured = [i.name for i in response.context["featured"]]
    assert "婴儿出生登记" in featured and "普通护照签发" in featured


def test_index_lists_every_department_and_life_event(client, catalogue):
    response = client.get(reverse("catalog:index"))
    for dept in Department.objects.all():
        assertContains(response, dept.name)
    assertContains(response, "出生落户")


def test_item_guide_shows_materials_limits_and_qr(client, catalogue):
    response = client.get(reverse("catalog:item", args=["HZ-QR-001"]))
    assertContains(response, "<h1>婴儿出生登记</h1>", html=True)
    assertContains(response, "《出生医学证明》")
    assertContains(response, "原件及复印件")
    assertContains(response, "法定时限")
    assertContains(response, "20个工作日")
    assertContains(response, "1个工作日")
    assertContains(response, reverse("catalog:item_qr", args=["HZ-QR-001", "svg"]))


def test_unknown_or_retired_item_is_404(client, catalogue):
    assert client.get(reverse("catalog:item", args=["NO-XK-000"])).status_code == 404
    ServiceItem.objects.filter(code="HZ-QR-001").update(is_active=False)
    assert client.get(reverse("catalog:item", args=["HZ-QR-001"])).status_code == 404


def test_department_and_life_event_pages(client, catalogue):
    response = client.get(reverse("catalog:department", args=["churujing"]))
    assertContains(response, "护照")
    assertNotContains(response, "婴儿出生登记")
    response = client.get(reverse("catalog:life_event", args=["birth"]))
    assertContains(response, "婴儿出生登记")


def test_search_page_and_its_errors(client, catalogue):
    response = client.get(reverse("catalog:search"), {"q": "出生"})
    assertContains(response, "婴儿出生登记")
    response = client.get(reverse("catalog:search"), {"q": "护" * 60})
    assert response.status_code == 400
    assertContains(response, "搜索内容过长", status_code=400)
    response = client.get(reverse("catalog:search"), {"q": "qqqxyz"})
    assertContains(response, "没有找到相关事项")


def test_power_list_groups_powers_by_department(client, catalogue):
    response = client.get(reverse("catalog:power_list"))
    powers = ServiceItem.active.filter(in_power_list=True)
    assert powers.count() > 50
    for item in powers:
        assertContains(response, item.code)
    for item in ServiceItem.active.filter(in_power_list=False):
        assertNotContains(response, f"<td>{item.code}</td>", html=True)
    depts = response.context["departments"]
    assert all(item.department_id == dept.id for dept in depts for item in dept.powers)


def test_english_interface_uses_english_names(client, catalogue):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("catalog:item", args=["HZ-QR-001"]))
    assertContains(response, "Birth registration of a newborn")
    assertContains(response, "Legal time limit")


def test_large_type_toggle_is_remembered(client, catalogue):
    page = reverse("catalog:index")
    response = client.post(reverse("core:toggle_large_type"), {"next": page})
    assert response.status_code == 302 and response["Location"] == page
    assertContains(client.get(page), 'class="large-type"')
    client.post(reverse("core:toggle_large_type"), {"next": page})
    assertNotContains(client.get(page), 'class="large-type"')


def test_toggle_refuses_to_redirect_off_site(client):
    response = client.post(reverse("core:toggle_large_type"), {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_pages_send_a_strict_content_security_policy(client, catalogue):
    response = client.get(reverse("catalog:item", args=["HZ-QR-001"]))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_query_services_link_to_the_page_that_provides_them(client, catalogue):
    response = client.get(reverse("catalog:item", args=["HZ-CX-002"]))
    assertContains(response, 'href="/registry/names/"')
    assert client.get("/registry/names/").status_code == 200
