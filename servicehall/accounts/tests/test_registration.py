"""Citizen self-registration: real name, ID number, mobile, password."""

import datetime as dt

import pytest
from django.urls import reverse

from servicehall.accounts.models import CitizenProfile, User
from servicehall.core.idnumbers import make_id_number
from servicehall.core.models import AuditEntry

from .factories import CitizenFactory

pytestmark = pytest.mark.django_db

REGISTER = reverse("accounts:register")
VALID_ID = make_id_number("210103", dt.date(1988, 8, 8), 321)


def form(**changes):
    data = {
        "name": "刘演示",
        "id_number": VALID_ID,
        "mobile": "13912345678",
        "password1": "Shenyang-hall-2026",
        "password2": "Shenyang-hall-2026",
    }
    data.update(changes)
    return data


def test_page_renders(client):
    response = client.get(REGISTER)
    assert response.status_code == 200
    assert "个人实名注册" in response.content.decode()


def test_registration_creates_a_signed_in_citizen(client):
    response = client.post(REGISTER, form(id_number=VALID_ID.lower(), mobile="+86 139-1234-5678"))
    assert response.status_code == 302
    assert response.url == reverse("accounts:profile")
    profile = CitizenProfile.objects.select_related("user").get()
    assert profile.id_number == VALID_ID.upper()
    assert profile.mobile == "13912345678"
    assert profile.user.kind == User.Kind.CITIZEN
    assert profile.user.name == "刘演示"
    assert profile.user.username.startswith("c")
    assert VALID_ID not in profile.user.username
    assert int(client.session["_auth_user_id"]) == profile.user.pk
    entry = AuditEntry.objects.get(action="account.register")
    assert VALID_ID not in entry.object_repr  # masked


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"name": ""}, "这个字段是必填项"),
        ({"name": "A"}, "与身份证一致的姓名"),
        ({"name": "张三<script>"}, "与身份证一致的姓名"),
        ({"id_number": VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")}, "校验位不正确"),
        ({"id_number": VALID_ID[:17]}, "应为18位"),
        ({"id_number": "210103198802300011"}, "出生日期不正确"),
        ({"id_number": "abc"}, "应为18位"),
        ({"mobile": "12345678901"}, "11位中国大陆手机号码"),
        ({"mobile": "1391234567"}, "11位中国大陆手机号码"),
        ({"password2": "Different-2026"}, "两次输入的密码不一致"),
        ({"password1": "12345678", "password2": "12345678"}, "密码"),
        ({"password1": "short", "password2": "short"}, "密码"),
        ({"id_number": "x" * 5000}, "不超过 24"),
        ({"name": "刘\x00演示"}, "空字符串"),  # Django's wording for a NUL character
    ],
)
def test_wrong_input_gets_a_chinese_error(client, changes, field_error):
    response = client.post(REGISTER, form(**changes))
    assert response.status_code == 200
    html = response.content.decode()
    assert "请按提示修改" in html
    assert field_error in html
    assert not User.objects.exists()


def test_password_similar_to_mobile_is_refused(client):
    response = client.post(REGISTER, form(password1="13912345678a", password2="13912345678a"))
    assert response.status_code == 200
    assert not User.objects.exists()


def test_duplicate_id_number(client):
    existing = CitizenFactory()
    response = client.post(REGISTER, form(id_number=existing.citizen_profile.id_number))
    assert response.status_code == 200
    assert "该身份证号码已注册" in response.content.decode()
    assert User.objects.count() == 1


def test_duplicate_mobile(client):
    existing = CitizenFactory()
    response = client.post(REGISTER, form(mobile=existing.citizen_profile.mobile))
    assert response.status_code == 200
    assert "该手机号码已被其他账号使用" in response.content.decode()


def test_race_on_unique_id_is_a_form_error_not_500(client, monkeypatch):
    """Two submissions pass the form check together; the database refuses the second."""
    from servicehall.accounts import forms

    existing = CitizenFactory()
    monkeypatch.setattr(forms.CitizenProfile.objects, "filter", lambda **kw: User.objects.none())
    response = client.post(REGISTER, form(id_number=existing.citizen_profile.id_number))
    assert response.status_code == 200
    assert "该身份证号码已注册" in response.content.decode()
