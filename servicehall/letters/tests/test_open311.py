"""Open311 GeoReport v2 (/open311/): every JSON answer validates against the published
schemas (open311_schemas/, CC BY 3.0) or, where none is published (discovery, errors, POST
and token answers), against schemas written here from the specification text and the
published Swagger definitions; every XML answer has the spec's elements and the same data.
Also: errors in both formats with their HTTP status, filing through the letters store, tokens,
filters, privacy (no writer, contact or text; no misconduct reports)."""

import json
import re
import xml.etree.ElementTree as ET  # noqa: S405 - parses this project's own responses only
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import time_machine
from django.test import Client
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from servicehall.accounts.tests.factories import department
from servicehall.letters import platforms, workflow
from servicehall.letters.models import Letter, OutsidePlatform

from .conftest import NOW, letter

pytestmark = pytest.mark.django_db
SCHEMAS = Path(__file__).parent / "open311_schemas"
V2 = "/open311/v2"
LATER = "2026-11-27 15:00 +0800"

# --- schemas ------------------------------------------------------------------------------------

_W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
CHECKER = jsonschema.FormatChecker(formats=())


@CHECKER.checks("date-time", raises=ValueError)
def _w3c_datetime(value):
    """The spec: W3C date-time with a time zone (Z or ±hh:mm)."""
    if isinstance(value, str):
        if not _W3C.match(value):
            raise ValueError(value)
        datetime.fromisoformat(value)
    return True


@CHECKER.checks("uri", raises=ValueError)
def _uri(value):
    if isinstance(value, str) and not (urlsplit(value).scheme and urlsplit(value).netloc):
        raise ValueError(value)
    return True


def _load(name):
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


REGISTRY = Registry().with_resources(
    (path.name, Resource(contents=_load(path.name), specification=DRAFT4))
    for path in SCHEMAS.glob("*.json")
)
SWAGGER = _load("swagger.json")["definitions"]
# No schema is published for these; written from the specification text.
ERRORS_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "additionalProperties": False,
    },
}
DISCOVERY_SCHEMA = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "changeset": {"type": "string"},
        "contact": {"type": "string"},
        "key_service": {"type": "string"},
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "specification": {"type": "string"},
                    "url": {"type": "string", "format": "uri"},
                    "changeset": {"type": "string"},
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def valid(document, schema):
    """Validate, and refuse fields the schema does not know (nothing extra leaks out)."""
    if isinstance(schema, str):
        schema = _load(schema)
    jsonschema.Draft4Validator(schema, registry=REGISTRY, format_checker=CHECKER).validate(document)
    ref = schema.get("items", {}).get("$ref")
    item_schema = _load(ref) if ref else schema.get("items", schema)
    for item in document if isinstance(document, list) else [document]:
        known = item_schema.get("properties")
        if known and isinstance(item, dict):
            assert set(item) <= set(known), set(item) - set(known)
    return document


def valid_items(document, definition):
    """Each element of an array answer against a Swagger definition."""
    assert isinstance(document, list) and document
    for item in document:
        valid(item, SWAGGER[definition])
        assert set(item) <= set(SWAGGER[definition]["properties"])
    return document


def test_the_schemas_are_strict_enough_to_catch_mistakes():
    good = {
        "service_request_id": "XF1",
        "status": "open",
        "service_code": "help",
        "requested_datetime": "2026-11-26T10:00:00+08:00",
    }
    valid([good], "requests.json")
    for bad in ({"status": "pending"}, {"requested_datetime": "2026-11-26 10:00"}, {"lat": "1"}):
        with pytest.raises(jsonschema.ValidationError):
            valid([good | bad], "requests.json")


# --- XML ------------------------------------------------------------------------------------------

# The spec's containers (⇊) and the element each repeats (↴).
REPEATS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def xml_of(response, root):
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    element = ET.fromstring(response.content)  # noqa: S314 - our own response
    assert element.tag == root
    return element


def spark(element):
    """The Spark-convention JSON of an XML element, all leaves as text (None when empty)."""
    if element.tag in REPEATS:
        assert {child.tag for child in element} <= {REPEATS[element.tag]}
        return [spark(child) for child in element]
    if len(element):
        tags = [child.tag for child in element]
        assert len(tags) == len(set(tags)), tags
        return {child.tag: spark(child) for child in element}
    return element.text or None


def as_text(value):
    """JSON data with leaves written as the XML writes them."""
    if isinstance(value, dict):
        return {key: as_text(child) for key, child in value.items()}
    if isinstance(value, list):
        return [as_text(child) for child in value]
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def same_in_xml(client, url, root, document, **extra):
    """The .xml twin of a .json URL answers with the same data under the spec's elements."""
    response = client.get(url.replace(".json", ".xml", 1), **extra)
    assert spark(xml_of(response, root)) == as_text(document)
    return response


def json_of(response, status=200):
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def error_pair(client, url, status, *, method="get", data=None, **extra):
    """The same error in JSON and XML: the spec's shape, code = HTTP status."""
    send = getattr(client, method)
    document = valid(json_of(send(url, data or {}, **extra), status), ERRORS_SCHEMA)
    assert document[0]["code"] == status
    xml_response = send(url.replace(".json", ".xml", 1), data or {}, **extra)
    assert xml_response.status_code == status
    assert spark(xml_of(xml_response, "errors")) == as_text(document)
    return document


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)  # API clients carry no CSRF token


@pytest.fixture
def platform(db):
    minxin = OutsidePlatform.objects.create(code="minxin", name="民心网")
    minxin.key = platforms.issue_key(actor=None, platform=minxin)
    return minxin


def form(platform, **fields):
    values = {
        "api_key": platform.key,
        "jurisdiction_id": "shenyang.gov.cn",
        "service_code": "complaint",
        "lat": "41.805699",
        "long": "123.431472",
        "address_string": "沈阳市和平区南京北街1号",
        "email": "zhang@example.com",
        "first_name": "三",
        "last_name": "张",
        "phone": "13900001111",
        "device_id": "dev-1",
        "account_id": "u-77",
        "description": "小区门口夜间有人长期占道经营，噪音扰民。",
        "media_url": "https://img.example.com/r/42.jpg",
        "attribute[subject]": "夜间占道经营扰民",
        "attribute[platform_request_id]": "MX2026-0042",
    }
    return {key: value for key, value in (values | fields).items() if value is not None}


def post(client, platform, fmt="json", at=NOW, **fields):
    with time_machine.travel(at, tick=False):
        return client.post(f"{V2}/requests.{fmt}", form(platform, **fields))


def get(client, url, at=LATER, **extra):
    with time_machine.travel(at, tick=False):
        return client.get(url, **extra)


# --- discovery, services, definitions ---------------------------------------------------------------


def test_discovery_in_both_formats(client):
    document = valid(json_of(client.get("/open311/discovery.json")), DISCOVERY_SCHEMA)
    (endpoint,) = document["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert endpoint["type"] == "production"
    same_in_xml(client, "/open311/discovery.json", "discovery", document)


def test_services_are_the_letter_kinds_in_chinese(client):
    document = valid(json_of(client.get(f"{V2}/services.json")), "services.json")
    names = {service["service_code"]: service["service_name"] for service in document}
    assert names == {
        "consultation": "咨询",
        "help": "求助",
        "complaint": "投诉",
        "suggestion": "建议",
        "report": "举报",
        "praise": "表扬",
    }
    assert {(s["type"], s["metadata"]) for s in document} == {("realtime", True)}
    assert "3个工作日" in document[0]["description"]
    same_in_xml(client, f"{V2}/services.json", "services", document)
    english = client.get(f"{V2}/services.json", HTTP_ACCEPT_LANGUAGE="en")
    assert json_of(english) == document  # the jurisdiction's language, whatever is asked


@pytest.mark.parametrize("code", ["consultation", "help", "complaint", "suggestion", "report"])
def test_service_definitions(client, code):
    url = f"{V2}/services/{code}.json"
    document = valid(json_of(client.get(url)), "service-definition.json")
    assert document["service_code"] == code
    attributes = {a["code"]: a for a in document["attributes"]}
    assert {"subject", "platform_request_id", "emergency_notice"} <= set(attributes)
    assert attributes["emergency_notice"]["variable"] is False
    assert not any(a["required"] for a in document["attributes"])
    orders = [a["order"] for a in document["attributes"]]
    assert orders == sorted(set(orders)) and min(orders) == 1
    assert ("misconduct_notice" in attributes) == (code == "report")
    same_in_xml(client, url, "service_definition", document)


def test_unknown_service_code_and_jurisdiction_are_404(client):
    errors = error_pair(client, f"{V2}/services/parking.json", 404)
    assert "parking" in errors[0]["description"]
    error_pair(client, f"{V2}/services.json?jurisdiction_id=dalian.gov.cn", 404)
    ours = client.get(f"{V2}/services.json?jurisdiction_id=shenyang.gov.cn")
    assert ours.status_code == 200
    empty = client.get(f"{V2}/services.json?jurisdiction_id=")  # empty = not given (spec)
    assert empty.status_code == 200


def test_bad_urls_methods_and_formats_answer_with_the_spec_errors(client):
    response = client.get(f"{V2}/services.html")
    assert response.status_code == 400
    assert spark(xml_of(response, "errors"))[0]["code"] == "400"  # XML: the required format
    error_pair(client, f"{V2}/nothing/here.json", 404)
    errors = error_pair(client, f"{V2}/services.json", 405, method="post")
    assert errors[0]["code"] == 405
    assert client.post(f"{V2}/services.json")["Allow"] == "GET, HEAD"
    assert client.put(f"{V2}/requests.json")["Allow"] == "GET, POST, HEAD"
    assert client.head(f"{V2}/services.xml").status_code == 200


# --- creating a request -----------------------------------------------------------------------------


def test_a_platform_files_a_request_into_the_letters_store(client, platform, team):
    document = valid_items(json_of(post(client, platform)), "RequestResponse")
    (answer,) = document
    mail = Letter.objects.get(number=answer["service_request_id"])
    assert "token" not in answer  # realtime: the id, never a token as well (spec)
    assert "2026年12月3日" in answer["service_notice"]
    assert (mail.channel, mail.outside_platform, mail.outside_id) == (
        "outside",
        platform,
        "MX2026-0042",
    )
    assert (mail.kind, mail.status, mail.department.code) == ("complaint", "received", "xinfang")
    assert mail.subject == "夜间占道经营扰民"
    assert mail.body.startswith("小区门口夜间有人长期占道经营")
    assert mail.body.endswith("https://img.example.com/r/42.jpg")
    assert (mail.contact_name, mail.contact_phone, mail.contact_email) == (
        "张三",
        "13900001111",
        "zhang@example.com",
    )
    assert (str(mail.lat), str(mail.long)) == ("41.805699", "123.431472")
    assert mail.address == "沈阳市和平区南京北街1号"
    event = mail.events.get()
    assert (event.action, event.actor_id, event.details["outside_id"]) == (
        "import",
        None,
        "MX2026-0042",
    )
    # The same platform id again: the letter already filed, nothing new (idempotent).
    again = json_of(post(client, platform, fmt="json", description="再发一次"))
    assert again[0]["service_request_id"] == mail.number
    xml_again = post(client, platform, fmt="xml")
    assert spark(xml_of(xml_again, "service_requests")) == as_text(again)
    assert Letter.objects.count() == 1


def test_without_a_platform_id_each_post_is_a_new_letter(client, platform, team):
    first = json_of(post(client, platform, **{"attribute[platform_request_id]": None}))
    second = json_of(post(client, platform, **{"attribute[platform_request_id]": None}))
    assert first[0]["service_request_id"] != second[0]["service_request_id"]
    mail = Letter.objects.get(number=first[0]["service_request_id"])
    assert mail.outside_id.startswith("open311-")


def test_a_request_needs_only_a_location_and_a_description(client, platform, team):
    bare = {
        key: None
        for key in form(platform)
        if key not in ("api_key", "service_code", "description", "jurisdiction_id")
    }
    by_address_id = json_of(post(client, platform, **bare, address_id="210102-000123"))
    mail = Letter.objects.get(number=by_address_id[0]["service_request_id"])
    assert mail.address == "地址编号：210102-000123"
    assert (mail.contact_name, mail.contact_phone, mail.lat) == ("", "", None)
    assert mail.subject.startswith("投诉：小区门口")
    located = bare | {"lat": "41.8", "long": "123.4", "first_name": "Li", "last_name": "Wei"}
    english = json_of(post(client, platform, **located))
    assert Letter.objects.get(number=english[0]["service_request_id"]).contact_name == "Li Wei"


def test_post_errors(client, platform, team):
    url = f"{V2}/requests.json"
    with time_machine.travel(NOW, tick=False):
        # The spec: 403 for a wrong *or missing* api_key.
        missing = error_pair(client, url, 403, method="post", data=form(platform, api_key=None))
        assert "api_key" in missing[0]["description"]
        error_pair(client, url, 403, method="post", data=form(platform, api_key="x" * 43))
        error_pair(client, url, 404, method="post", data=form(platform, service_code="parking"))
        error_pair(client, url, 400, method="post", data=form(platform, service_code=None))
        error_pair(client, url, 404, method="post", data=form(platform, jurisdiction_id="a.cn"))
        nowhere = form(platform, lat=None, long=None, address_string=None)
        assert "位置" in error_pair(client, url, 400, method="post", data=nowhere)[0]["description"]
        error_pair(client, url, 400, method="post", data=form(platform, long=None))
        error_pair(client, url, 400, method="post", data=form(platform, lat="north"))
        error_pair(client, url, 400, method="post", data=form(platform, lat="95"))
        error_pair(client, url, 400, method="post", data=form(platform, description=None))
        error_pair(client, url, 400, method="post", data=form(platform, description="长" * 4001))
        error_pair(client, url, 400, method="post", data=form(platform, media_url="ftp://x/y"))
        phone = error_pair(client, url, 400, method="post", data=form(platform, phone="12345"))
        assert "电话" in phone[0]["description"]  # the letters store's own message
        error_pair(client, url, 400, method="post", data=form(platform, email="not-an-address"))
        too_long = form(platform, **{"attribute[platform_request_id]": "x" * 65})
        error_pair(client, url, 400, method="post", data=too_long)
        # Several problems at once: all of them, the HTTP status of the first (404 first).
        several = form(platform, service_code="parking", description=None, lat=None)
        errors = error_pair(client, url, 404, method="post", data=several)
        assert [error["code"] for error in errors] == [404, 400, 400]
    platform.active = False
    platform.save()
    with time_machine.travel(NOW, tick=False):
        error_pair(client, url, 403, method="post", data=form(platform))
    assert Letter.objects.count() == 0


def test_posting_is_rate_limited_per_platform(client, platform, team, settings):
    settings.OPEN311_POST_RATE = "2/m"
    for n in range(2):
        assert (
            post(client, platform, **{"attribute[platform_request_id]": f"R{n}"}).status_code == 200
        )
    refused = post(client, platform, **{"attribute[platform_request_id]": "R3"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert valid(json_of(refused, 429), ERRORS_SCHEMA)[0]["code"] == 429
    other = OutsidePlatform.objects.create(code="other", name="其他平台")
    other.key = platforms.issue_key(actor=None, platform=other)
    assert post(client, other).status_code == 200  # another platform has its own quota
    assert Letter.objects.count() == 3


# --- tokens ----------------------------------------------------------------------------------------


def test_a_token_is_the_platforms_own_request_id(client, platform, team):
    number = json_of(post(client, platform))[0]["service_request_id"]
    url = f"{V2}/tokens/MX2026-0042.json?api_key={platform.key}"
    document = valid_items(json_of(client.get(url)), "TokenResponse")
    assert document == [{"service_request_id": number, "token": "MX2026-0042"}]
    same_in_xml(client, url, "service_requests", document)
    error_pair(client, f"{V2}/tokens/MX2026-0042.json", 403)  # tokens are per platform
    error_pair(client, f"{V2}/tokens/MX2026-9999.json?api_key={platform.key}", 404)
    other = OutsidePlatform.objects.create(code="other", name="其他平台")
    key = platforms.issue_key(actor=None, platform=other)
    error_pair(client, f"{V2}/tokens/MX2026-0042.json?api_key={key}", 404)


# --- reading requests ------------------------------------------------------------------------------


def handled(mail, team, *, reply="您好，经核查已处理。"):
    """Triage to household registration and the reply sent (approved where the kind needs it)."""
    mail = workflow.assign(actor=team["triage"], letter=mail, department=department("huzheng"))
    workflow.draft_reply(actor=team["clerk"], letter=mail, body=reply)
    if workflow.needs_approval(mail):
        workflow.submit_for_approval(actor=team["clerk"], letter=mail)
        workflow.approve_reply(actor=team["leader"], letter=mail)
    else:
        workflow.send_reply(actor=team["clerk"], letter=mail)
    return Letter.objects.get(pk=mail.pk)


def test_a_filed_request_is_handled_like_any_letter_and_then_closed(client, platform, team):
    number = json_of(post(client, platform))[0]["service_request_id"]
    url = f"{V2}/requests/{number}.json"
    (before,) = valid(json_of(get(client, url)), "requests.json")
    assert (before["status"], before["service_code"], before["service_name"]) == (
        "open",
        "complaint",
        "投诉",
    )
    assert before["status_notes"].startswith("待分办")
    assert before["agency_responsible"] == "信访"
    assert before["requested_datetime"] == "2026-11-26T10:00:00+08:00"
    assert before["expected_datetime"] == "2026-12-03T23:59:59+08:00"
    assert before["description"] is None and before["lat"] is None  # the public view
    mail = Letter.objects.get(number=number)
    with time_machine.travel(LATER, tick=False):
        mail = workflow.assign(actor=team["triage"], letter=mail, department=department("huzheng"))
    (assigned,) = json_of(get(client, url))
    assert (assigned["status"], assigned["agency_responsible"]) == ("open", "户政管理（社区警务）")
    assert assigned["status_notes"] == "待办理：已交户政管理（社区警务）部门办理。"
    with time_machine.travel(LATER, tick=False):
        workflow.draft_reply(actor=team["clerk"], letter=mail, body="已联系城管部门清理。")
        workflow.submit_for_approval(actor=team["clerk"], letter=mail)
    (pending,) = json_of(get(client, url))
    assert pending["status"] == "open" and pending["status_notes"].startswith("待领导审核")
    with time_machine.travel(LATER, tick=False):
        workflow.approve_reply(actor=team["leader"], letter=mail)
    (closed,) = valid(json_of(get(client, url)), "requests.json")
    assert closed["status"] == "closed" and closed["status_notes"].startswith("已答复")
    assert closed["updated_datetime"] == "2026-11-27T15:00:00+08:00"
    assert closed["service_notice"] is None
    assert "城管" not in json.dumps(closed, ensure_ascii=False)  # the reply is the writer's
    same_in_xml(client, url, "service_requests", [closed])
    # The platform that filed it also sees what it sent.
    (own,) = json_of(get(client, f"{url}?api_key={platform.key}"))
    assert own["description"] == "小区门口夜间有人长期占道经营，噪音扰民。"
    assert own["media_url"] == "https://img.example.com/r/42.jpg"
    assert (own["lat"], own["long"], own["address"]) == (
        41.805699,
        123.431472,
        "沈阳市和平区南京北街1号",
    )
    valid([own], "requests.json")
    error_pair(client, f"{url}?api_key=wrong", 403)


@pytest.fixture
def letters(citizen, team):
    """Letters of every kind of fate, received on NOW unless noted."""
    made = {
        "open": letter(citizen, subject="户口迁移咨询", contact_phone="13800009999"),
        "help": letter(
            None,
            kind="help",
            contact_name="王五",
            contact_phone="13700007777",
            address="皇姑区黄河南大街",
            lat="41.82",
            long="123.41",
        ),
        "complaint": letter(
            citizen, kind="complaint", subject="窗口排队太久", address="和平区某小区"
        ),
        "misconduct": letter(
            None, channel="misconduct", kind="report", anonymous=True, subject_officer="某民警"
        ),
        "old": letter(citizen, at="2026-07-01 10:00 +0800", subject="很久以前"),
        "withdrawn": letter(citizen, kind="suggestion"),
        "duplicate": letter(citizen),
        "to_inspection": letter(citizen, kind="complaint", subject="民警态度"),
    }
    with time_machine.travel("2026-11-26 11:00 +0800", tick=False):
        made["replied"] = handled(made.pop("complaint"), team)
        workflow.withdraw(actor=citizen, letter=made["withdrawn"], reason="问题已解决")
        workflow.merge_duplicate(actor=team["triage"], letter=made["duplicate"], into=made["open"])
        inspection = department("ducha")
        workflow.assign(actor=team["triage"], letter=made["to_inspection"], department=inspection)
    return {name: Letter.objects.get(pk=mail.pk) for name, mail in made.items()}


def numbers(document):
    return {request["service_request_id"] for request in document}


def test_requests_list_with_the_spec_defaults(client, letters, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = get(client, f"{V2}/requests.json", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "zh-hans"
    assert response["Access-Control-Allow-Origin"] == "*"  # public reads, for web apps too
    document = valid(json_of(response), "requests.json")
    expected = {"open", "help", "replied", "withdrawn", "duplicate"}
    assert numbers(document) == {letters[name].number for name in expected}
    by_number = {request["service_request_id"]: request for request in document}
    assert by_number[letters["withdrawn"].number]["status"] == "closed"
    assert by_number[letters["withdrawn"].number]["expected_datetime"] is None
    merged = by_number[letters["duplicate"].number]
    assert merged["status"] == "closed" and letters["open"].number in merged["status_notes"]
    assert by_number[letters["replied"].number]["status_notes"].startswith("已答复")
    dates = [request["requested_datetime"] for request in document]
    assert dates == sorted(dates, reverse=True)
    same_in_xml(client, f"{V2}/requests.json", "service_requests", document)


def test_nothing_personal_and_no_misconduct_report_ever_appears(client, letters, citizen):
    public = get(client, f"{V2}/requests.json").content.decode()
    secrets = ["13800009999", "13700007777", "王五", citizen.name, "户口迁移咨询", "皇姑区"]
    secrets += ["请问大学毕业后", "某民警", "问题已解决", "经核查", "某小区"]
    for secret in secrets:
        assert secret not in public
    for name in ("misconduct", "to_inspection"):
        number = letters[name].number
        error_pair(client, f"{V2}/requests/{number}.json", 404)
        by_id = json_of(get(client, f"{V2}/requests.json?service_request_id={number}"))
        assert by_id == []
        by_kind = json_of(get(client, f"{V2}/requests.json?service_code=report,complaint"))
        assert number not in numbers(by_kind)


def test_filters(client, letters):
    def listed(query):
        return numbers(valid(json_of(get(client, f"{V2}/requests.json?{query}")), "requests.json"))

    n = {name: mail.number for name, mail in letters.items()}
    assert listed("status=open") == {n["open"], n["help"]}
    assert listed("status=closed") == {n["replied"], n["withdrawn"], n["duplicate"]}
    assert listed("status=open,closed") == listed("status=open&status=closed") == listed("")
    assert listed("service_code=help,complaint") == {n["help"], n["replied"]}
    assert listed("service_code=help&service_code=complaint") == {n["help"], n["replied"]}
    assert listed("service_code=help&status=closed") == set()
    # service_request_id overrides every other argument, even the 90 days.
    ids = f"{n['old']},{n['help']},XF2000010100001"
    assert listed(f"service_request_id={ids}&status=closed&service_code=praise") == {
        n["old"],
        n["help"],
    }
    assert n["old"] not in listed("")  # older than 90 days
    assert listed("start_date=2026-06-30T00:00:00Z&end_date=2026-07-02T00:00:00Z") == {n["old"]}
    assert listed("start_date=2026-06-30") == {n["old"]}  # 90 days from the start
    assert listed("end_date=2026-07-01") == {n["old"]}  # a date: its whole (local) day
    assert listed("start_date=2026-11-26T02:00:00Z") == listed("") - {n["old"]}
    assert listed("start_date=2026-11-26T02:00:01Z") == set()  # received 10:00 +08:00
    for query in (
        "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",  # more than 90 days
        "start_date=2026-11-27T00:00:00Z&end_date=2026-11-26T00:00:00Z",
        "start_date=yesterday",
        "start_date=2026-11-26T10:00:00",  # no time zone
        "status=pending",
        "service_code=parking",
    ):
        error_pair(client, f"{V2}/requests.json?{query}", 400)


def test_published_letters_show_their_public_texts(client, letters, team):
    mail = letters["replied"]
    Letter.objects.filter(pk=mail.pk).update(publish_consent=True)
    with time_machine.travel(LATER, tick=False):
        workflow.publish(
            actor=team["leader"],
            letter=Letter.objects.get(pk=mail.pk),
            public_subject="关于窗口排队时间的投诉",
            public_reply="已增开窗口\x0b并推行预约办理。",
        )
    url = f"{V2}/requests/{mail.number}.json"
    (request,) = valid(json_of(get(client, url)), "requests.json")
    assert request["description"] == "关于窗口排队时间的投诉"
    assert request["status_notes"].endswith("公开答复：已增开窗口并推行预约办理。")
    assert request["address"] is None  # publication is of the redacted texts only
    xml_response = same_in_xml(client, url, "service_requests", [request])
    assert b"\x0b" not in xml_response.content  # a character XML cannot carry is dropped


def test_more_than_1000_ids_is_refused_and_answers_are_capped(client, letters):
    many = ",".join(f"XF20261126{n:05d}" for n in range(1001))
    error_pair(client, f"{V2}/requests.json?service_request_id={many}", 400)
