"""Who may open a staff page: one table of user kinds and the expected answer."""

import pytest
from django.urls import reverse

from .factories import (
    AgentFactory,
    CitizenFactory,
    HotelUserFactory,
    StaffFactory,
    StationFactory,
    login_verified_staff,
)

pytestmark = pytest.mark.django_db

STAFF_HOME = reverse("accounts:staff_home")


def anonymous(client):
    return None


def citizen(client):
    client.force_login(CitizenFactory())


def agent(client):
    client.force_login(AgentFactory())


def hotel(client):
    client.force_login(HotelUserFactory())


def staff_password_only(client):
    # A staff session without the second factor (e.g. from django-admin's login).
    client.force_login(StaffFactory())


def staff_verified(client):
    login_verified_staff(client, StaffFactory())


def inactive_staff(client):
    user = StaffFactory()
    login_verified_staff(client, user)
    user.is_active = False
    user.save()


@pytest.mark.parametrize(
    ("sign_in", "status", "location"),
    [
        (anonymous, 302, f"{reverse('accounts:login')}?next={STAFF_HOME}"),
        (citizen, 403, None),
        (agent, 403, None),
        (hotel, 403, None),
        (
            staff_password_only,
            302,
            f"{reverse('accounts:otp')}?next={STAFF_HOME.replace('/', '%2F')}",
        ),
        (staff_verified, 200, None),
        (inactive_staff, 302, f"{reverse('accounts:login')}?next={STAFF_HOME}"),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_staff_home_access(client, sign_in, status, location):
    sign_in(client)
    response = client.get(STAFF_HOME)
    assert response.status_code == status
    if location:
        assert response.url == location
    if status == 403:
        assert "此页面仅供公安机关工作人员使用" in response.content.decode()


def test_staff_home_shows_name_department_station_roles(client):
    station = StationFactory(name="测试北市场派出所")
    staff = StaffFactory(name="李演示", station=station, roles=["window_clerk", "reviewer"])
    login_verified_staff(client, staff)
    html = client.get(STAFF_HOME).content.decode()
    for text in [
        "李演示",
        staff.staff_profile.police_number,
        "户政管理",
        "测试北市场派出所",
        "窗口受理员",
        "审核员",
    ]:
        assert text in html


def test_staff_home_for_city_level_staff(client):
    staff = StaffFactory(name="周演示")
    login_verified_staff(client, staff)
    html = client.get(STAFF_HOME).content.decode()
    assert "市局" in html
    assert "尚未分配角色" in html


def test_citizen_profile_page_masks_personal_data(client):
    user = CitizenFactory(name="张三")
    client.force_login(user)
    html = client.get(reverse("accounts:profile")).content.decode()
    profile = user.citizen_profile
    assert profile.id_number not in html
    assert profile.mobile not in html
    assert f"{profile.id_number[:6]}********{profile.id_number[-4:]}" in html
    assert "张*" in html


def test_profile_page_sends_staff_to_their_home(client):
    login_verified_staff(client, StaffFactory())
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response.url == STAFF_HOME
