"""Applying and following a case as a citizen, and the public progress page."""

import io
import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse
from PIL import Image
from pytest_django.asserts import assertContains, assertNotContains

from servicehall.accounts.tests.factories import CitizenFactory
from servicehall.cases.flows import Status
from servicehall.cases.models import Attachment, Case

from .conftest import submitted

pytestmark = pytest.mark.django_db


def png(name="scan.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def birth_form(key, **extra):
    data = {
        "submission_key": str(key),
        "child_name": "王小明",
        "child_gender": "男",
        "birth_date": "2026-11-20",
        "guardian_id_number": "11010519491231002X",
        "material_0": png(),
        "material_1": png(),
        "material_2": png(),
        "submit": "1",
    }
    data.update(extra)
    return data


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


def test_apply_then_double_click_is_one_case_with_one_set_of_files(signed_in, citizen, catalogue):
    url = reverse("cases:apply", args=["HZ-QR-001"])
    key = uuid.uuid4()
    first = signed_in.post(url, birth_form(key))
    second = signed_in.post(url, birth_form(key))
    case = Case.objects.get(submission_key=key)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("cases:receipt", args=[case.pk])
    assert case.status == Status.SUBMITTED and case.number.startswith("HZ-")
    assert Attachment.objects.filter(case=case).count() == 3
    receipt = signed_in.get(first["Location"])
    assertContains(receipt, case.number)
    assertContains(receipt, reverse("cases:receipt_qr", args=[case.pk]))


def test_missing_required_material_is_a_clear_400(signed_in, catalogue):
    data = birth_form(uuid.uuid4())
    del data["material_0"]
    response = signed_in.post(reverse("cases:apply", args=["HZ-QR-001"]), data)
    assertContains(response, "请上传以下必需材料", status_code=400)
    assertContains(response, "《出生医学证明》", status_code=400)


def test_invalid_fields_and_fake_files_are_refused(signed_in, catalogue):
    fake = io.BytesIO(b"<html>not a scan</html>")
    fake.name = "scan.pdf"
    data = birth_form(uuid.uuid4(), guardian_id_number="110105194912310021", material_0=fake)
    response = signed_in.post(reverse("cases:apply", args=["HZ-QR-001"]), data)
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_draft_is_saved_without_required_fields_and_continued(signed_in, catalogue):
    url = reverse("cases:apply", args=["HZ-QR-001"])
    key = uuid.uuid4()
    response = signed_in.post(
        url, {"submission_key": str(key), "child_name": "王小明", "save": "1"}
    )
    case = Case.objects.get(submission_key=key)
    assert response.status_code == 302 and case.status == Status.DRAFT and case.number is None
    page = signed_in.get(response["Location"])
    assertContains(page, 'value="王小明"')
    assertContains(page, str(key))


def test_another_citizen_gets_404(client, citizen, catalogue):
    case = submitted(citizen)
    client.force_login(CitizenFactory())
    for name in ("detail", "receipt", "receipt_qr"):
        assert client.get(reverse(f"cases:{name}", args=[case.pk])).status_code == 404
    assert client.post(reverse("cases:withdraw", args=[case.pk])).status_code == 404


def test_anonymous_must_sign_in_to_apply(client, catalogue):
    response = client.get(reverse("cases:apply", args=["HZ-QR-001"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_item_without_online_application_redirects_to_its_guide(signed_in, catalogue):
    response = signed_in.get(reverse("cases:apply", args=["CRJ-GG-001"]))
    assert response.status_code == 302 and response["Location"].endswith(
        "/services/item/CRJ-GG-001/"
    )


@pytest.fixture
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


def test_public_progress_by_number_and_phone(client, citizen, catalogue, fresh_limits):
    case = submitted(citizen)
    url = reverse("cases:progress")
    response = client.post(url, {"number": case.number.lower(), "phone": case.applicant_phone})
    assertContains(response, "婴儿出生登记")
    assertContains(response, "已提交")
    for private in (case.applicant_name, case.applicant_id_number, "王小明"):
        assertNotContains(response, private)


def test_wrong_pairs_tell_nothing(client, citizen, catalogue, fresh_limits):
    case = submitted(citizen)
    url = reverse("cases:progress")
    wrong_phone = client.post(url, {"number": case.number, "phone": "13900000000"})
    unknown = client.post(url, {"number": "HZ-20991231-9999", "phone": case.applicant_phone})
    assert wrong_phone.status_code == unknown.status_code == 404
    assert wrong_phone.context["error"] == unknown.context["error"]
    assertNotContains(wrong_phone, "婴儿出生登记", status_code=404)


def test_progress_lookups_are_rate_limited(client, citizen, catalogue, fresh_limits):
    url = reverse("cases:progress")
    for _ in range(20):
        client.post(url, {"number": "HZ-20991231-9999", "phone": "13900000000"})
    response = client.post(url, {"number": "HZ-20991231-9999", "phone": "13900000000"})
    assertContains(response, "查询过于频繁", status_code=429)


def test_rating_through_the_page(signed_in, citizen, huzheng_team):
    from servicehall.cases import workflow

    case = submitted(citizen)
    for verb, role in (
        ("accept", "window_clerk"),
        ("start_review", "reviewer"),
        ("approve", "approver"),
        ("complete", "approver"),
    ):
        case = getattr(workflow, verb)(actor=huzheng_team[role], case=case)
    page = signed_in.get(reverse("cases:detail", args=[case.pk]))
    assertContains(page, "非常满意")
    bad = signed_in.post(reverse("cases:rate", args=[case.pk]), {"level": "9"})
    assert bad.status_code == 400
    signed_in.post(reverse("cases:rate", args=[case.pk]), {"level": "5", "comment": "很快"})
    assert Case.objects.get(pk=case.pk).rating.level == 5


def test_employer_batch_keeps_good_rows_and_reports_bad_ones(client, catalogue):
    import datetime as dt

    from servicehall.accounts.tests.factories import AgentFactory, EnterpriseFactory
    from servicehall.cases.models import CaseBatch
    from servicehall.core.idnumbers import make_id_number

    enterprise = EnterpriseFactory()
    agent = AgentFactory(enterprise=enterprise)
    client.force_login(agent)
    good1 = make_id_number("210102", dt.date(1990, 5, 1), 11)
    good2 = make_id_number("230103", dt.date(1985, 2, 3), 22)
    rows = [
        "姓名,身份证号码,现住址,入住日期,手机号码",
        f"张三,{good1},沈阳市铁西区建设大路1号,2026-11-01,13811112222",
        "李四,110105194912310021,沈阳市铁西区建设大路1号,2026-11-01,13811113333",  # bad check digit
        f"王五,{good2},沈阳市铁西区建设大路1号,2026-11-01,",
        f"赵六,{good1},沈阳市铁西区建设大路1号,2026-11-02,13811114444",  # same ID as row 2
    ]
    upload = io.BytesIO(("\n".join(rows) + "\n").encode("utf-8-sig"))
    upload.name = "workers.csv"
    key = uuid.uuid4()
    url = reverse("cases:batch", args=["ZA-BA-001"])
    payload = {"upload_key": str(key), "enterprise": enterprise.pk, "file": upload}
    response = client.post(url, payload)
    assert response.status_code == 200
    batch = CaseBatch.objects.get(upload_key=key)
    cases = Case.objects.filter(batch=batch).order_by("id")
    assert [c.applicant_id_number for c in cases] == [good1, good2]
    assert all(c.status == Status.SUBMITTED and c.enterprise == enterprise for c in cases)
    assert {e["row"] for e in batch.errors} == {3, 5}
    assertContains(response, "身份证号码")
    # The same upload posted again (a retry) adds nothing.
    upload.seek(0)
    client.post(url, {"upload_key": str(key), "enterprise": enterprise.pk, "file": upload})
    assert Case.objects.filter(batch__upload_key=key).count() == 2


def test_batch_filing_needs_an_enterprise_agent(signed_in, catalogue):
    assert signed_in.get(reverse("cases:batch", args=["ZA-BA-001"])).status_code == 403


@pytest.mark.parametrize(
    ("area", "flow", "status"),
    [
        ("120", "filing_spot_check", {Status.COMPLETED, Status.SPOT_CHECK}),
        ("800", "standard", {Status.SUBMITTED}),
    ],
)
def test_fire_filing_routes_by_floor_area_from_the_item_data(
    signed_in, catalogue, area, flow, status
):
    from servicehall.accounts.tests.factories import EnterpriseFactory

    key = uuid.uuid4()
    data = {
        "submission_key": str(key),
        "project_name": "某商铺室内装修",
        "project_address": "沈阳市和平区中华路1号",
        "floor_area_m2": area,
        "builder_credit_code": EnterpriseFactory.build().credit_code,
        "material_0": png(),
        "material_1": png(),
        "material_2": png(),
        "submit": "1",
    }
    response = signed_in.post(reverse("cases:apply", args=["XF-BA-001"]), data)
    assert response.status_code == 302
    case = Case.objects.get(submission_key=key)
    assert case.flow == flow and case.status in status


def test_enterprise_agent_applies_for_an_employee(client, catalogue):
    import datetime as dt

    from servicehall.accounts.tests.factories import AgentFactory, EnterpriseFactory
    from servicehall.core.idnumbers import make_id_number

    enterprise = EnterpriseFactory()
    agent = AgentFactory(enterprise=enterprise)
    client.force_login(agent)
    employee_id = make_id_number("210102", dt.date(1995, 6, 1), 31)
    key = uuid.uuid4()
    response = client.post(
        reverse("cases:apply", args=["ZA-GG-002"]),
        {
            "submission_key": str(key),
            "enterprise": enterprise.pk,
            "applicant_name": "孙员工",
            "applicant_id_number": employee_id,
            "applicant_phone": "13922223333",
            "save": "1",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(submission_key=key)
    assert case.enterprise == enterprise and case.submitted_by == agent
    assert (case.applicant_name, case.applicant_id_number) == ("孙员工", employee_id)
    # A colleague authorised for the same enterprise sees it; an outsider does not.
    colleague = AgentFactory(enterprise=enterprise)
    client.force_login(colleague)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    client.force_login(AgentFactory(enterprise=EnterpriseFactory()))
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
