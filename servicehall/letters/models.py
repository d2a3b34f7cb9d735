"""Letters and appeals (信访): one store for every channel, from receipt to a rated reply.

Status changes only through servicehall.letters.workflow (intake through intake.py); the
transitions are the table in flows.py. Every step leaves a LetterEvent and an audit entry.

Nothing leaves the books: a letter, its events, replies and attachments cannot be deleted
(the model and queryset refuse; on PostgreSQL a trigger refuses DELETE, migration 0002).
Withdrawn and merged duplicate letters stay, with their status saying so.

Anonymous letters (anonymous=True) carry no account and no contact data (a database
constraint), and their audit entries no actor and no IP address; the writer follows the
letter with a follow-up code stored here only as its SHA-256 hash.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from servicehall.cases.models import RatingLevel, WarningLevel

from .flows import Channel, Kind, ReplyStatus, Status

User = settings.AUTH_USER_MODEL

__all__ = [
    "Channel",
    "DeletionRefused",
    "Kind",
    "Letter",
    "LetterAttachment",
    "LetterCounter",
    "LetterEvent",
    "LetterReply",
    "LetterWarning",
    "OutsidePlatform",
    "RatingLevel",
    "ReplyStatus",
    "Status",
    "WarningLevel",
]


class DeletionRefused(Exception):
    """Letters and their history stay on the books; nothing here is ever deleted."""


class KeptQuerySet(models.QuerySet):
    def delete(self):
        raise DeletionRefused(
            f"{self.model._meta.label} rows are never deleted: letters stay on the books "
            "(withdrawn and merged letters keep their status)"
        )


class KeptModel(models.Model):
    """A model whose rows are never deleted (with a PostgreSQL trigger behind it)."""

    objects = KeptQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise DeletionRefused(f"{self._meta.label} rows are never deleted")


class OutsidePlatform(models.Model):
    """An outside system that sends letters (e.g. the provincial 民心网) or reads/writes
    through Open311. Authenticates with an API key stored only as its SHA-256 hash; issue
    and check keys with servicehall.letters.platforms."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    key_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    # The first characters of the key, to tell keys apart in lists; not enough to use it.
    key_prefix = models.CharField(_("密钥前缀"), max_length=12, blank=True, editable=False)
    key_issued_at = models.DateTimeField(_("密钥签发时间"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("外部平台")
        verbose_name_plural = _("外部平台")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Letter(KeptModel):
    # XF + date + daily sequence: XF2026112600001. Also the Open311 service_request_id.
    number = models.CharField(_("信件编号"), max_length=15, unique=True)
    # The form's one-time token: a double submit or a retried request finds the same letter.
    submission_key = models.UUIDField(_("提交标识"), unique=True, null=True, blank=True)
    channel = models.CharField(_("来信渠道"), max_length=12, choices=Channel.choices)
    kind = models.CharField(_("来信类别"), max_length=12, choices=Kind.choices)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))

    # The writer. Never set for an anonymous letter (a constraint, below).
    writer = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="letters",
        verbose_name=_("来信人账号"),
    )
    anonymous = models.BooleanField(_("匿名"), default=False)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    contact_email = models.EmailField(_("电子邮箱"), blank=True)
    # SHA-256 of the follow-up code (查询码) given once to a writer without an account.
    follow_up_code_hash = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    # Misconduct reports (12389): the officer or unit complained about, as the writer put it.
    subject_officer = models.CharField(_("被举报民警或单位"), max_length=100, blank=True)
    # The hotline operator who typed the call in on the caller's behalf.
    entered_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    outside_platform = models.ForeignKey(
        OutsidePlatform,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="letters",
        verbose_name=_("外部平台"),
    )
    outside_id = models.CharField(_("外部平台编号"), max_length=64, blank=True)
    outside_submitted_at = models.DateTimeField(_("外部平台受理时间"), null=True, blank=True)

    # Who handles it: the letters office (or police inspection for misconduct) until triage.
    department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.PROTECT,
        related_name="letters",
        verbose_name=_("承办部门"),
    )
    station = models.ForeignKey(
        "accounts.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="letters",
        verbose_name=_("承办派出所"),
    )
    handler = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_letters",
        verbose_name=_("承办人"),
    )

    received_at = models.DateTimeField(_("收信时间"))
    # The day the current round's clock started (receipt, or the reopening).
    clock_started_on = models.DateField(_("计时起始日"))
    due_date = models.DateField(_("答复期限"), db_index=True)
    # True when the calendar year was not confirmed yet and the date counts calendar days
    # (earlier than the working-day date); the sweep recomputes it once the year is confirmed.
    due_date_provisional = models.BooleanField(_("答复期限待确认"), default=False)
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    rating_level = models.PositiveSmallIntegerField(
        _("评价"), choices=RatingLevel.choices, null=True, blank=True
    )
    rating_comment = models.TextField(_("评价内容"), blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("重新办理次数"), default=0)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("合并至"),
    )

    publish_consent = models.BooleanField(_("同意公开"), default=False)
    public = models.BooleanField(_("已公开"), default=False, db_index=True)
    public_subject = models.CharField(_("公开标题"), max_length=200, blank=True)
    public_reply = models.TextField(_("公开答复"), blank=True)
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True)

    # Where it happened (optional; Open311 GeoReport v2 address / lat / long).
    address = models.CharField(_("地点"), max_length=200, blank=True)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("来信")
        verbose_name_plural = _("来信")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(anonymous=False)
                | Q(writer__isnull=True, contact_name="", contact_phone="", contact_email=""),
                name="letters_anonymous_unlinked",
            ),
            models.CheckConstraint(
                condition=Q(reopened_count__lte=1), name="letters_reopened_once"
            ),
            models.CheckConstraint(
                condition=Q(round=F("reopened_count") + 1), name="letters_round_counts_reopens"
            ),
            models.CheckConstraint(
                condition=(
                    Q(channel=Channel.OUTSIDE, outside_platform__isnull=False) & ~Q(outside_id="")
                )
                | (~Q(channel=Channel.OUTSIDE) & Q(outside_platform__isnull=True, outside_id="")),
                name="letters_outside_has_platform",
            ),
            models.UniqueConstraint(
                fields=["outside_platform", "outside_id"],
                condition=Q(outside_platform__isnull=False),
                name="letters_outside_id_once",
            ),
            models.CheckConstraint(
                condition=Q(status=Status.MERGED, merged_into__isnull=False)
                | (~Q(status=Status.MERGED) & Q(merged_into__isnull=True)),
                name="letters_merged_has_target",
            ),
            models.CheckConstraint(
                condition=Q(public=False) | Q(publish_consent=True),
                name="letters_public_needs_consent",
            ),
            models.CheckConstraint(
                condition=Q(lat__isnull=True, long__isnull=True)
                | Q(lat__gte=-90, lat__lte=90, long__gte=-180, long__lte=180),
                name="letters_location_pair",
            ),
            models.CheckConstraint(
                condition=Q(rating_level__isnull=True)
                | Q(rating_level__gte=1, rating_level__lte=5),
                name="letters_rating_range",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "status", "due_date"]),
            models.Index(fields=["public", "published_at"]),
            # Open311 request lists and the figures select a period of receipt.
            models.Index(fields=["received_at"], name="letters_received_at"),
            # The sweep looks for provisional due dates on every run; there are few.
            models.Index(
                fields=["due_date"],
                condition=Q(due_date_provisional=True),
                name="letters_provisional_due",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def service_request_id(self) -> str:
        """The public number, as Open311 GeoReport v2 calls it."""
        return self.number

    @property
    def is_misconduct(self) -> bool:
        return self.channel == Channel.MISCONDUCT

    @property
    def is_open(self) -> bool:
        from .flows import CLOCK_RUNNING

        return self.status in CLOCK_RUNNING


class LetterCounter(models.Model):
    """Per day, the last sequence number handed out (XF2026112600007)."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.day} {self.last}"


class LetterEvent(KeptModel):
    """One step in a letter's life: who, when, from which status to which."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    # None for system steps and for anything an anonymous writer does.
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=24)
    from_status = models.CharField(_("原状态"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=Status.choices, blank=True)
    note = models.TextField(_("说明"), blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")

    def __str__(self):
        return f"{self.letter} {self.action}"

    @property
    def action_label(self) -> str:
        from .flows import Action

        try:
            return Action(self.action).label
        except ValueError:
            return self.action


class LetterReply(KeptModel):
    """A reply: drafted, maybe approved by a leader, then sent. Returned and discarded drafts
    stay as history; `round` 2 is the reply after a reopening."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="replies")
    round = models.PositiveSmallIntegerField(_("办理轮次"))
    body = models.TextField(_("答复内容"))
    status = models.CharField(
        _("状态"), max_length=12, choices=ReplyStatus.choices, default=ReplyStatus.DRAFT
    )
    drafted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("起草人")
    )
    drafted_at = models.DateTimeField(_("起草时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)
    sent_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("答复人"),
    )
    sent_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    # The round's due date when it was sent: on time means sent_at's day <= due_date.
    due_date = models.DateField(_("答复期限"), null=True, blank=True)
    rating_level = models.PositiveSmallIntegerField(
        _("评价"), choices=RatingLevel.choices, null=True, blank=True
    )
    rating_comment = models.TextField(_("评价内容"), blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    class Meta:
        ordering = ["drafted_at", "id"]
        verbose_name = _("答复")
        verbose_name_plural = _("答复")
        constraints = [
            models.UniqueConstraint(
                fields=["letter"],
                condition=Q(status__in=[ReplyStatus.DRAFT, ReplyStatus.PENDING]),
                name="letters_one_open_reply",
            ),
            models.UniqueConstraint(
                fields=["letter", "round"],
                condition=Q(status=ReplyStatus.SENT),
                name="letters_one_sent_reply_per_round",
            ),
            models.CheckConstraint(
                condition=Q(rating_level__isnull=True) | Q(status=ReplyStatus.SENT),
                name="letters_only_sent_replies_rated",
            ),
        ]

    def __str__(self):
        return f"{self.letter} 答复{self.round}"


class LetterAttachment(KeptModel):
    """A file sent with a letter, validated by cases.attachments.validate_upload."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("文件"), upload_to="letters/%Y/%m/")
    # For an anonymous letter a neutral name (附件1.pdf): a file name can name its author.
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("来信附件")
        verbose_name_plural = _("来信附件")

    def __str__(self):
        return self.original_name


class LetterWarning(models.Model):
    """Raised once per letter, level and round by the sweep, however often it runs."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="warnings")
    level = models.CharField(_("预警级别"), max_length=8, choices=WarningLevel.choices)
    round = models.PositiveSmallIntegerField(_("办理轮次"))
    due_date = models.DateField(_("到期日"))
    raised_on = models.DateField(_("预警日期"))
    raised_at = models.DateTimeField(_("预警时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("答复时限预警")
        verbose_name_plural = _("答复时限预警")
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "level", "round"], name="letters_warning_once"
            )
        ]

    def __str__(self):
        return f"{self.letter} {self.level}"
