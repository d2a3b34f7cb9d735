"""The OpenAPI document renders as Swagger UI under the strict CSP, with no outside requests."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_lists_the_catalogue_operations(phone, screenshot):
    violations, outside = [], []
    phone.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    phone.on(
        "request",
        lambda req: (
            outside.append(req.url)
            if not req.url.startswith(phone.base_url) and not req.url.startswith("data:")
            else None
        ),
    )
    phone.set_viewport_size({"width": 1280, "height": 900})
    phone.goto(phone.base_url + "/api/docs")
    phone.get_by_text("/api/catalog/items/{code}").first.wait_for()
    screenshot(phone, "swagger", full_page=False)
    assert violations == []
    assert outside == []
