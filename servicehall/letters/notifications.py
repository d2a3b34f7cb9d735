"""What a letter tells people, queued in the outbox inside the caller's transaction.

The writer hears of receipt, of the reply (SMS and e-mail) and of a merge; the texts carry
the letter number only, never the reply itself or personal data: a phone may be read over
the writer's shoulder and an e-mail address may be mistyped. The reply is read after signing
in, or with the follow-up code. Anonymous writers have no contact and hear nothing. Staff
hear by e-mail of reopenings, bad ratings and time-limit warnings.

Texts are stored in Chinese (the language of the hall's SMS sender), like cases' messages.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from servicehall.notify import outbox

WRITER_SMS = {
    "received": "您的来信已收到，编号{number}，我们将于{due}前答复。",
    "replied": "您的来信{number}已答复，请登录服务大厅或凭查询码查看答复，欢迎评价。",
    "merged": "您的来信{number}与来信{into}反映的问题相同，已合并办理，答复将一并告知。",
    "reopened": "您的来信{number}已重新办理，我们将于{due}前再次答复。",
}
WRITER_EMAIL_SUBJECT = {
    "received": "来信{number}已收到",
    "replied": "来信{number}已答复",
    "merged": "来信{number}已合并办理",
    "reopened": "来信{number}已重新办理",
}


def _to_writer(letter, what: str, event, **extra) -> None:
    if letter.anonymous:
        return
    values = {
        "number": letter.number,
        "due": letter.due_date.isoformat() if letter.due_date else "",
        **extra,
    }
    body = WRITER_SMS[what].format(**values)
    if outbox.normalise_phone(letter.contact_phone):  # not a landline
        outbox.notify_sms(
            letter.contact_phone,
            body,
            dedupe_key=f"letter-event:{event.pk}:sms:{letter.pk}",
            about=letter,
        )
    if letter.contact_email and what != "received":
        outbox.notify_email(
            letter.contact_email,
            WRITER_EMAIL_SUBJECT[what].format(**values),
            body,
            dedupe_key=f"letter-event:{event.pk}:email:{letter.pk}",
            about=letter,
        )


def received(letter, event) -> None:
    _to_writer(letter, "received", event)


def replied(letter, event) -> None:
    """The writer, and the writers of the duplicates merged into this letter."""
    _to_writer(letter, "replied", event)
    for duplicate in letter.duplicates.all():
        _to_writer(duplicate, "replied", event)


def merged(letter, event) -> None:
    _to_writer(letter, "merged", event, into=letter.merged_into.number)


def reopened(letter, event, staff) -> None:
    _to_writer(letter, "reopened", event)
    due = letter.due_date.isoformat()
    text = f"【重新办理】来信{letter.number}的来信人对答复不满意，已重新办理，请于{due}前再次答复。"
    _to_staff(staff, text, key=f"letter-event:{event.pk}", about=letter)


def bad_rating(letter, event, staff) -> None:
    with translation.override(settings.LANGUAGE_CODE):  # stored texts are Chinese
        level = str(letter.get_rating_level_display())
    text = f"【差评】来信{letter.number}的答复被评为“{level}”，请关注。"
    _to_staff(staff, text, key=f"letter-event:{event.pk}", about=letter)


def deadline_warning(letter, level: str, recipients) -> None:
    """Once per person, level and round (the sweep raises each warning once)."""
    text = {
        "yellow": "【答复预警】来信{number}将于{due}到期，请抓紧答复。",
        "red": "【超期督办】来信{number}已于{due}超过答复期限，请督促办理。",
    }[level].format(number=letter.number, due=letter.due_date.isoformat())
    _to_staff(
        recipients, text, key=f"letter-deadline:{letter.pk}:{level}:{letter.round}", about=letter
    )


def _to_staff(users, text: str, *, key: str, about) -> None:
    for user in users:
        if not user.email:
            continue
        outbox.notify_email(user.email, text[:60], text, dedupe_key=f"{key}:{user.pk}", about=about)
