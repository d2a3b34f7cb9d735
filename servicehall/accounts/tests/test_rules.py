"""Role and jurisdiction predicates (servicehall.accounts.rules)."""

import pytest
from django.contrib.auth.models import AnonymousUser

from servicehall.accounts import rules as r
from servicehall.accounts.models import Hotel, Role

from .factories import (
    AgentFactory,
    CitizenFactory,
    EnterpriseFactory,
    HotelFactory,
    HotelUserFactory,
    StaffFactory,
    StationFactory,
    district,
)

pytestmark = pytest.mark.django_db


def test_has_role_predicate():
    approver = StaffFactory(roles=[Role.APPROVER])
    clerk = StaffFactory(roles=["window_clerk", "reviewer"])
    assert r.has_role("approver")(approver)
    assert r.has_role(Role.APPROVER)(approver)  # TextChoices members work too
    assert not r.has_role("approver")(clerk)
    assert r.has_role("approver", "reviewer")(clerk)
    assert not r.has_role("approver")(CitizenFactory())
    assert not r.has_role("approver")(AnonymousUser())
    assert r.has_role("approver") is r.has_role("approver")  # cached


def test_has_role_rejects_unknown_roles():
    with pytest.raises(ValueError):
        r.has_role("superhero")
    with pytest.raises(ValueError):
        r.has_role()


def test_roles_of_inactive_staff_do_not_count():
    approver = StaffFactory(roles=["approver"], is_active=False)
    assert not r.has_role("approver")(approver)
    assert not approver.is_staff_member


@pytest.mark.parametrize(
    ("make_user", "staff", "citizen", "agent", "hotel"),
    [
        (CitizenFactory, False, True, False, False),
        (AgentFactory, False, False, True, False),
        (HotelUserFactory, False, False, False, True),
        (StaffFactory, True, False, False, False),
    ],
)
def test_kind_predicates(make_user, staff, citizen, agent, hotel):
    user = make_user()
    assert r.is_staff_member(user) is staff
    assert user.is_staff_member is staff
    assert r.is_citizen(user) is citizen
    assert r.is_enterprise_agent(user) is agent
    assert r.is_hotel_user(user) is hotel


def test_anonymous_is_nothing():
    anon = AnonymousUser()
    for predicate in (r.is_staff_member, r.is_citizen, r.is_hotel_user, r.is_otp_verified):
        assert not predicate(anon)


@pytest.fixture
def places():
    heping, shenhe = district("210102"), district("210103")
    a1 = StationFactory(district=heping)
    a2 = StationFactory(district=heping)
    b1 = StationFactory(district=shenhe)
    hotels = {
        name: HotelFactory(station=station)
        for name, station in [("a1", a1), ("a2", a2), ("b1", b1)]
    }
    return {"heping": heping, "a1": a1, "a2": a2, "b1": b1, "hotels": hotels}


@pytest.mark.parametrize(
    ("unit", "sees"),
    [
        ("station_a1", {"a1"}),
        ("district_heping", {"a1", "a2"}),
        ("city", {"a1", "a2", "b1"}),
    ],
)
def test_jurisdiction(places, unit, sees):
    if unit == "station_a1":
        staff = StaffFactory(station=places["a1"])
    elif unit == "district_heping":
        staff = StaffFactory(district=places["heping"])
    else:
        staff = StaffFactory()
    hotels = places["hotels"]
    assert {name for name, hotel in hotels.items() if r.in_jurisdiction(staff, hotel)} == sees
    visible = r.jurisdiction_filter(staff, Hotel.objects.all())
    assert set(visible) == {hotels[name] for name in sees}
    assert r.is_city_level(staff) is (unit == "city")


def test_same_station_and_district(places):
    staff = StaffFactory(station=places["a1"])
    hotels = places["hotels"]
    assert r.same_station(staff, hotels["a1"])
    assert not r.same_station(staff, hotels["a2"])
    assert r.same_district(staff, hotels["a2"])
    assert not r.same_district(staff, hotels["b1"])
    assert not r.same_station(CitizenFactory(), hotels["a1"])


def test_non_staff_see_no_jurisdiction(places):
    citizen = CitizenFactory()
    assert not r.in_jurisdiction(citizen, places["hotels"]["a1"])
    assert not r.jurisdiction_filter(citizen, Hotel.objects.all()).exists()


def test_enterprise_agents():
    enterprise = EnterpriseFactory()
    agent = AgentFactory(enterprise=enterprise)
    stranger = AgentFactory()
    assert r.acts_for_enterprise(agent, enterprise)
    assert not r.acts_for_enterprise(stranger, enterprise)
    assert agent.has_perm("accounts.act_for_enterprise", enterprise)
    enterprise.memberships.update(is_active=False)
    assert not r.acts_for_enterprise(agent, enterprise)


def test_hotel_accounts(places):
    hotel = places["hotels"]["a1"]
    own = HotelUserFactory(hotel=hotel)
    other = HotelUserFactory()
    assert own.has_perm("accounts.act_for_hotel", hotel)
    assert not other.has_perm("accounts.act_for_hotel", hotel)


def test_permissions_need_a_verified_second_factor():
    admin = StaffFactory(roles=["administrator"])
    assert not admin.has_perm("accounts.manage_staff")  # not verified
    admin.is_verified = lambda: True  # as django_otp's middleware sets it
    assert admin.has_perm("accounts.manage_staff")
    clerk = StaffFactory(roles=["window_clerk"])
    clerk.is_verified = lambda: True
    assert not clerk.has_perm("accounts.manage_staff")
    assert clerk.has_perm("accounts.view_staff_home")
