"""What a case tells people, queued in the outbox inside the caller's transaction.

SMS text is plain Chinese without personal data beyond the case number: a phone may be read
over the applicant's shoulder, and the progress page needs the phone number anyway.
"""

from __future__ import annotations

from servicehall.notify import outbox

from .flows import Action

# The steps an applicant hears about, and what the message says.
APPLICANT_MESSAGES = {
    Action.SUBMIT: "您的申请“{item}”已提交，办件编号{number}。可凭编号和手机号查询进度。",
    Action.ACCEPT: "办件{number}（{item}）已受理，承诺于{due}前办结。",
    Action.REFUSE: "办件{number}（{item}）不予受理，理由见进度查询页面。",
    Action.REQUEST_CORRECTION: "办件{number}需要补正材料，请登录服务大厅查看一次性告知清单并补正。",
    Action.APPROVE: "办件{number}（{item}）已审批通过。",
    Action.DENY: "办件{number}（{item}）不予许可，理由见进度查询页面。",
    Action.COMPLETE: "办件{number}（{item}）已办结。欢迎对本次服务进行评价。",
    Action.COMPLETE_INSTANTLY: "办件{number}（{item}）已即时办结。欢迎对本次服务进行评价。",
    Action.DRAW_SPOT_CHECK: "备案{number}已被随机抽中检查，将于{due}前告知抽查结果。",
    Action.RECORD_SPOT_CHECK: "备案{number}的抽查结果已出具，请登录服务大厅查看。",
    Action.DELIVER: "办件{number}（{item}）的结果已送达。",
}


def case_changed(case, event) -> None:
    template = APPLICANT_MESSAGES.get(event.action)
    if not template or not case.applicant_phone:
        return
    body = template.format(
        item=case.item.name,
        number=case.number,
        due=case.due_date.isoformat() if case.due_date else "",
    )
    outbox.enqueue(
        channel="sms",
        to=case.applicant_phone,
        body=body,
        dedupe_key=f"case-event:{event.pk}",
        about=case,
    )


def deadline_warning(case, level: str, recipients) -> None:
    """Tell the handler and the department's supervisors; once per person, level and date."""
    text = {
        "yellow": "【时限预警】办件{number}（{item}）将于{due}到期，请抓紧办理。",
        "red": "【超期】办件{number}（{item}）已于{due}超过承诺时限，已记入责任追究。",
    }[level].format(number=case.number, item=case.item.name, due=case.due_date.isoformat())
    for user in recipients:
        address = user.email
        if not address:
            continue
        outbox.enqueue(
            channel="email",
            to=address,
            subject=text[:60],
            body=text,
            dedupe_key=f"deadline:{case.pk}:{level}:{case.due_date.isoformat()}:{user.pk}",
            about=case,
        )
