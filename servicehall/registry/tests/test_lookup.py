"""Station look-ups and a resident's own household: access, jurisdiction, masking, audit."""

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from servicehall.accounts.tests.factories import (
    CitizenFactory,
    HotelUserFactory,
    StaffFactory,
    StationFactory,
    district,
    login_verified_staff,
)
from servicehall.core.masking import mask_id_number, mask_name, mask_phone
from servicehall.core.models import AuditEntry
from servicehall.registry import lookup

from .factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

SEARCH = reverse("registry_staff:search")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def city(db):
    """Two stations in 和平区, one in 沈河区; a family in the first, a person in the others."""
    heping_a = StationFactory(district=district("210102"), name="和平区测试甲派出所")
    heping_b = StationFactory(district=district("210102"), name="和平区测试乙派出所")
    shenhe = StationFactory(district=district("210103"), name="沈河区测试派出所")
    family = HouseholdFactory(station=heping_a)
    head = PersonFactory(household=family, name="王建国", relation="户主")
    spouse = PersonFactory(household=family, name="李秀英", relation="配偶")
    child = PersonFactory(household=family, name="王小明", relation="子")
    neighbour = PersonFactory(household=HouseholdFactory(station=heping_b), name="赵敏")
    faraway = PersonFactory(household=HouseholdFactory(station=shenhe), name="孙丽")
    return {
        "heping_a": heping_a,
        "heping_b": heping_b,
        "shenhe": shenhe,
        "family": family,
        "head": head,
        "spouse": spouse,
        "child": child,
        "neighbour": neighbour,
        "faraway": faraway,
    }


def staff(client, *roles, **unit):
    user = StaffFactory(roles=list(roles), **unit)
    login_verified_staff(client, user)
    return user


def search(client, **data):
    return client.post(SEARCH, {"purpose": "群众来所查询", **data})


def entries(action="registry.lookup"):
    return list(AuditEntry.objects.filter(action=action).order_by("sequence"))


def body(response) -> str:
    return CSRF.sub("", response.content.decode())


# --- who may look up ------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client):
    for response in (client.get(SEARCH), client.post(SEARCH, {"purpose": "户籍证明"})):
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]
    assert not entries()


def test_citizen_and_hotel_are_refused(client, city):
    for user in (CitizenFactory(), HotelUserFactory()):
        client.force_login(user)
        response = search(client, id_number=city["head"].id_number)
        assert response.status_code == 403
        assert "仅供公安机关工作人员使用" in response.content.decode()
    assert not entries()


def test_staff_without_a_lookup_role_is_refused(client, city):
    staff(client, "dispatcher", station=city["heping_a"])
    assert client.get(SEARCH).status_code == 403
    assert search(client, id_number=city["head"].id_number).status_code == 403
    assert not entries()
    assert AuditEntry.objects.filter(action="access.denied").exists()


def test_staff_without_second_factor_is_sent_to_otp(client, city):
    client.force_login(StaffFactory(roles=["window_clerk"], station=city["heping_a"]))
    response = search(client, id_number=city["head"].id_number)
    assert response.status_code == 302
    assert reverse("accounts:otp") in response["Location"]
    assert not entries()


@pytest.mark.parametrize("role", ["window_clerk", "reviewer", "approver", "supervisor"])
def test_lookup_roles_find_a_person_of_their_station(client, city, role):
    staff(client, role, station=city["heping_a"])
    response = search(client, id_number=city["head"].id_number)
    assert response.status_code == 200
    assert "王建国" in response.content.decode()


# --- purpose and input ----------------------------------------------------------------------


def test_purpose_is_required(client, city):
    staff(client, "window_clerk", station=city["heping_a"])
    response = client.post(SEARCH, {"id_number": city["head"].id_number})
    assert response.status_code == 400
    assert "请选择查询事由" in response.content.decode()
    assert "王建国" not in response.content.decode()
    response = client.post(SEARCH, {"id_number": city["head"].id_number, "purpose": "其他"})
    assert response.status_code == 400
    assert "请说明查询事由" in response.content.decode()
    assert not entries()


def test_bad_input_is_a_clear_400(client, city):
    staff(client, "window_clerk", station=city["heping_a"])
    bad_check = city["head"].id_number[:17] + ("0" if city["head"].id_number[17] != "0" else "1")
    cases = [
        ({"id_number": bad_check}, "校验位不正确"),
        ({"id_number": "12345"}, "应为18位"),
        ({"name": "王建国"}, "同时输入姓名和出生日期"),
        ({"name": "Wang", "birth_date": "1990-01-01"}, "姓名应为2至6个汉字"),
        ({"name": "王建国", "birth_date": "1990-13-01"}, "请输入正确的出生日期"),
        ({}, "请输入公民身份号码"),
    ]
    for data, message in cases:
        response = search(client, **data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    assert not entries()


def test_other_purpose_is_stored_as_written(client, city):
    staff(client, "window_clerk", station=city["heping_a"])
    search(client, id_number=city["head"].id_number, purpose="其他", purpose_detail="协查走失人员")
    search(client, id_number=city["head"].id_number, purpose_detail="受理号 HZ-1")
    assert [e.purpose for e in entries()] == ["协查走失人员", "群众来所查询：受理号 HZ-1"]


# --- jurisdiction ---------------------------------------------------------------------------


def test_clerk_of_another_district_is_told_not_found_and_the_lookup_is_audited(client, city):
    clerk = staff(client, "window_clerk", station=city["shenhe"])
    refused = search(client, id_number=city["head"].id_number)
    unknown_number = PersonFactory.build(district=district("210102")).id_number
    unknown = search(client, id_number=unknown_number)
    assert refused.status_code == unknown.status_code == 200
    assert "未找到符合条件的户籍人员" in refused.content.decode()
    assert "王建国" not in refused.content.decode()
    assert mask_id_number(city["head"].id_number) not in refused.content.decode()
    # Someone else's card and nobody's number look exactly the same.
    assert body(refused) == body(unknown)
    first, second = entries()
    assert first.actor_id == clerk.pk and first.details["found"] == 0
    assert first.details["results"] == [] and first.object_id == ""
    assert second.details["found"] == 0


def test_name_and_birth_date_across_jurisdiction_is_not_found(client, city):
    staff(client, "window_clerk", station=city["heping_b"])
    head = city["head"]
    response = search(client, name=head.name, birth_date=head.birth_date.isoformat())
    assert "未找到符合条件的户籍人员" in response.content.decode()
    assert entries()[-1].details["found"] == 0


def test_station_district_and_city_scopes(client, city):
    def found(user_kwargs):
        client.logout()
        staff(client, "reviewer", **user_kwargs)
        names = set()
        for key in ("head", "neighbour", "faraway"):
            if city[key].name in search(client, id_number=city[key].id_number).content.decode():
                names.add(key)
        return names

    assert found({"station": city["heping_a"]}) == {"head"}
    assert found({"district": district("210102")}) == {"head", "neighbour"}
    assert found({}) == {"head", "neighbour", "faraway"}


def test_name_and_birth_date_lookup(client, city):
    staff(client, "window_clerk", station=city["heping_a"])
    child = city["child"]
    response = search(client, name=child.name, birth_date=child.birth_date.isoformat())
    assert response.status_code == 200
    assert child.name in response.content.decode()
    (entry,) = entries()
    assert entry.details["query"] == "name_birth_date"
    assert entry.details["results"] == [child.pk] and entry.object_id == str(child.pk)
    assert child.name not in json.dumps(entry.details, ensure_ascii=False)
    assert entry.details["name_masked"] == mask_name(child.name)


def test_moved_out_and_deceased_cards_are_found_with_their_status(client, city):
    staff(client, "window_clerk", station=city["heping_a"])
    old = PersonFactory(household=city["family"], name="王老汉", status="deceased")
    response = search(client, id_number=old.id_number)
    assert "王老汉" in response.content.decode()
    assert "已死亡" in response.content.decode()


# --- audit ----------------------------------------------------------------------------------


def test_every_lookup_leaves_one_audit_entry_hits_and_misses(client, city):
    clerk = staff(client, "window_clerk", station=city["heping_a"])
    head, faraway = city["head"], city["faraway"]
    search(client, id_number=head.id_number)
    search(client, id_number=faraway.id_number)  # outside: a miss
    search(client, name="王建国", birth_date="1901-01-01")  # nobody
    search(client, purpose="户籍证明", name=head.name, birth_date=head.birth_date.isoformat())
    log = entries()
    assert [e.details["found"] for e in log] == [1, 0, 0, 1]
    assert all(e.actor_id == clerk.pk and e.ip == "127.0.0.1" for e in log)
    assert [e.purpose for e in log] == ["群众来所查询"] * 3 + ["户籍证明"]
    assert [e.details["query"] for e in log] == ["id_number"] * 2 + ["name_birth_date"] * 2
    assert log[0].object_type == "registry.person" and log[0].object_id == str(head.pk)


def test_audit_never_holds_a_full_id_number(client, city):
    staff(client, "supervisor")
    head = city["head"]
    search(client, id_number=head.id_number)
    search(client, id_number=head.id_number, reveal_reason="核对户籍证明")
    search(client, id_number=PersonFactory.build(district=district("210104")).id_number)
    for entry in AuditEntry.objects.all():
        text = json.dumps(
            [entry.details, entry.object_repr, entry.purpose, entry.object_id], ensure_ascii=False
        )
        assert head.id_number not in text
        assert head.phone not in text
    lookups = entries()
    assert lookups[0].details["id_number_masked"] == mask_id_number(head.id_number)
    # The keyed hash lets an auditor match repeated searches for one number.
    assert lookups[0].details["id_number_hmac"] == lookups[1].details["id_number_hmac"]
    assert lookups[0].details["id_number_hmac"] != lookups[2].details["id_number_hmac"]


# --- masking and full view ------------------------------------------------------------------


def test_id_number_and_phone_are_masked_by_default(client, city):
    staff(client, "supervisor", station=city["heping_a"])
    head = city["head"]
    page = search(client, id_number=head.id_number).content.decode()
    assert mask_id_number(head.id_number) in page and head.id_number not in page
    assert mask_phone(head.phone) in page and head.phone not in page
    assert not entries("personal_data.read")


@pytest.mark.parametrize("role", ["approver", "supervisor"])
def test_full_view_for_allowed_roles_is_audited(client, city, role):
    user = staff(client, role, station=city["heping_a"])
    head = city["head"]
    response = search(client, id_number=head.id_number, reveal_reason="出具户籍证明需核对")
    page = response.content.decode()
    assert head.id_number in page and head.phone in page
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    (read,) = entries("personal_data.read")
    assert read.actor_id == user.pk and read.purpose == "出具户籍证明需核对"
    assert read.details["fields"] == ["id_number", "phone"]
    assert read.details["results"] == [head.pk]
    assert read.details["lookup_purpose"] == "群众来所查询"
    assert len(entries()) == 1


@pytest.mark.parametrize("role", ["window_clerk", "reviewer"])
def test_full_view_is_refused_for_other_roles(client, city, role):
    staff(client, role, station=city["heping_a"])
    head = city["head"]
    response = search(client, id_number=head.id_number, reveal_reason="想看看")
    assert response.status_code == 403
    assert head.id_number not in response.content.decode()
    assert not entries() and not entries("personal_data.read")
    assert entries("access.denied")[0].details["reason"] == "registry.full_view"
    assert "reveal_reason" not in client.get(SEARCH).content.decode()


def test_full_view_finding_nobody_reads_nothing(client, city):
    staff(client, "approver", station=city["shenhe"])
    search(client, id_number=city["head"].id_number, reveal_reason="核对")
    assert len(entries()) == 1 and not entries("personal_data.read")


# --- household card -------------------------------------------------------------------------


def card_url(household, **query):
    url = reverse("registry_staff:household", args=[household.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_household_card_shows_members_masked(client, city):
    staff(client, "window_clerk", station=city["heping_a"])
    response = client.get(card_url(city["family"], purpose="户籍证明"))
    page = response.content.decode()
    assert response.status_code == 200
    for key in ("head", "spouse", "child"):
        person = city[key]
        assert person.name in page
        assert mask_id_number(person.id_number) in page and person.id_number not in page
        assert person.phone not in page
    (entry,) = entries()
    assert entry.details["query"] == "household" and entry.purpose == "户籍证明"
    assert sorted(entry.details["results"]) == sorted(
        city[k].pk for k in ("head", "spouse", "child")
    )
    assert entry.object_type == "registry.household"


def test_household_card_needs_a_purpose(client, city):
    staff(client, "window_clerk", station=city["heping_a"])
    asked = client.get(card_url(city["family"]))
    assert asked.status_code == 200 and "王建国" not in asked.content.decode()
    empty = client.get(card_url(city["family"], purpose=""))
    assert empty.status_code == 400 and "请填写查询事由" in empty.content.decode()
    assert not entries()


def test_household_outside_jurisdiction_is_not_found_and_audited(client, city):
    clerk = staff(client, "window_clerk", station=city["shenhe"])
    response = client.get(card_url(city["family"], purpose="户籍证明"))
    assert response.status_code == 404
    assert "王建国" not in response.content.decode()
    (entry,) = entries()
    assert entry.actor_id == clerk.pk and entry.details["found"] == 0
    assert entry.details["household_id"] == city["family"].pk


def test_household_card_reveal_for_approver_only(client, city):
    staff(client, "approver", station=city["heping_a"])
    url = reverse("registry_staff:household", args=[city["family"].pk])
    page = client.post(url, {"purpose": "户籍证明", "reveal_reason": "核对"}).content.decode()
    assert city["spouse"].id_number in page
    assert len(entries("personal_data.read")) == 1
    client.logout()
    staff(client, "window_clerk", station=city["heping_a"])
    response = client.post(url, {"purpose": "户籍证明", "reveal_reason": "核对"})
    assert response.status_code == 403
    assert len(entries("personal_data.read")) == 1


def test_results_link_to_the_card_with_the_purpose(client, city):
    staff(client, "window_clerk", station=city["heping_a"])
    page = search(client, id_number=city["child"].id_number).content.decode()
    link = re.search(r'href="(/staff/registry/households/\d+/\?purpose=[^"]+)"', page).group(1)
    response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200 and "李秀英" in response.content.decode()
    assert entries()[-1].purpose == "群众来所查询"


# --- a resident's own household -------------------------------------------------------------

MY = reverse("registry_resident:household")


def resident_of(person, *, verified=True):
    user = CitizenFactory(name=person.name)
    profile = user.citizen_profile
    profile.id_number = person.id_number
    profile.verified_at = timezone.now() if verified else None
    profile.save()
    return user


def test_resident_sees_own_household_with_others_masked(client, city):
    child = city["child"]
    client.force_login(resident_of(child))
    response = client.get(MY)
    page = response.content.decode()
    assert response.status_code == 200
    assert child.name in page and child.id_number in page and child.phone in page
    for key in ("head", "spouse"):
        other = city[key]
        assert other.name not in page and mask_name(other.name) in page
        assert other.id_number not in page and mask_id_number(other.id_number) in page
        assert other.phone not in page
        assert other.birth_date.isoformat() not in page
    for key in ("neighbour", "faraway"):
        assert mask_id_number(city[key].id_number) not in page
    (entry,) = entries("registry.self_read")
    assert entry.details["found"] is True and entry.purpose == lookup.SELF_READ_PURPOSE
    assert entry.object_id == str(city["family"].pk)


def test_resident_without_registry_record_is_told_so(client, city):
    client.force_login(resident_of(PersonFactory.build(district=district("210105"))))
    response = client.get(MY)
    assert response.status_code == 200
    assert "未查到与您的实名信息对应的本市户籍登记" in response.content.decode()
    assert entries("registry.self_read")[0].details["found"] is False


def test_unverified_profile_cannot_open_a_card(client, city):
    client.force_login(resident_of(city["child"], verified=False))
    response = client.get(MY)
    assert response.status_code == 403
    assert city["child"].id_number not in response.content.decode()


def test_moved_out_resident_sees_no_card(client, city):
    gone = PersonFactory(household=city["family"], name="王二", status="moved_out")
    client.force_login(resident_of(gone))
    assert "未查到" in client.get(MY).content.decode()


def test_resident_page_access(client, city):
    response = client.get(MY)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    staff(client, "window_clerk", station=city["heping_a"])
    assert client.get(MY).status_code == 403


def test_citizen_cannot_open_staff_pages(client, city):
    client.force_login(resident_of(city["child"]))
    assert client.get(SEARCH).status_code == 403
    assert client.get(card_url(city["family"], purpose="x")).status_code == 403
    assert client.get(reverse("registry_staff:proofs")).status_code == 403


def test_factories_make_valid_consistent_people(db):
    from servicehall.core.idnumbers import (
        id_number_birth_date,
        id_number_gender,
        is_valid_id_number,
    )

    people = PersonFactory.create_batch(30)
    for p in people:
        assert is_valid_id_number(p.id_number)
        assert id_number_birth_date(p.id_number) == p.birth_date
        assert id_number_gender(p.id_number) == p.gender
        assert p.id_number[:6] == p.district.code
        assert p.station.district_id == p.district_id == p.household.district_id
    assert len({p.id_number for p in people}) == 30
    assert dt.date(1950, 1, 1) <= min(p.birth_date for p in people)
