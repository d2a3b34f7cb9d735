"""Read side for writers (their own letters, or the one letter a code opens) and the public
page of answered letters. Staff names never reach a writer's page."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from . import flows, queries
from .flows import Action, Status
from .models import Letter, RatingLevel

# The steps of a letter in the words of the person who wrote it.
CITIZEN_WORDS = {
    Action.RECEIVE: _("来信已收到"),
    Action.IMPORT: _("来信已从外部平台转来"),
    Action.ASSIGN: _("已交承办部门办理"),
    Action.TRANSFER: _("已转交其他部门办理"),
    Action.APPROVE: _("已答复，请查看答复内容"),
    Action.SEND: _("已答复，请查看答复内容"),
    Action.RATE: _("您已评价答复"),
    Action.REOPEN: _("您对答复不满意，已重新办理"),
    Action.WITHDRAW: _("来信已撤回"),
    Action.MERGE: _("与反映同一问题的来信合并办理"),
    Action.PUBLISH: _("答复已在网上公开（已去除个人信息）"),
    Action.UNPUBLISH: _("已撤销网上公开"),
}


def letters_of(user) -> QuerySet:
    return queries.writer_letters(user).select_related("department").order_by("-received_at", "-id")


def letter_of(user, number: str) -> Letter | None:
    return letters_of(user).filter(number=number).first()


def timeline(letter: Letter) -> list[dict]:
    return [
        {
            "at": event.at,
            "text": CITIZEN_WORDS.get(event.action, event.action_label),
            "status": Status(event.to_status).label if event.to_status else "",
        }
        for event in queries.writer_history(letter)
    ]


def letter_page(letter: Letter) -> dict:
    """Everything the writer's page (signed in, or with the code) shows and offers."""
    replied = letter.status == Status.REPLIED
    rated = letter.rating_level is not None
    return {
        "letter": letter,
        "timeline": timeline(letter),
        "replies": list(queries.sent_replies(letter)),
        "attachments": list(letter.attachments.all()),
        "can_rate": replied and not rated,
        "can_reopen": replied
        and rated
        and letter.reopened_count == 0
        and letter.rating_level <= RatingLevel.DISSATISFIED,
        "can_withdraw": flows.target(Action.WITHDRAW, letter.status) is not None,
        "can_withdraw_consent": letter.publish_consent,
    }


def answered(search: str = "") -> QuerySet:
    """Published letters, only through their redacted public texts."""
    letters = queries.public_letters()
    if search:
        letters = letters.filter(
            Q(public_subject__icontains=search) | Q(public_reply__icontains=search)
        )
    return letters


def answered_letter(number: str) -> Letter | None:
    return queries.public_letters().filter(number=number).first()
