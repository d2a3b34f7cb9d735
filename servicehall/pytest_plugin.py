"""pytest plugin, loaded with -p so it runs before pytest-django reads the settings.

Test database choice: PostgreSQL (the production database) whenever one is reachable.

- DATABASE_URL set: used as is.
- Otherwise PostgreSQL on 127.0.0.1:5432 is tried; if it answers, tests run there.
- SERVICEHALL_REQUIRE_POSTGRES=1 (set by .ci/run) turns "not reachable" into a hard failure.
- On SQLite, tests marked `postgres` are skipped with a visible reason (pytest -ra lists it).
"""

import os

import pytest

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/servicehall"


def _postgres_reachable(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url.replace("/servicehall", "/postgres"), connect_timeout=2):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def _choose_database() -> None:
    if os.environ.get("DATABASE_URL"):
        return
    if _postgres_reachable(DEFAULT_PG_URL):
        os.environ["DATABASE_URL"] = DEFAULT_PG_URL
    elif os.environ.get("SERVICEHALL_REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError(
            "PostgreSQL is required (SERVICEHALL_REQUIRE_POSTGRES=1) but 127.0.0.1:5432 "
            "does not answer; start it or set DATABASE_URL."
        )


_choose_database()


def pytest_report_header(config):
    return f"database: {os.environ.get('DATABASE_URL', 'SQLite (embedded default)')}"


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    if os.environ.get("SERVICEHALL_REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError("PostgreSQL is required but the settings chose SQLite.")
    skip = pytest.mark.skip(reason="needs PostgreSQL; running on SQLite")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
