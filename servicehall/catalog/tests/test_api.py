import pytest

pytestmark = pytest.mark.django_db


def test_search_items_by_chinese_word(client, catalogue):
    response = client.get("/api/catalog/items", {"q": "护照"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] >= 1
    assert any("护照" in item["name"] for item in body["items"])
    assert body["items"][0]["url"].startswith("http://testserver/services/item/")


def test_filters_combine(client, catalogue):
    body = client.get(
        "/api/catalog/items", {"department": "xiaofang", "in_power_list": True}
    ).json()
    assert body["count"] >= 1
    assert {i["department"] for i in body["items"]} == {"xiaofang"}
    assert all(i["in_power_list"] for i in body["items"])


def test_item_detail_carries_the_whole_guide(client, catalogue):
    body = client.get("/api/catalog/items/XF-BA-001").json()
    assert body["guide"]["flow_rules"][0]["flow"] == "filing_spot_check"
    assert body["promised_days"] == 3
    assert body["qr_png"].endswith("/services/item/XF-BA-001/qr.png")


def test_unknown_item_is_a_404_in_chinese(client, catalogue):
    response = client.get("/api/catalog/items/NO-XK-000")
    assert response.status_code == 404
    assert "没有编码为" in response.json()["detail"]


def test_wrong_input_is_4xx_not_500(client, catalogue):
    assert client.get("/api/catalog/items", {"flow": "teleport"}).status_code == 422
    assert client.get("/api/catalog/items", {"q": "护" * 80}).status_code == 400
    assert client.get("/api/catalog/items", {"limit": "many"}).status_code == 422


def test_power_list_api_groups_by_department(client, catalogue):
    body = client.get("/api/catalog/power-list").json()
    assert len(body) >= 10
    assert all(item["in_power_list"] for group in body for item in group["items"])


def test_openapi_document_and_docs_page(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/catalog/items" in schema["paths"]
    assert "/api/catalog/items/{code}" in schema["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
