"""The session's user comes with their real-name profile in one hand-written statement
(accounts.backends): it must give what the ORM's select_related gives."""

import pytest
from django.contrib.auth import get_user
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from servicehall.accounts.backends import ModelBackend, user_with_profile
from servicehall.accounts.models import CitizenProfile, User

from .factories import CitizenFactory, StaffFactory

pytestmark = pytest.mark.django_db


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_citizen_comes_with_the_profile_exactly_as_the_orm_reads_them():
    citizen = CitizenFactory()
    CitizenProfile.objects.filter(user=citizen).update(verified_at=timezone.now())
    expected = User.objects.select_related("citizen_profile").get(pk=citizen.pk)

    with CaptureQueriesContext(connection) as queries:
        user = user_with_profile(citizen.pk)
        profile = user.citizen_profile
        assert profile.user is user
    assert len(queries) == 1
    assert _fields(user) == _fields(expected)
    assert _fields(profile) == _fields(expected.citizen_profile)
    assert profile.verified_at is not None and profile.verified_at.tzinfo is not None
    assert not user._state.adding and user._state.db == "default"
    user.name = "改名"
    user.save(update_fields=["name"])  # a loaded instance saves as an UPDATE
    assert User.objects.get(pk=citizen.pk).name == "改名"


def test_a_staff_member_has_no_profile_and_asking_costs_no_query():
    clerk = StaffFactory(roles=["window_clerk"])
    with CaptureQueriesContext(connection) as queries:
        user = user_with_profile(str(clerk.pk))  # the session holds the id as text
        assert user.citizen_profile_or_none is None
        with pytest.raises(CitizenProfile.DoesNotExist):
            user.citizen_profile  # noqa: B018
    assert len(queries) == 1
    assert user.username == clerk.username


def test_unknown_and_inactive_users_are_no_session_user():
    citizen = CitizenFactory()
    assert user_with_profile(citizen.pk + 10_000) is None
    User.objects.filter(pk=citizen.pk).update(is_active=False)
    assert ModelBackend().get_user(citizen.pk) is None


def test_a_signed_in_request_gets_the_user_through_the_backend(client):
    citizen = CitizenFactory()
    client.force_login(citizen)
    request = RequestFactory().get("/")
    request.session = client.session
    with CaptureQueriesContext(connection) as queries:
        user = get_user(request)
        assert user.pk == citizen.pk
        assert user.citizen_profile.id_number == citizen.citizen_profile.id_number
    assert len(queries) <= 2  # the session (unless cached) and the user with the profile
