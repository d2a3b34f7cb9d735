"""POST /api/letters/import/letters(/batch): outside platforms hand letters over with their key;
idempotent by their id, bad rows refused field by field in the caller's language."""

import pytest

from servicehall.core.models import AuditEntry
from servicehall.letters import platforms
from servicehall.letters.models import Letter, OutsidePlatform

from .conftest import NOW

pytestmark = pytest.mark.django_db
ONE = "/api/letters/import/letters"
BATCH = "/api/letters/import/letters/batch"


@pytest.fixture(autouse=True)
def fixed_day(time_machine, calendar):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def minxin(db):
    return OutsidePlatform.objects.create(code="minxin", name="民心网")


@pytest.fixture
def key(minxin):
    return platforms.issue_key(actor=None, platform=minxin)


def row(**fields):
    return {
        "outside_id": "MX2026-0042",
        "kind": "complaint",
        "subject": "噪音扰民",
        "body": "小区附近工地夜间施工。",
        "contact_name": "钱演示",
        "contact_phone": "13900002222",
        "submitted_at": "2026-11-25T18:00:00+08:00",
        "address": "和平区南京街1号",
        "lat": 41.796,
        "long": 123.429,
    } | fields


def post(client, body, key=None, path=ONE, **headers):
    if key is not None:
        headers["HTTP_X_API_KEY"] = key
    return client.post(path, body, content_type="application/json", **headers)


def test_a_new_letter_is_201_and_the_same_id_again_200(client, key, minxin):
    response = post(client, row(), key)
    assert response.status_code == 201
    mail = Letter.objects.get()
    assert response.json() == {"number": mail.number, "created": True}
    assert (mail.channel, mail.outside_platform, mail.outside_id, mail.kind) == (
        "outside",
        minxin,
        "MX2026-0042",
        "complaint",
    )
    assert mail.department.code == "xinfang" and str(mail.lat) == "41.796000"
    assert mail.outside_submitted_at.isoformat() == "2026-11-25T10:00:00+00:00"
    entry = AuditEntry.objects.get(action="letter.import")
    assert entry.actor_label == "platform:minxin" and entry.ip is None

    again = post(client, row(subject="改过的标题"), key)
    assert again.status_code == 200
    assert again.json() == {"number": mail.number, "created": False}
    assert Letter.objects.count() == 1 and Letter.objects.get().subject == "噪音扰民"


def test_chinese_kind_names_and_minimal_letters_are_accepted(client, key):
    response = post(client, {"outside_id": 7, "kind": "咨询", "subject": "问", "body": "答"}, key)
    assert response.status_code == 201
    mail = Letter.objects.get()
    assert (mail.outside_id, mail.kind, mail.contact_phone, mail.lat) == (
        "7",
        "consultation",
        "",
        None,
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_X_API_KEY": "wrong"}, {"HTTP_X_API_KEY": ""}, {"HTTP_AUTHORIZATION": "Bearer x"}],
)
def test_without_a_valid_key_401(client, key, headers):
    response = client.post(ONE, row(), content_type="application/json", **headers)
    assert response.status_code == 401
    assert "X-Api-Key" in response.json()["detail"]
    assert post(client, [row()], path=BATCH, **headers).status_code == 401
    assert not Letter.objects.exists()


def test_a_disabled_platform_or_a_replaced_key_is_401(client, key, minxin):
    minxin.active = False
    minxin.save()
    assert post(client, row(), key).status_code == 401
    minxin.active = True
    minxin.save()
    new_key = platforms.issue_key(actor=None, platform=minxin)
    assert post(client, row(), key).status_code == 401
    assert post(client, row(), new_key).status_code == 201


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"subject": ""}, "subject", "请填写标题。"),
        ({"body": None}, "body", "请填写来信内容。"),
        ({"outside_id": ""}, "outside_id", "请提供外部平台的来信编号"),
        ({"outside_id": "x" * 65}, "outside_id", "不超过64个字符"),
        ({"kind": "chat"}, "kind", "来信类别应为以下之一"),
        ({"contact_phone": "12345"}, "contact_phone", "请填写正确的手机号码或固定电话号码。"),
        ({"contact_email": "not-mail"}, "contact_email", "请填写正确的电子邮箱地址。"),
        ({"submitted_at": "yesterday"}, "submitted_at", "时间格式应为"),
        ({"lat": 95}, "lat", "90"),
        ({"long": None}, "long", "请提供有效的经纬度，或都不填。"),
        ({"subject": "长" * 201}, "subject", "200"),
    ],
)
def test_bad_rows_are_400_with_errors_by_field_in_chinese(client, key, fields, field, message):
    response = post(client, row(**fields), key)
    assert response.status_code == 400
    answer = response.json()
    assert answer["detail"] and list(answer["errors"]) == [field]
    assert message in answer["errors"][field][0]
    assert not Letter.objects.exists()


def test_errors_in_english_on_request(client, key):
    response = post(client, row(subject="", contact_phone="12345"), key, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["subject"] == ["Please enter a subject."]
    assert errors["contact_phone"] == ["Please enter a valid mobile or landline number."]


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"text"', "null"])
def test_a_body_that_is_not_a_letter_is_400(client, key, body):
    response = client.post(ONE, body, content_type="application/json", HTTP_X_API_KEY=key)
    assert response.status_code == 400 and response.json()["detail"]


def test_a_batch_answers_row_by_row(client, key):
    post(client, row(outside_id="MX-1"), key)
    rows = [
        row(outside_id="MX-1"),  # accepted before
        row(outside_id="MX-2"),
        row(outside_id="MX-3", subject=""),
        "not a letter",
        row(outside_id="MX-4", kind="表扬"),
    ]
    response = post(client, rows, key, path=BATCH)
    assert response.status_code == 200
    answer = response.json()
    assert (answer["created"], answer["existing"], answer["invalid"]) == (2, 1, 2)
    results = answer["results"]
    assert [r["status"] for r in results] == [
        "existing",
        "created",
        "invalid",
        "invalid",
        "created",
    ]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert results[2]["outside_id"] == "MX-3" and list(results[2]["errors"]) == ["subject"]
    assert results[3]["errors"]["__all__"]
    numbers = {r["number"] for r in results if r["number"]}
    assert numbers == set(Letter.objects.values_list("number", flat=True))
    assert Letter.objects.count() == 3

    again = post(client, {"letters": rows}, key, path=BATCH).json()
    assert (again["created"], again["existing"], again["invalid"]) == (0, 3, 2)
    assert Letter.objects.count() == 3


def test_a_batch_must_be_a_short_list(client, key):
    assert post(client, row(), key, path=BATCH).status_code == 400
    response = post(client, [row(outside_id=str(i)) for i in range(501)], key, path=BATCH)
    assert response.status_code == 400 and "500" in response.json()["detail"]
    assert not Letter.objects.exists()


def test_the_endpoints_are_documented(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"][ONE]["post"]
    assert set(operation["responses"]) >= {"200", "201", "400", "401"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"outside_id", "kind", "subject", "body"} <= set(body["required"])
    assert schema["components"]["securitySchemes"]["PlatformKey"]["name"] == "X-Api-Key"
    assert schema["paths"][BATCH]["post"]["requestBody"]["content"]["application/json"]
