"""The pages: requesters' form and list, the station's queue and actions; access by role
and jurisdiction, Chinese field errors for bad input, one request per double submit."""

import datetime as dt

import pytest
from django.urls import reverse

from servicehall.accounts.tests.factories import (
    CitizenFactory,
    HotelUserFactory,
    login_verified_staff,
)
from servicehall.core.models import AuditEntry
from servicehall.escorts import workflow
from servicehall.escorts.models import EscortRequest, Status
from servicehall.notify.models import Message

from .conftest import MONDAY, WEDNESDAY, submit, token

pytestmark = pytest.mark.usefixtures("travel")
NEW = reverse("escorts:new")


def form_data(**overrides):
    return {
        "client_token": token(),
        "organisation": "中国工商银行沈阳和平支行",
        "date": WEDNESDAY.isoformat(),
        "start_time": "10:00",
        "end_time": "11:30",
        "district": "",
        "pickup_address": "和平区南京北街100号",
        "destination_address": "和平区太原街50号",
        "amount": "500000",
        "contact_phone": "139 1234 5678",
        "note": "",
    } | overrides


@pytest.fixture
def posted(client, citizen, station):
    client.force_login(citizen)

    def post(**overrides):
        data = form_data(district=str(station.district_id)) | overrides
        return client.post(NEW, data)

    return post


def test_the_form_shows_for_a_citizen_with_their_phone(client, citizen, station):
    client.force_login(citizen)
    response = client.get(NEW)
    assert response.status_code == 200
    page = response.content.decode()
    assert "申请大额取送款护送" in page and citizen.citizen_profile.mobile in page
    assert "至少提前 24 小时" in page


def test_a_citizen_requests_and_sees_it_in_my_escorts(client, posted, citizen, station):
    response = posted()
    escort = EscortRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("escorts:mine_detail", args=[escort.number])
    assert escort.contact_phone == "13912345678" and escort.station == station
    page = client.get(reverse("escorts:mine")).content.decode()
    assert escort.number in page and "待受理" in page and "500,000.00 元" in page
    detail = client.get(response["Location"]).content.decode()
    assert "提交申请" in detail and "和平测试派出所将于 2026-09-14 11:00 前答复" in detail


def test_a_double_submit_is_one_request(posted):
    data = {"client_token": token()}
    first, second = posted(**data), posted(**data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert EscortRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"date": (MONDAY - dt.timedelta(days=1)).isoformat()}, "date", "护送日期不能早于今天。"),
        ({"date": "2026-13-01"}, "date", "请填写正确的日期。"),
        (
            {"date": (MONDAY + dt.timedelta(days=1)).isoformat(), "start_time": "08:00"},
            "start_time",
            "请至少提前24小时申请护送",
        ),
        ({"end_time": "09:00"}, "end_time", "结束时间应晚于开始时间。"),
        ({"amount": "0"}, "amount", "金额应大于0元。"),
        ({"amount": "-100"}, "amount", "金额应大于0元。"),
        ({"amount": "200000000"}, "amount", "单次护送金额不能超过100,000,000元"),
        ({"amount": "abc"}, "amount", "请填写数字金额"),
        ({"amount": "1.234"}, "amount", "金额最多保留两位小数"),
        ({"amount": ""}, "amount", "请填写金额。"),
        ({"contact_phone": "12345"}, "contact_phone", "请填写正确的手机号码"),
        ({"district": ""}, "district", "请选择取款地点所在区县。"),
        ({"pickup_address": ""}, "pickup_address", "请填写取款地点。"),
    ],
)
def test_bad_input_gets_a_chinese_field_error_and_nothing_is_saved(
    posted, overrides, field, message
):
    response = posted(**overrides)
    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert message in response.content.decode()
    assert not EscortRequest.objects.exists()


def test_a_district_without_a_station_is_a_field_error(posted, station):
    from servicehall.accounts.tests.factories import district

    response = posted(district=str(district("210181").pk))
    assert response.status_code == 400
    assert "暂未开通网上护送申请" in " ".join(response.context["form"].errors["district"])


def test_an_agent_requests_for_their_enterprise(client, agent, enterprise, station):
    client.force_login(agent)
    assert enterprise.name in client.get(NEW).content.decode()
    response = client.post(NEW, form_data(district=str(station.district_id)))
    assert response.status_code == 400
    assert "请选择您经办的单位。" in response.content.decode()
    data = form_data(district=str(station.district_id), enterprise=str(enterprise.pk))
    assert client.post(NEW, data).status_code == 302
    assert EscortRequest.objects.get().enterprise == enterprise


@pytest.mark.parametrize("who", ["staff", "hotel"])
def test_staff_and_hotels_cannot_request(client, duty, who, station):
    user = duty if who == "staff" else HotelUserFactory()
    client.force_login(user)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form_data(district=str(station.district_id))).status_code == 403
    assert not EscortRequest.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(NEW)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_someone_elses_request_does_not_exist(client, citizen, station):
    escort = submit(citizen)
    client.force_login(CitizenFactory())
    assert client.get(reverse("escorts:mine_detail", args=[escort.number])).status_code == 404
    assert client.post(reverse("escorts:cancel", args=[escort.number])).status_code == 404
    escort.refresh_from_db()
    assert escort.status == Status.REQUESTED


def test_the_requester_cancels_on_the_page(client, citizen, station):
    escort = submit(citizen)
    client.force_login(citizen)
    url = reverse("escorts:mine_detail", args=[escort.number])
    assert "取消申请" in client.get(url).content.decode()
    response = client.post(reverse("escorts:cancel", args=[escort.number]), {"reason": "改期"})
    assert response.status_code == 302
    escort.refresh_from_db()
    assert escort.status == Status.CANCELLED
    page = client.get(url).content.decode()
    assert "已取消" in page and "取消申请" not in page


# --- the station ---------------------------------------------------------------------------


def act(client, escort, action, **data):
    return client.post(reverse("escorts:act", args=[escort.number, action]), data)


def test_the_queue_shows_the_stations_requests_due_first(client, citizen, duty, station):
    other = submit(citizen)
    first = submit(citizen)
    workflow.accept(actor=duty, escort=other)
    login_verified_staff(client, duty)
    page = client.get(reverse("escorts:queue")).content.decode()
    assert page.index(first.number) < page.index(other.number)  # awaiting an answer first
    assert "09-14 11:00" in page
    assert citizen.citizen_profile.mobile not in page  # masked


def test_the_staff_home_leads_to_the_station_queue(client, duty):
    login_verified_staff(client, duty)
    home = client.get(reverse("accounts:staff_home")).content.decode()
    assert f'href="{reverse("escorts:queue")}"' in home


def test_another_stations_staff_get_403(client, citizen, other_duty, station):
    escort = submit(citizen)
    login_verified_staff(client, other_duty)
    assert escort.number not in client.get(reverse("escorts:queue")).content.decode()
    detail = reverse("escorts:station_detail", args=[escort.number])
    assert client.get(detail).status_code == 403
    assert act(client, escort, "accept").status_code == 403
    escort.refresh_from_db()
    assert escort.status == Status.REQUESTED


def test_a_role_without_escort_duty_gets_403(client, citizen, clerk, station):
    escort = submit(citizen)
    login_verified_staff(client, clerk)
    assert client.get(reverse("escorts:queue")).status_code == 403
    assert act(client, escort, "accept").status_code == 403
    escort.refresh_from_db()
    assert escort.status == Status.REQUESTED


def test_a_supervisor_reads_but_does_not_act(client, citizen, supervisor, station):
    escort = submit(citizen)
    login_verified_staff(client, supervisor)
    page = client.get(reverse("escorts:station_detail", args=[escort.number]))
    assert page.status_code == 200 and 'id="action-accept"' not in page.content.decode()
    assert act(client, escort, "accept").status_code == 403
    escort.refresh_from_db()
    assert escort.status == Status.REQUESTED


def test_citizens_cannot_open_the_station_pages(client, citizen, station):
    escort = submit(citizen)
    client.force_login(citizen)
    assert client.get(reverse("escorts:queue")).status_code == 403
    assert act(client, escort, "accept").status_code == 403


def test_the_detail_offers_only_the_allowed_actions(client, citizen, duty, station):
    escort = submit(citizen)
    login_verified_staff(client, duty)
    url = reverse("escorts:station_detail", args=[escort.number])
    page = client.get(url).content.decode()
    assert 'id="action-accept"' in page and 'id="action-decline"' in page
    assert 'id="action-dispatch"' not in page and 'id="action-complete"' not in page
    workflow.accept(actor=duty, escort=escort)
    page = client.get(url).content.decode()
    assert 'id="action-dispatch"' in page and 'id="action-accept"' not in page


def test_decline_without_a_reason_is_a_400_and_nothing_changes(client, citizen, duty, station):
    escort = submit(citizen)
    login_verified_staff(client, duty)
    response = act(client, escort, "decline", reason="")
    assert response.status_code == 400
    assert "请填写不予护送的理由" in response.content.decode()
    escort.refresh_from_db()
    assert escort.status == Status.REQUESTED
    assert not Message.objects.filter(dedupe_key__endswith=":declined").exists()
    response = act(client, escort, "decline", reason="该时段警力不足")
    assert response.status_code == 302
    escort.refresh_from_db()
    assert escort.status == Status.DECLINED


def test_the_flow_on_the_pages_and_a_second_click(client, citizen, duty, station, travel):
    escort = submit(citizen)
    login_verified_staff(client, duty)
    assert act(client, escort, "accept").status_code == 302
    second = act(client, escort, "accept")
    assert second.status_code == 409 and "重复提交" in second.content.decode()
    assert act(client, escort, "dispatch", officers="", lead_officer="").status_code == 400
    assert act(client, escort, "dispatch", lead_officer=str(duty.pk)).status_code == 302
    assert act(client, escort, "start").status_code == 302
    travel.move_to("2026-09-16 12:00 +0800")
    login_verified_staff(client, duty)  # staff sessions end after 15 idle minutes
    bad = act(
        client,
        escort,
        "complete",
        actual_start="2026-09-16T10:00",
        actual_end="2026-09-16T09:00",
        handed_over_amount="500000",
        confirmed="on",
    )
    assert bad.status_code == 400 and "实际结束时间应晚于实际开始时间" in bad.content.decode()
    unconfirmed = act(
        client,
        escort,
        "complete",
        actual_start="2026-09-16T10:00",
        actual_end="2026-09-16T11:00",
        handed_over_amount="500000",
    )
    assert unconfirmed.status_code == 400
    done = act(
        client,
        escort,
        "complete",
        actual_start="2026-09-16T10:00",
        actual_end="2026-09-16T11:00",
        handed_over_amount="500000",
        confirmed="on",
        notes="交接无误",
    )
    assert done.status_code == 302
    escort.refresh_from_db()
    assert escort.status == Status.COMPLETED and escort.lead_officer == duty
    page = client.get(reverse("escorts:station_detail", args=[escort.number])).content.decode()
    assert "护送完成" in page and "交接无误" in page
    client.force_login(citizen)
    mine = client.get(reverse("escorts:mine_detail", args=[escort.number])).content.decode()
    assert "已完成" in mine and "已派警" in mine and "交接无误" not in mine


def test_revealing_the_phone_is_audited(client, citizen, duty, station):
    escort = submit(citizen)
    login_verified_staff(client, duty)
    url = reverse("escorts:reveal", args=[escort.number])
    assert client.post(url, {"purpose": ""}).status_code == 400
    assert not AuditEntry.objects.filter(action="personal_data.read").exists()
    response = client.post(url, {"purpose": "电话核实取款地点"})
    assert "13912345678" in response.content.decode()
    entry = AuditEntry.objects.get(action="personal_data.read")
    assert entry.purpose == "电话核实取款地点" and entry.object_id == str(escort.pk)


def test_unknown_requests_and_actions_are_404(client, citizen, duty, station):
    escort = submit(citizen)
    login_verified_staff(client, duty)
    assert client.get(reverse("escorts:station_detail", args=["HS000"])).status_code == 404
    assert act(client, escort, "explode").status_code == 404
