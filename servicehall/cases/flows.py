"""The case flows as data: which action moves a case from which statuses to which.

A catalogue item names its flow (standard, instant, filing + spot check); `flow_rules` in its
data file may route a submission to another flow. The workflow module looks every transition
up here and refuses anything not listed, so a new flow is a new table, not new code paths.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    CORRECTION = "correction", _("待补正")
    ACCEPTED = "accepted", _("已受理")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    UNDER_REVIEW = "under_review", _("审查中")
    APPROVED = "approved", _("准予许可")
    DENIED = "denied", _("不予许可")
    FILED = "filed", _("已备案")
    SPOT_CHECK = "spot_check", _("抽查中")
    COMPLETED = "completed", _("已办结")
    DELIVERED = "delivered", _("已送达")
    WITHDRAWN = "withdrawn", _("已撤回")


class Action(models.TextChoices):
    SUBMIT = "submit", pgettext_lazy("case action", "提交申请")
    ACCEPT = "accept", pgettext_lazy("case action", "受理")
    REFUSE = "refuse", pgettext_lazy("case action", "不予受理")
    REQUEST_CORRECTION = "request_correction", pgettext_lazy("case action", "一次性告知补正")
    RESUBMIT = "resubmit", pgettext_lazy("case action", "补正后重新提交")
    START_REVIEW = "start_review", pgettext_lazy("case action", "开始审查")
    APPROVE = "approve", pgettext_lazy("case action", "准予许可")
    DENY = "deny", pgettext_lazy("case action", "不予许可")
    COMPLETE = "complete", pgettext_lazy("case action", "办结")
    COMPLETE_INSTANTLY = "complete_instantly", pgettext_lazy("case action", "即办办结")
    FILE = "file", pgettext_lazy("case action", "备案")
    DRAW_SPOT_CHECK = "draw_spot_check", pgettext_lazy("case action", "抽中检查")
    RECORD_SPOT_CHECK = "record_spot_check", pgettext_lazy("case action", "告知抽查结果")
    DELIVER = "deliver", pgettext_lazy("case action", "送达")
    WITHDRAW = "withdraw", pgettext_lazy("case action", "撤回申请")
    # Steps that keep the status: who handles the case, and where.
    CLAIM = "claim", pgettext_lazy("case action", "认领办理")
    HAND_OVER = "hand_over", pgettext_lazy("case action", "移交协办部门")
    TRANSFER_ACCOUNTABILITY = (
        "transfer_accountability",
        pgettext_lazy("case action", "首问责任交接"),
    )


S = Status
# A case leaves CORRECTION back to the status it was in when the notice was issued; that
# return is the RESUBMIT action, checked against the notice rather than this table.
_COMMON = {
    Action.WITHDRAW: ({S.DRAFT, S.SUBMITTED, S.CORRECTION}, S.WITHDRAWN),
    Action.DELIVER: ({S.COMPLETED}, S.DELIVERED),
}
FLOWS: dict[str, dict[str, tuple[set[str], str]]] = {
    "standard": {
        Action.SUBMIT: ({S.DRAFT}, S.SUBMITTED),
        Action.ACCEPT: ({S.SUBMITTED}, S.ACCEPTED),
        Action.REFUSE: ({S.SUBMITTED}, S.NOT_ACCEPTED),
        Action.REQUEST_CORRECTION: ({S.SUBMITTED, S.UNDER_REVIEW}, S.CORRECTION),
        Action.START_REVIEW: ({S.ACCEPTED}, S.UNDER_REVIEW),
        Action.APPROVE: ({S.UNDER_REVIEW}, S.APPROVED),
        Action.DENY: ({S.UNDER_REVIEW}, S.DENIED),
        Action.COMPLETE: ({S.APPROVED, S.DENIED}, S.COMPLETED),
        **_COMMON,
    },
    "instant": {
        Action.SUBMIT: ({S.DRAFT}, S.SUBMITTED),
        Action.REFUSE: ({S.SUBMITTED}, S.NOT_ACCEPTED),
        Action.REQUEST_CORRECTION: ({S.SUBMITTED}, S.CORRECTION),
        Action.COMPLETE_INSTANTLY: ({S.SUBMITTED}, S.COMPLETED),
        **_COMMON,
    },
    "filing_spot_check": {
        Action.SUBMIT: ({S.DRAFT}, S.SUBMITTED),
        Action.FILE: ({S.SUBMITTED}, S.FILED),
        Action.DRAW_SPOT_CHECK: ({S.FILED}, S.SPOT_CHECK),
        Action.COMPLETE: ({S.FILED}, S.COMPLETED),
        Action.RECORD_SPOT_CHECK: ({S.SPOT_CHECK}, S.COMPLETED),
        **_COMMON,
    },
}
APPLICABLE_FLOWS = frozenset(FLOWS)  # booking_only and query_only items take no applications

# While a case is in one of these, its promised-limit clock runs (from acceptance/filing).
CLOCK_RUNNING = frozenset({S.ACCEPTED, S.UNDER_REVIEW, S.APPROVED, S.DENIED, S.SPOT_CHECK})
# Waiting for the bureau (staff queues show these).
AWAITING_STAFF = frozenset({S.SUBMITTED, *CLOCK_RUNNING, S.COMPLETED})
FINAL = frozenset({S.NOT_ACCEPTED, S.DELIVERED, S.WITHDRAWN})
RATEABLE = frozenset({S.COMPLETED, S.DELIVERED})


def target(flow: str, action: str, current: str) -> str | None:
    """The status `action` leads to from `current` in `flow`, or None if not allowed."""
    allowed = FLOWS.get(flow, {}).get(action)
    if allowed is None or current not in allowed[0]:
        return None
    return allowed[1]


def actions_from(flow: str, current: str) -> list[str]:
    return [action for action, (sources, _) in FLOWS.get(flow, {}).items() if current in sources]
