"""The name API as gunicorn serves it: through config.wsgi's lean lane (short middleware
list), with the same answers, errors, language and rate limit as through the full hall."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from servicehall.core.tests.wsgi_client import wsgi_get
from servicehall.registry import names
from servicehall.registry.tests.test_names import API, city, no_rate_limit, populate  # noqa: F401


@pytest.mark.django_db
def test_lean_lane_answers_exactly_as_the_hall(client, city, no_rate_limit):  # noqa: F811
    populate()
    names.rebuild()
    for params in ({"name": "张伟"}, {"name": "张伟", "district": "210103"}, {"name": "赵钱孙"}):
        lean = wsgi_get(API, params)
        assert lean.status_code == 200
        assert lean.json() == client.get(API, params).json()
    assert lean.headers["content-type"].startswith("application/json")
    # Security headers stay; nothing of the hall's session machinery runs.
    assert lean.headers["x-content-type-options"] == "nosniff"
    assert lean.cookies == []
    assert "Cookie" not in lean.headers.get("vary", "")


@pytest.mark.django_db
def test_lean_lane_speaks_the_users_language(city, no_rate_limit):  # noqa: F811
    chinese = wsgi_get(API, {"name": "Zhang Wei"})
    assert chinese.status_code == 400
    assert "姓名只能由汉字组成" in chinese.json()["detail"]
    english = wsgi_get(API, {"name": "Zhang Wei"}, accept_language="en")
    assert english.status_code == 400
    assert "Chinese characters" in english.json()["detail"]
    assert english.headers["content-language"] == "en"
    assert "Accept-Language" in english.headers["vary"]


@pytest.mark.django_db
def test_lean_lane_is_rate_limited(city, settings):  # noqa: F811
    settings.REGISTRY_NAME_QUERY_RATE = "3/m"
    cache.clear()
    for _ in range(3):
        assert wsgi_get(API, {"name": "张伟"}).status_code == 200
    limited = wsgi_get(API, {"name": "张伟"}, accept_language="en")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert "Too many searches" in limited.json()["detail"]
    cache.clear()


@pytest.mark.django_db
def test_everything_else_is_served_by_the_full_hall(city):  # noqa: F811
    page = wsgi_get("/registry/names/")
    assert page.status_code == 200
    # The hall's page middleware ran: CSP header and the CSRF/session-aware Vary.
    assert "content-security-policy" in page.headers
    lean = wsgi_get(API, {"name": "张伟"})
    assert "content-security-policy" not in lean.headers
