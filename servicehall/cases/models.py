"""Cases (办件): an application for a catalogue item and everything that happens to it.

Status changes only through servicehall.cases.workflow; the transitions allowed are the tables
in flows.py. Every transition leaves a CaseEvent (who, when, from, to, note) and an audit entry.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .flows import Action, Status

User = settings.AUTH_USER_MODEL


class GreenChannel(models.TextChoices):
    NONE = "", _("无")
    DISABLED = "disabled", _("残疾人等行动不便群众")
    KEY_PROJECT = "key_project", _("省市重点项目")


class Delivery(models.TextChoices):
    WINDOW = "window", _("窗口领取")
    MAIL = "mail", _("邮寄送达")
    ELECTRONIC = "electronic", _("电子送达")
    DOOR = "door", _("上门送达")


class CaseBatch(models.Model):
    """One employer upload of many registrations (集中申报); each valid row becomes a case."""

    item = models.ForeignKey("catalog.ServiceItem", on_delete=models.PROTECT, related_name="+")
    enterprise = models.ForeignKey(
        "accounts.Enterprise", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("文件名"), max_length=200)
    upload_key = models.UUIDField(_("上传标识"), unique=True)
    row_count = models.PositiveIntegerField(_("数据行数"), default=0)
    errors = models.JSONField(_("错误行"), default=list)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("集中申报批次")
        verbose_name_plural = _("集中申报批次")

    def __str__(self):
        return self.file_name


class Case(models.Model):
    number = models.CharField(_("办件编号"), max_length=24, unique=True, null=True, blank=True)
    # The form's one-time token: a double click or a retried request finds the same case.
    submission_key = models.UUIDField(_("提交标识"), unique=True)
    item = models.ForeignKey(
        "catalog.ServiceItem",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("事项"),
    )
    flow = models.CharField(_("办理流程"), max_length=20)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    home_department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("主办部门"),
    )
    # Where the case is being handled now: another department during joint handling.
    department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("当前办理部门"),
    )
    station = models.ForeignKey(
        "accounts.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("受理派出所"),
    )
    submitted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="submitted_cases", verbose_name=_("提交人")
    )
    enterprise = models.ForeignKey(
        "accounts.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("代办企业"),
    )
    batch = models.ForeignKey(
        CaseBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    # The person the case is about (the applicant, or the employee an agent acts for).
    applicant_name = models.CharField(_("申请人姓名"), max_length=64)
    applicant_id_number = models.CharField(_("申请人身份证号码"), max_length=18, blank=True)
    applicant_phone = models.CharField(_("申请人手机号码"), max_length=11)
    form_data = models.JSONField(_("申请内容"), default=dict)
    green_channel = models.CharField(
        _("绿色通道"), max_length=20, choices=GreenChannel.choices, default="", blank=True
    )
    door_to_door = models.BooleanField(_("申请上门服务"), default=False)
    accountable_staff = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("首问责任人"),
    )
    handler = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_cases",
        verbose_name=_("经办人"),
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    due_date = models.DateField(_("承诺办结日期"), null=True, blank=True, db_index=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    spot_check_passed = models.BooleanField(_("抽查合格"), null=True, blank=True)
    delivery_method = models.CharField(
        _("送达方式"), max_length=12, choices=Delivery.choices, blank=True
    )
    tracking_number = models.CharField(_("邮寄单号"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        constraints = [
            models.CheckConstraint(
                condition=Q(status=Status.DRAFT) | Q(number__isnull=False),
                name="cases_submitted_case_has_number",
            ),
        ]
        indexes = [models.Index(fields=["department", "status", "due_date"])]

    def __str__(self):
        return self.number or f"草稿 {self.pk}"

    def get_absolute_url(self):
        return reverse("cases:detail", args=[self.pk])

    @property
    def is_green(self) -> bool:
        return bool(self.green_channel)


class CaseEvent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=24)
    from_status = models.CharField(_("原状态"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=Status.choices, blank=True)
    # Shown on the public progress page: never personal data.
    note = models.TextField(_("说明"), blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")

    def __str__(self):
        return f"{self.case} {self.action}"

    @property
    def action_label(self) -> str:
        try:
            return Action(self.action).label
        except ValueError:
            return self.action


class CorrectionNotice(models.Model):
    """补正通知: one per case, listing everything missing at once (一次性告知)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="correction")
    items = models.JSONField(_("需补正内容"))
    note = models.TextField(_("说明"), blank=True)
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("告知时间"), auto_now_add=True)
    from_status = models.CharField(max_length=20, choices=Status.choices)
    requested_on = models.DateField(_("告知日期"))
    resubmitted_on = models.DateField(_("补正提交日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("补正通知")
        verbose_name_plural = _("补正通知")

    def __str__(self):
        return f"{self.case} 补正"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    material = models.CharField(_("材料名称"), max_length=200)
    file = models.FileField(_("文件"), upload_to="cases/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")

    def __str__(self):
        return self.material


class CaseCounter(models.Model):
    """Per department and day, the last sequence number handed out (HZ-20261126-0007)."""

    department = models.ForeignKey(
        "accounts.Department", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department", "day"], name="cases_counter_once_per_day")
        ]

    def __str__(self):
        return f"{self.department_id} {self.day} {self.last}"


class WarningLevel(models.TextChoices):
    YELLOW = "yellow", _("黄色预警：即将到期")
    RED = "red", _("红色预警：已超期")


class DeadlineWarning(models.Model):
    """Raised once per case, level and due date by the sweep, however often it runs."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="warnings")
    level = models.CharField(_("预警级别"), max_length=8, choices=WarningLevel.choices)
    due_date = models.DateField(_("到期日"))
    raised_at = models.DateTimeField(_("预警时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("时限预警")
        verbose_name_plural = _("时限预警")
        constraints = [
            models.UniqueConstraint(fields=["case", "level", "due_date"], name="cases_warning_once")
        ]

    def __str__(self):
        return f"{self.case} {self.level}"


class AccountabilityRecord(models.Model):
    """责任追究: an overdue case, and who was accountable for it at the time."""

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        CLOSED = "closed", _("已处理")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="accountability")
    due_date = models.DateField(_("到期日"))
    detected_on = models.DateField(_("发现日期"))
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+"
    )
    accountable_staff = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handler = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    resolution = models.TextField(_("处理结果"), blank=True)

    class Meta:
        verbose_name = _("责任追究记录")
        verbose_name_plural = _("责任追究记录")
        constraints = [
            models.UniqueConstraint(fields=["case", "due_date"], name="cases_accountability_once")
        ]

    def __str__(self):
        return f"{self.case} 超期 {self.due_date}"


class RatingLevel(models.IntegerChoices):
    """The five levels of the national 好差评 system."""

    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASICALLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


class Rating(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="rating")
    level = models.PositiveSmallIntegerField(_("评价"), choices=RatingLevel.choices)
    comment = models.TextField(_("评价内容"), blank=True)
    rated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")

    def __str__(self):
        return f"{self.case} {self.get_level_display()}"

    @property
    def is_bad(self) -> bool:
        return self.level <= RatingLevel.DISSATISFIED


class FollowUpTask(models.Model):
    """A bad rating opens one of these for the department's supervisors (差评整改)."""

    class State(models.TextChoices):
        OPEN = "open", _("待整改")
        DONE = "done", _("已回访")

    rating = models.OneToOneField(Rating, on_delete=models.CASCADE, related_name="follow_up")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(_("整改期限"))
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    resolution = models.TextField(_("整改回访情况"), blank=True)
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")

    def __str__(self):
        return f"{self.rating.case} 整改"
