"""Escort verbs: who may request and answer, refusals, idempotency, the whole flow."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from servicehall.accounts.tests.factories import HotelUserFactory, StationFactory, district
from servicehall.core.models import AuditEntry
from servicehall.escorts import workflow
from servicehall.escorts.models import EscortEvent, EscortRequest, Status
from servicehall.escorts.workflow import EscortError
from servicehall.notify.models import Message

from .conftest import MONDAY, WEDNESDAY, fields, submit, token

pytestmark = pytest.mark.usefixtures("travel")


def refused(field, fn, **kwargs):
    with pytest.raises(EscortError) as info:
        fn(**kwargs)
    assert info.value.field == field, str(info.value)
    return str(info.value)


def at(day, hour, minute=0):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def test_a_citizen_requests_an_escort_of_the_pickup_districts_station(citizen, station):
    StationFactory(code="210102-Z99", district=station.district)  # sorts after the duty one
    escort = submit(citizen)
    assert escort.status == Status.REQUESTED and escort.station == station
    assert escort.number == f"HS20260914{escort.pk:06d}"
    assert escort.window_start == at(WEDNESDAY, 10) and escort.window_end == at(WEDNESDAY, 11, 30)
    assert escort.respond_by == at(MONDAY, 11)  # two hours to answer
    event = EscortEvent.objects.get(escort=escort)
    assert (event.action, event.actor, event.to_status) == ("request", citizen, "requested")
    assert AuditEntry.objects.filter(action="escort.request", object_id=str(escort.pk)).exists()
    sms = Message.objects.get(dedupe_key=f"escort:{escort.pk}:requested")
    assert escort.number in sms.body and "11:00" in sms.body and "500000" not in sms.body


def test_the_duty_desk_hears_of_a_new_request_by_email(citizen, duty, other_duty):
    escort = submit(citizen)
    mails = Message.objects.filter(channel="email", about_id=str(escort.pk))
    assert list(mails.values_list("dedupe_key", flat=True)) == [
        f"escort:{escort.pk}:requested:{duty.pk}"
    ]


def test_a_double_submit_is_one_request(citizen, station):
    key = token()
    first = workflow.request_escort(actor=citizen, client_token=key, **fields())
    again = workflow.request_escort(actor=citizen, client_token=key, **fields())
    assert first.created and not again.created and again.escort.pk == first.escort.pk
    assert EscortRequest.objects.count() == 1
    assert Message.objects.filter(channel="sms").count() == 1


def test_someone_elses_token_is_refused(citizen, station):
    from servicehall.accounts.tests.factories import CitizenFactory

    key = token()
    workflow.request_escort(actor=citizen, client_token=key, **fields())
    with pytest.raises(EscortError) as info:
        workflow.request_escort(actor=CitizenFactory(), client_token=key, **fields())
    assert info.value.code == "token_reused"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"date": MONDAY - dt.timedelta(days=1)}, "date", "不能早于今天"),
        ({"date": MONDAY + dt.timedelta(days=31)}, "date", "30天以内"),
        ({"date": MONDAY + dt.timedelta(days=1), "start_time": dt.time(8)}, "start_time", "24小时"),
        ({"end_time": dt.time(9)}, "end_time", "结束时间应晚于开始时间"),
        ({"end_time": dt.time(10)}, "end_time", "结束时间应晚于开始时间"),
        ({"amount": Decimal("0")}, "amount", "大于0元"),
        ({"amount": Decimal("-5")}, "amount", "大于0元"),
        ({"amount": Decimal("100000000.01")}, "amount", "不能超过100,000,000元"),
        ({"amount": Decimal("1.005")}, "amount", "两位小数"),
        ({"contact_phone": "12345"}, "contact_phone", "手机号码"),
        ({"pickup_address": "  "}, "pickup_address", "取款地点"),
        ({"organisation": ""}, "organisation", "银行或单位名称"),
    ],
)
def test_bad_requests_are_refused_by_field_and_nothing_is_saved(
    citizen, station, overrides, field, words
):
    message = refused(field, submit, actor=citizen, **overrides)
    assert words in message
    assert not EscortRequest.objects.exists() and not Message.objects.exists()


def test_just_enough_notice_is_accepted(citizen, station):
    escort = submit(citizen, date=MONDAY + dt.timedelta(days=1), start_time=dt.time(9))
    assert escort.window_start == at(MONDAY + dt.timedelta(days=1), 9)


def test_a_district_without_a_station_cannot_take_requests(citizen, station):
    refused("district", submit, actor=citizen, district=district("210181"))


def test_who_may_request(citizen, agent, enterprise, duty, station):
    with pytest.raises(PermissionDenied):
        submit(duty)
    with pytest.raises(PermissionDenied):
        submit(HotelUserFactory())
    with pytest.raises(PermissionDenied):
        submit(agent)  # an agent acts for an enterprise
    escort = submit(agent, enterprise=enterprise)
    assert escort.enterprise == enterprise and escort.requester == agent
    # a citizen's request never carries an enterprise
    assert submit(citizen, enterprise=enterprise).enterprise is None


def test_an_agent_cannot_request_for_an_enterprise_they_do_not_act_for(agent, station):
    from servicehall.accounts.tests.factories import EnterpriseFactory

    with pytest.raises(PermissionDenied):
        submit(agent, enterprise=EnterpriseFactory())


def test_accept_dispatch_start_complete(citizen, duty, station, travel):
    escort = submit(citizen)
    travel.shift(dt.timedelta(minutes=30))
    workflow.accept(actor=duty, escort=escort, note="安排两名民警")
    escort.refresh_from_db()
    assert escort.status == Status.ACCEPTED and escort.responded_by == duty
    assert escort.accepted_at == at(MONDAY, 9, 30)
    sms = Message.objects.get(dedupe_key=f"escort:{escort.pk}:accepted")
    assert "已由和平测试派出所受理" in sms.body and sms.recipient == "13912345678"

    travel.shift(dt.timedelta(days=1))
    workflow.dispatch(
        actor=duty,
        escort=escort,
        officers="张警官、李警官",
        vehicle="辽A·1234警",
        lead_officer=duty,
    )
    assert Message.objects.filter(dedupe_key=f"escort:{escort.pk}:dispatched").exists()
    travel.move_to(at(WEDNESDAY, 9, 50))
    workflow.start(actor=duty, escort=escort)
    travel.move_to(at(WEDNESDAY, 11, 40))
    workflow.complete(
        actor=duty,
        escort=escort,
        actual_start=at(WEDNESDAY, 10),
        actual_end=at(WEDNESDAY, 10, 50),
        handed_over_amount=Decimal("500000.00"),
        confirmed=True,
        notes="交接无误",
    )
    escort.refresh_from_db()
    assert escort.status == Status.COMPLETED
    assert (escort.dispatched_by, escort.started_by, escort.completed_by) == (duty, duty, duty)
    assert escort.lead_officer == duty and escort.officers == "张警官、李警官"
    assert escort.started_at == at(WEDNESDAY, 9, 50)
    assert escort.completed_at == at(WEDNESDAY, 11, 40)
    assert escort.handed_over_amount == Decimal("500000.00")
    events = list(escort.events.values_list("action", "from_status", "to_status", "actor"))
    assert events == [
        ("request", "", "requested", citizen.pk),
        ("accept", "requested", "accepted", duty.pk),
        ("dispatch", "accepted", "dispatched", duty.pk),
        ("start", "dispatched", "in_progress", duty.pk),
        ("complete", "in_progress", "completed", duty.pk),
    ]
    audited = AuditEntry.objects.filter(
        object_type="escorts.escortrequest", object_id=str(escort.pk)
    ).values_list("action", flat=True)
    assert set(audited) == {
        "escort.request",
        "escort.accept",
        "escort.dispatch",
        "escort.start",
        "escort.complete",
    }


def test_a_decline_needs_a_reason_and_tells_the_requester(citizen, duty, station):
    escort = submit(citizen)
    refused("reason", workflow.decline, actor=duty, escort=escort, reason="  ")
    escort.refresh_from_db()
    assert escort.status == Status.REQUESTED
    workflow.decline(actor=duty, escort=escort, reason="该时段警力已全部安排")
    escort.refresh_from_db()
    assert escort.status == Status.DECLINED and escort.decline_reason == "该时段警力已全部安排"
    sms = Message.objects.get(dedupe_key=f"escort:{escort.pk}:declined")
    assert "该时段警力已全部安排" in sms.body
    assert AuditEntry.objects.filter(action="escort.decline", object_id=str(escort.pk)).exists()


def test_the_database_refuses_a_decline_without_a_reason(citizen, station):
    from django.db import IntegrityError, transaction

    escort = submit(citizen)
    with pytest.raises(IntegrityError), transaction.atomic():
        EscortRequest.objects.filter(pk=escort.pk).update(status="declined")


def test_wrong_role_and_other_station_are_refused(citizen, clerk, other_duty, supervisor, station):
    escort = submit(citizen)
    for user in (clerk, other_duty, supervisor, citizen):
        with pytest.raises(PermissionDenied):
            workflow.accept(actor=user, escort=escort)
        with pytest.raises(PermissionDenied):
            workflow.decline(actor=user, escort=escort, reason="不行")
    escort.refresh_from_db()
    assert escort.status == Status.REQUESTED and escort.events.count() == 1


def test_district_level_duty_staff_may_answer(citizen, station):
    from .conftest import staff

    escort = submit(citizen)
    workflow.accept(actor=staff("approver", district=station.district), escort=escort)


def test_answering_twice_is_refused_as_a_wrong_state(citizen, duty, station):
    escort = submit(citizen)
    workflow.accept(actor=duty, escort=escort)
    with pytest.raises(EscortError) as info:
        workflow.decline(actor=duty, escort=escort, reason="晚了")
    assert info.value.code == "wrong_state"
    with pytest.raises(EscortError):
        workflow.accept(actor=duty, escort=escort)
    assert escort.events.filter(action="accept").count() == 1


def test_the_requester_cancels_before_dispatch_only(citizen, duty, station):
    from servicehall.accounts.tests.factories import CitizenFactory

    first = submit(citizen)
    with pytest.raises(PermissionDenied):
        workflow.cancel(actor=CitizenFactory(), escort=first)
    with pytest.raises(PermissionDenied):
        workflow.cancel(actor=duty, escort=first)
    workflow.cancel(actor=citizen, escort=first, reason="不需要了")
    first.refresh_from_db()
    assert first.status == Status.CANCELLED and first.cancel_reason == "不需要了"

    accepted = submit(citizen)
    workflow.accept(actor=duty, escort=accepted)
    workflow.cancel(actor=citizen, escort=accepted)
    # the station had planned for it: its duty desk hears
    assert Message.objects.filter(dedupe_key=f"escort:{accepted.pk}:cancelled:{duty.pk}").exists()

    dispatched = submit(citizen)
    workflow.accept(actor=duty, escort=dispatched)
    workflow.dispatch(actor=duty, escort=dispatched, officers="张警官")
    with pytest.raises(EscortError) as info:
        workflow.cancel(actor=citizen, escort=dispatched)
    assert info.value.code == "wrong_state"


def test_dispatch_needs_officers(citizen, duty, station):
    escort = submit(citizen)
    workflow.accept(actor=duty, escort=escort)
    refused("officers", workflow.dispatch, actor=duty, escort=escort, officers=" ")
    refused("lead_officer", workflow.dispatch, actor=duty, escort=escort, lead_officer=citizen)


def test_a_completion_record_is_checked(citizen, duty, station, travel):
    escort = submit(citizen)
    workflow.accept(actor=duty, escort=escort)
    workflow.dispatch(actor=duty, escort=escort, officers="张警官")
    workflow.start(actor=duty, escort=escort)
    travel.move_to(at(WEDNESDAY, 12))
    good = {
        "actor": duty,
        "escort": escort,
        "actual_start": at(WEDNESDAY, 10),
        "actual_end": at(WEDNESDAY, 11),
        "handed_over_amount": Decimal("500000"),
        "confirmed": True,
    }
    refused("actual_end", workflow.complete, **good | {"actual_end": at(WEDNESDAY, 9)})
    refused("actual_end", workflow.complete, **good | {"actual_end": at(WEDNESDAY, 15)})
    refused("handed_over_amount", workflow.complete, **good | {"handed_over_amount": Decimal(0)})
    refused("confirmed", workflow.complete, **good | {"confirmed": False})
    escort.refresh_from_db()
    assert escort.status == Status.IN_PROGRESS
    workflow.complete(**good)
    escort.refresh_from_db()
    assert escort.status == Status.COMPLETED
