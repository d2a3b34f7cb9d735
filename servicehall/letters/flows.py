"""The letter flow as data: statuses, actions, and which action leads from where to where.

One flow for every channel and kind:

    received ──assign──▶ assigned ──claim / set handler / draft──▶ handling
    handling ──send (no approval needed)──────────────────────────▶ replied
    handling ──submit for approval──▶ pending approval ──approve──▶ replied
                                      pending approval ──return───▶ handling
    assigned / handling ──transfer (the due date stays)──▶ assigned (another department)
    replied ──reopen (once, after a dissatisfied rating)──▶ handling (new round, new due date)
    received … pending approval ──withdraw──▶ withdrawn
    received … handling ──merge duplicate──▶ merged

A withdrawn or merged letter stays in the books: nothing is ever deleted. workflow.py looks
every transition up here and refuses anything not listed.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    MAILBOX = "mailbox", _("局长信箱")
    ONLINE110 = "online110", _("网上110")
    APPEAL = "appeal", _("民意通诉求")
    HOTLINE = "hotline", _("96123市民服务热线")
    MISCONDUCT = "misconduct", _("12389举报")
    OUTSIDE = "outside", _("外部平台转来")


class Kind(models.TextChoices):
    CONSULTATION = "consultation", _("咨询")
    HELP = "help", _("求助")
    COMPLAINT = "complaint", _("投诉")
    SUGGESTION = "suggestion", _("建议")
    REPORT = "report", _("举报")
    PRAISE = "praise", _("表扬")


class Status(models.TextChoices):
    RECEIVED = "received", _("待分办")
    ASSIGNED = "assigned", _("待办理")
    HANDLING = "handling", _("办理中")
    PENDING_APPROVAL = "pending_approval", _("待领导审核")
    REPLIED = "replied", _("已答复")
    WITHDRAWN = "withdrawn", _("已撤回")
    MERGED = "merged", _("已合并（重复来信）")


class ReplyStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING = "pending", _("待审核")
    RETURNED = "returned", _("已退回")
    SENT = "sent", _("已答复")
    DISCARDED = "discarded", _("已作废")


class Action(models.TextChoices):
    RECEIVE = "receive", pgettext_lazy("letter action", "登记来信")
    IMPORT = "import", pgettext_lazy("letter action", "外部平台转入")
    ASSIGN = "assign", pgettext_lazy("letter action", "分办")
    CLAIM = "claim", pgettext_lazy("letter action", "认领办理")
    SET_HANDLER = "set_handler", pgettext_lazy("letter action", "指定承办人")
    DRAFT = "draft", pgettext_lazy("letter action", "起草答复")
    SUBMIT_FOR_APPROVAL = "submit_for_approval", pgettext_lazy("letter action", "提交领导审核")
    APPROVE = "approve", pgettext_lazy("letter action", "审核通过并答复")
    RETURN = "return", pgettext_lazy("letter action", "退回修改")
    SEND = "send", pgettext_lazy("letter action", "答复")
    TRANSFER = "transfer", pgettext_lazy("letter action", "转办")
    RATE = "rate", pgettext_lazy("letter action", "评价")
    REOPEN = "reopen", pgettext_lazy("letter action", "不满意，重新办理")
    WITHDRAW = "withdraw", pgettext_lazy("letter action", "撤回来信")
    MERGE = "merge", pgettext_lazy("letter action", "合并重复来信")
    PUBLISH = "publish", pgettext_lazy("letter action", "公开答复")
    UNPUBLISH = "unpublish", pgettext_lazy("letter action", "撤销公开")
    WITHDRAW_CONSENT = "withdraw_consent", pgettext_lazy("letter action", "撤回公开同意")
    SET_DUE_DATE = "set_due_date", pgettext_lazy("letter action", "确定答复期限")


S = Status
# Where the reply clock runs (the sweep warns and escalates these).
CLOCK_RUNNING = frozenset({S.RECEIVED, S.ASSIGNED, S.HANDLING, S.PENDING_APPROVAL})
FINAL = frozenset({S.WITHDRAWN, S.MERGED})
_ALL = frozenset(S.values)

TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    # target None: the status stays as it is.
    Action.ASSIGN: (frozenset({S.RECEIVED}), S.ASSIGNED),
    Action.CLAIM: (frozenset({S.ASSIGNED, S.HANDLING}), S.HANDLING),
    Action.SET_HANDLER: (frozenset({S.ASSIGNED, S.HANDLING}), S.HANDLING),
    Action.DRAFT: (frozenset({S.ASSIGNED, S.HANDLING}), S.HANDLING),
    Action.SUBMIT_FOR_APPROVAL: (frozenset({S.HANDLING}), S.PENDING_APPROVAL),
    Action.APPROVE: (frozenset({S.PENDING_APPROVAL}), S.REPLIED),
    Action.RETURN: (frozenset({S.PENDING_APPROVAL}), S.HANDLING),
    Action.SEND: (frozenset({S.HANDLING}), S.REPLIED),
    Action.TRANSFER: (frozenset({S.ASSIGNED, S.HANDLING}), S.ASSIGNED),
    Action.RATE: (frozenset({S.REPLIED}), None),
    Action.REOPEN: (frozenset({S.REPLIED}), S.HANDLING),
    Action.WITHDRAW: (CLOCK_RUNNING, S.WITHDRAWN),
    Action.MERGE: (frozenset({S.RECEIVED, S.ASSIGNED, S.HANDLING}), S.MERGED),
    Action.PUBLISH: (frozenset({S.REPLIED}), None),
    Action.UNPUBLISH: (_ALL, None),
    Action.WITHDRAW_CONSENT: (_ALL, None),
    Action.SET_DUE_DATE: (CLOCK_RUNNING, None),
}


def target(action: str, current: str) -> str | None:
    """The status `action` leads to from `current` (the same status for steps that keep it),
    or None when the action is not allowed from there."""
    allowed = TRANSITIONS.get(action)
    if allowed is None or current not in allowed[0]:
        return None
    return allowed[1] or current


def actions_from(current: str) -> list[str]:
    return [action for action, (sources, _) in TRANSITIONS.items() if current in sources]
