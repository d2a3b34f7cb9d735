"""Fixtures shared by every app's tests. The database choice is in servicehall/pytest_plugin.py."""

import pytest
from hypothesis import settings as hypothesis_settings

# Hypothesis fails an example that runs longer than 200 ms by default: a timing assertion,
# which a busy CI machine trips. Timings are measured by bench/, never asserted in tests.
hypothesis_settings.register_profile("servicehall", deadline=None)
hypothesis_settings.load_profile("servicehall")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the calendar and catalogue once per run; tests see them as committed data."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("load_calendar", verbosity=0)
        call_command("load_catalog", verbosity=0)


@pytest.fixture
def catalogue(db):
    """The loaded calendar and catalogue; reloaded when a transactional test flushed them."""
    from django.core.management import call_command

    from servicehall.catalog.models import ServiceItem
    from servicehall.core.models import CalendarYear

    if not CalendarYear.objects.filter(confirmed=True).exists():
        call_command("load_calendar", verbosity=0)
    if not ServiceItem.objects.exists():
        call_command("load_catalog", verbosity=0)
    return ServiceItem.active


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is slow on purpose; tests that do not look at hashing need not pay for it."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Every test starts with an empty cache: rate-limit counters and cached look-ups must
    not carry over. (On SQLite a rolled-back test hands the next one the same user ids, so a
    leftover per-account counter turned a later booking test's 409 into a 429.)"""
    from django.core.cache import cache

    cache.clear()
    yield
