"""Identity proofs for hotel guests without an ID card (未带身份证住宿): the hotel flow, the
station's confirmation, policies, expiry, audit — and that a mismatch reveals nothing."""

import datetime as dt
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from servicehall.accounts.tests.factories import (
    CitizenFactory,
    HotelFactory,
    HotelUserFactory,
    StaffFactory,
    StationFactory,
    district,
    login_verified_staff,
)
from servicehall.core.idnumbers import make_id_number
from servicehall.core.masking import mask_id_number
from servicehall.core.models import AuditEntry
from servicehall.notify.models import Message
from servicehall.registry import proofs
from servicehall.registry.models import IdentityProof

from .factories import PersonFactory

pytestmark = pytest.mark.django_db

NOW = "2026-11-02 21:30:00+08:00"
NEW = reverse("registry_hotel:new_proof")
VERIFY = reverse("registry_hotel:verify")
HOME = reverse("registry_hotel:home")
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')
GUEST = "张三丰"
PHONE = "13912345678"
State = IdentityProof.State


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    cache.clear()  # rate-limit counters live in the cache
    yield time_machine
    cache.clear()


def numbers_with_one_mask(count: int) -> list[str]:
    """Valid ID numbers that mask alike (same region, sequence and check digit): a page that
    shows the typed number masked then differs only by what the registry holds."""
    found: dict[str, list[str]] = {}
    day = dt.date(1980, 1, 1)
    while True:
        number = make_id_number("210102", day, 123)
        found.setdefault(number[-1], []).append(number)
        if len(found[number[-1]]) == count:
            return found[number[-1]]
        day += timedelta(days=1)


@pytest.fixture
def station(db):
    return StationFactory(district=district("210102"), name="和平区测试派出所")


@pytest.fixture
def desk(client, station):
    """A front-desk login of a hotel in `station`, signed in on `client`."""
    user = HotelUserFactory(hotel=HotelFactory(station=station, name="测试宾馆"))
    client.force_login(user)
    return user


@pytest.fixture
def guest(station):
    """A registered resident of the city (the guest who forgot the ID card)."""
    return PersonFactory(name=GUEST)


def submit(client, name=GUEST, id_number="", phone=PHONE, **extra):
    return client.post(
        NEW, {"guest_name": name, "guest_id_number": id_number, "guest_phone": phone}
    )


def latest() -> IdentityProof:
    return IdentityProof.objects.latest("pk")


def verify(client, code):
    return client.post(VERIFY, {"code": code})


def actions() -> list[str]:
    return list(
        AuditEntry.objects.filter(action__startswith="identity_proof.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def clerk_of(client, station, role="window_clerk"):
    user = StaffFactory(roles=[role], station=station)
    client.logout()
    login_verified_staff(client, user)
    return user


# --- match: issued at once, redeemed once at check-in ---------------------------------------


def test_match_is_issued_with_a_code_and_qr(client, desk, guest):
    response = submit(client, id_number=guest.id_number)
    proof = latest()
    assert response.status_code == 302
    assert response["Location"] == reverse("registry_hotel:proof", args=[proof.pk])
    assert proof.state == State.ISSUED and proof.person_id == guest.pk
    assert proof.hotel == desk.hotel_account.hotel and proof.requested_by == desk
    assert len(proof.code) == proofs.CODE_LENGTH
    assert set(proof.code) <= set(proofs.CODE_ALPHABET)
    assert proof.expires_at - proof.created_at == timedelta(hours=24)
    page = client.get(response["Location"]).content.decode()
    assert proof.code in page and "核验通过" in page
    assert guest.id_number not in page and mask_id_number(guest.id_number) in page
    qr = client.get(reverse("registry_hotel:proof_qr", args=[proof.pk]))
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    (sms,) = Message.objects.filter(channel="sms")
    assert sms.recipient == PHONE and proof.code in sms.body and "测试宾馆" in sms.body
    assert actions() == ["identity_proof.request", "identity_proof.issue"]


def test_code_works_once_for_the_hotel_that_asked(client, desk, guest):
    submit(client, id_number=guest.id_number)
    proof = latest()
    first = verify(client, proof.code.lower()[:4] + " " + proof.code[4:].lower())
    assert first.status_code == 200 and "核验通过" in first.content.decode()
    proof.refresh_from_db()
    assert proof.state == State.USED and proof.used_at is not None
    again = verify(client, proof.code)
    assert again.status_code == 409 and "已使用" in again.content.decode()
    assert actions()[-2:] == ["identity_proof.use", "identity_proof.use"]
    log = AuditEntry.objects.filter(action="identity_proof.use").order_by("sequence")
    assert [e.success for e in log] == [True, False]
    assert [e.details["result"] for e in log] == ["ok", "used"]
    assert all(proof.code not in str(e.details) for e in log)


def test_another_hotel_cannot_use_the_code(client, desk, guest, station):
    submit(client, id_number=guest.id_number)
    proof = latest()
    other = HotelUserFactory(hotel=HotelFactory(station=station))
    client.force_login(other)
    stolen = verify(client, proof.code)
    guess = "ABCDEFGH" if proof.code != "ABCDEFGH" else "HGFEDCBA"
    made_up = verify(client, guess)
    assert stolen.status_code == made_up.status_code == 404
    assert "核验码无效" in stolen.content.decode()
    # Another hotel's code is exactly as unknown as one that never existed (the form shows
    # back what was typed).
    assert CSRF.sub("", stolen.content.decode()).replace(proof.code, "CODE") == CSRF.sub(
        "", made_up.content.decode()
    ).replace(guess, "CODE")
    assert client.get(reverse("registry_hotel:proof", args=[proof.pk])).status_code == 404
    proof.refresh_from_db()
    assert proof.state == State.ISSUED
    client.force_login(desk)
    assert verify(client, proof.code).status_code == 200


def test_expired_code_is_refused(client, desk, guest, frozen):
    submit(client, id_number=guest.id_number)
    proof = latest()
    frozen.shift(timedelta(hours=24))
    response = verify(client, proof.code)
    assert response.status_code == 409 and "已过期" in response.content.decode()
    proof.refresh_from_db()
    assert proof.state == State.EXPIRED
    assert verify(client, proof.code).status_code == 409


def test_code_is_valid_until_just_before_expiry(client, desk, guest, frozen, settings):
    settings.REGISTRY_PROOF_VALID_HOURS = 2
    submit(client, id_number=guest.id_number)
    frozen.shift(timedelta(hours=2) - timedelta(seconds=1))
    assert verify(client, latest().code).status_code == 200


# --- mismatch: pending at the station, and nothing learned ----------------------------------


def mismatch_kinds():
    """Three numbers masking alike: nobody's, another person's, a deceased person's."""
    unknown, someone_elses, deceased, moved = numbers_with_one_mask(4)
    PersonFactory(id_number=someone_elses, name="周杰伦", gender="M")
    PersonFactory(id_number=deceased, name=GUEST, gender="M", status="deceased")
    PersonFactory(id_number=moved, name=GUEST, gender="M", status="moved_out")
    return {"unknown": unknown, "other": someone_elses, "deceased": deceased, "moved": moved}


def normalised(text: str, proof: IdentityProof) -> str:
    text = CSRF.sub(r"\1TOKEN", text)
    return text.replace(f"/hotel/proofs/{proof.pk}/", "/hotel/proofs/PK/")


def test_a_hotel_learns_nothing_from_a_mismatching_id(client, desk, station):
    kinds = mismatch_kinds()
    seen = {}
    for kind, number in kinds.items():
        response = submit(client, id_number=number)
        proof = latest()
        assert response.status_code == 302, kind
        assert response["Location"] == reverse("registry_hotel:proof", args=[proof.pk])
        assert proof.state == State.PENDING and proof.person is None
        page = client.get(response["Location"])
        assert page.status_code == 200
        seen[kind] = normalised(page.content.decode(), proof)
        assert "周杰伦" not in page.content.decode()
    assert seen["unknown"] == seen["other"] == seen["deceased"] == seen["moved"]
    assert "未能自动核验，已转辖区派出所人工核验" in seen["unknown"]
    # The list page shows the same (masked, identical) rows for all of them.
    listing = client.get(HOME).content.decode()
    assert "周杰伦" not in listing and listing.count("待派出所确认") == 4
    assert not Message.objects.exists()


def test_mismatch_reason_is_for_staff_only_and_audited(client, desk, station):
    kinds = mismatch_kinds()
    for number in kinds.values():
        submit(client, id_number=number)
    reasons = {
        entry.details["match"]
        for entry in AuditEntry.objects.filter(action="identity_proof.request")
    }
    assert reasons == {"not_found", "name_mismatch", "not_live"}


def test_wrong_name_for_a_live_number_is_a_mismatch(client, desk, guest):
    submit(client, name="张三", id_number=guest.id_number)
    assert latest().state == State.PENDING
    page = client.get(reverse("registry_hotel:proof", args=[latest().pk])).content.decode()
    assert GUEST not in page


def test_clerk_of_the_station_confirms_a_pending_request(client, desk, station):
    kinds = mismatch_kinds()
    submit(client, id_number=kinds["other"])
    proof = latest()
    clerk = clerk_of(client, station)
    queue = client.get(reverse("registry_staff:proofs")).content.decode()
    assert mask_id_number(proof.guest_id_number) in queue and "测试宾馆" in queue
    detail = client.get(reverse("registry_staff:proof", args=[proof.pk]))
    page = detail.content.decode()
    assert detail.status_code == 200
    assert proof.guest_id_number in page and PHONE in page
    assert "身份号码在册，但姓名不一致" in page
    read = AuditEntry.objects.filter(action="personal_data.read").latest("sequence")
    assert read.actor_id == clerk.pk and read.purpose == "住宿身份核验"
    assert read.details["match"] == "name_mismatch"
    url = reverse("registry_staff:decide", args=[proof.pk, "confirm"])
    response = client.post(url, {"note": "已电话联系户籍地核实"})
    assert response.status_code == 302
    proof.refresh_from_db()
    assert proof.state == State.ISSUED and proof.confirmed_by == clerk and proof.code
    assert Message.objects.filter(recipient=PHONE, body__contains=proof.code).exists()
    again = client.post(url, {"note": ""})
    assert again.status_code == 409 and "已处理" in again.content.decode()
    assert actions() == ["identity_proof.request", "identity_proof.issue"]
    client.force_login(desk)
    assert (
        proof.code in client.get(reverse("registry_hotel:proof", args=[proof.pk])).content.decode()
    )
    assert verify(client, proof.code).status_code == 200


def test_clerk_refuses_with_a_reason(client, desk, station):
    submit(client, id_number=mismatch_kinds()["unknown"])
    proof = latest()
    clerk_of(client, station)
    url = reverse("registry_staff:decide", args=[proof.pk, "refuse"])
    no_reason = client.post(url, {"note": ""})
    assert no_reason.status_code == 400 and "请填写未通过核验的原因" in no_reason.content.decode()
    assert client.post(url, {"note": "无法联系户籍地"}).status_code == 302
    proof.refresh_from_db()
    assert proof.state == State.REFUSED and proof.code is None
    refusal = AuditEntry.objects.get(action="identity_proof.refuse")
    assert refusal.details == {"how": "confirmed", "reason": "无法联系户籍地"}
    client.force_login(desk)
    page = client.get(reverse("registry_hotel:proof", args=[proof.pk])).content.decode()
    assert "未能核实旅客身份" in page and "无法联系户籍地" not in page


def test_clerk_of_another_station_neither_sees_nor_decides(client, desk, station):
    submit(client, id_number=mismatch_kinds()["unknown"])
    proof = latest()
    clerk_of(client, StationFactory(district=district("210103")))
    assert (
        mask_id_number(proof.guest_id_number)
        not in client.get(reverse("registry_staff:proofs")).content.decode()
    )
    assert client.get(reverse("registry_staff:proof", args=[proof.pk])).status_code == 404
    confirm = reverse("registry_staff:decide", args=[proof.pk, "confirm"])
    assert client.post(confirm, {"note": "x"}).status_code == 404
    proof.refresh_from_db()
    assert proof.state == State.PENDING


def test_district_branch_sees_its_stations_requests(client, desk, station):
    submit(client, id_number=mismatch_kinds()["unknown"])
    user = StaffFactory(roles=["approver"], district=district("210102"))
    client.logout()
    login_verified_staff(client, user)
    assert client.get(reverse("registry_staff:proof", args=[latest().pk])).status_code == 200


def test_confirm_needs_a_role(client, desk, station):
    submit(client, id_number=mismatch_kinds()["unknown"])
    clerk_of(client, station, role="dispatcher")
    assert client.get(reverse("registry_staff:proofs")).status_code == 403
    url = reverse("registry_staff:decide", args=[latest().pk, "confirm"])
    assert client.post(url, {"note": ""}).status_code == 403


# --- policies -------------------------------------------------------------------------------


def test_policy_always_sends_matches_to_the_station_too(client, desk, guest, settings):
    settings.REGISTRY_PROOF_CONFIRMATION = "always"
    submit(client, id_number=guest.id_number)
    proof = latest()
    assert proof.state == State.PENDING and proof.code is None
    page = client.get(reverse("registry_hotel:proof", args=[proof.pk])).content.decode()
    assert "已转辖区派出所人工核验" in page


def test_policy_never_refuses_mismatches_at_once(client, desk, guest, settings):
    settings.REGISTRY_PROOF_CONFIRMATION = "never"
    submit(client, id_number=mismatch_kinds()["other"])
    assert latest().state == State.REFUSED
    assert actions() == ["identity_proof.request", "identity_proof.refuse"]
    submit(client, id_number=guest.id_number)
    assert latest().state == State.ISSUED


def test_unknown_policy_is_a_configuration_error(settings):
    settings.REGISTRY_PROOF_CONFIRMATION = "sometimes"
    with pytest.raises(Exception, match="REGISTRY_PROOF_CONFIRMATION"):
        proofs.policy()


# --- input, repeats, rate limit, access -----------------------------------------------------


def test_bad_input_is_a_clear_400(client, desk, guest):
    bad = guest.id_number[:17] + ("1" if guest.id_number[17] != "1" else "2")
    cases = [
        ({"id_number": bad}, "校验位不正确"),
        ({"id_number": guest.id_number, "phone": "12345"}, "11位中国大陆手机号码"),
        ({"id_number": guest.id_number, "name": "Zhang"}, "姓名应为2至6个汉字"),
        ({"id_number": ""}, "请输入旅客的公民身份号码"),
    ]
    for data, message in cases:
        response = submit(client, **data)
        assert response.status_code == 400, data
        assert message in response.content.decode()
    assert not IdentityProof.objects.exists()
    short = verify(client, "ABC")
    assert short.status_code == 400 and "核验码为8位" in short.content.decode()


def test_a_double_submit_is_one_request(client, desk, guest):
    submit(client, id_number=guest.id_number)
    submit(client, id_number=guest.id_number.lower(), name=" 张三丰 ")
    assert IdentityProof.objects.count() == 1
    assert Message.objects.count() == 1
    repeat = AuditEntry.objects.filter(action="identity_proof.request").latest("sequence")
    assert repeat.details["repeat"] is True


def test_submissions_are_rate_limited_per_account(client, desk, guest, settings, station):
    settings.REGISTRY_PROOF_RATE = "2/m"
    numbers = numbers_with_one_mask(3)
    assert submit(client, id_number=numbers[0]).status_code == 302
    assert submit(client, id_number=numbers[1]).status_code == 302
    limited = submit(client, id_number=numbers[2])
    assert limited.status_code == 429 and "提交过于频繁" in limited.content.decode()
    assert IdentityProof.objects.count() == 2
    client.force_login(HotelUserFactory(hotel=HotelFactory(station=station)))
    assert submit(client, id_number=numbers[2]).status_code == 302


def test_code_guessing_is_rate_limited(client, desk, settings):
    settings.REGISTRY_PROOF_VERIFY_RATE = "3/m"
    for _ in range(3):
        assert verify(client, "ABCDEFGH").status_code == 404
    limited = verify(client, "ABCDEFGH")
    assert limited.status_code == 429 and "核验过于频繁" in limited.content.decode()


@pytest.mark.parametrize("path", [HOME, VERIFY])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    response = client.post(NEW, {"guest_name": GUEST})
    assert response.status_code == 302 and not IdentityProof.objects.exists()


def test_citizens_and_staff_are_not_hotels(client, station):
    client.force_login(CitizenFactory())
    assert client.get(HOME).status_code == 403
    assert client.post(VERIFY, {"code": "ABCDEFGH"}).status_code == 403
    clerk_of(client, station)
    assert client.get(HOME).status_code == 403


def test_hotel_cannot_open_staff_pages(client, desk):
    assert client.get(reverse("registry_staff:proofs")).status_code == 403
    assert client.get(reverse("registry_staff:search")).status_code == 403


# --- expiry sweep ---------------------------------------------------------------------------


def test_expire_due_sweeps_issued_and_stale_pending(client, desk, guest, frozen):
    submit(client, id_number=guest.id_number)
    issued = latest()
    submit(client, id_number=mismatch_kinds()["unknown"])
    pending = latest()
    assert proofs.expire_due() == 0
    frozen.shift(timedelta(hours=24, minutes=1))
    assert proofs.expire_due() == 2
    assert proofs.expire_due() == 0
    issued.refresh_from_db()
    pending.refresh_from_db()
    assert issued.state == pending.state == State.EXPIRED
    entry = AuditEntry.objects.get(action="identity_proof.expire")
    assert entry.details["count"] == 2 and entry.actor_label == "system:expire_identity_proofs"
