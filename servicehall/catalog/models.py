"""The service catalogue (事项清单), loaded from the data files under items/.

The files are the source of truth; these tables are their searchable, linkable copy. The full
item document is kept in `document` so the guide page shows every field the file carries,
while the columns hold what lists, filters and other apps query.
"""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from servicehall.core.localized import LocalizedName


class LifeEvent(LocalizedName, models.Model):
    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=128)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["position"]
        verbose_name = _("人生事件")
        verbose_name_plural = _("人生事件")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:life_event", args=[self.code])


class ItemType(models.TextChoices):
    LICENCE = "licence", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    PUBLIC_SERVICE = "public_service", _("公共服务")
    QUERY = "query", _("查询服务")
    FILING = "filing", _("备案")
    OTHER_POWER = "other_power", _("其他行政权力")
    PAYMENT = "payment", _("行政给付")
    PENALTY = "penalty", _("行政处罚")


class Flow(models.TextChoices):
    STANDARD = "standard", _("标准审批")
    INSTANT = "instant", _("即办")
    FILING_SPOT_CHECK = "filing_spot_check", _("备案抽查")
    BOOKING_ONLY = "booking_only", _("仅预约")
    QUERY_ONLY = "query_only", _("仅查询")


class LimitUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("工作日")
    CALENDAR_DAYS = "calendar_days", _("自然日")


class Channel(models.TextChoices):
    ONLINE = "online", _("网上办理")
    WINDOW = "window", _("窗口办理")
    PHONE = "phone", _("电话办理")
    SELF_SERVICE = "self_service", _("自助办理")
    MOBILE = "mobile", _("手机办理")
    DOOR_TO_DOOR = "door_to_door", _("上门服务")


class Delivery(models.TextChoices):
    WINDOW = "window", _("窗口领取")
    MAIL = "mail", _("邮寄送达")
    ELECTRONIC = "electronic", _("电子证照")
    ON_THE_SPOT = "on_the_spot", _("当场领取")
    SMS = "sms", _("短信告知")


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", _("原件")
    COPY = "copy", _("复印件")
    ORIGINAL_AND_COPY = "original_and_copy", _("原件及复印件")
    ELECTRONIC = "electronic", _("电子材料")


ONLINE_DEPTH_LABELS = {
    1: _("一级：信息公开"),
    2: _("二级：表格下载"),
    3: _("三级：网上预审"),
    4: _("四级：全程网办"),
}


class ActiveItemManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(is_active=True)


class ServiceItem(LocalizedName, models.Model):
    code = models.CharField(_("事项编码"), max_length=16, unique=True)
    name = models.CharField(_("事项名称"), max_length=128)
    name_en = models.CharField(_("英文名称"), max_length=200)
    department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.PROTECT,
        related_name="items",
        verbose_name=_("部门"),
    )
    item_type = models.CharField(_("事项类型"), max_length=20, choices=ItemType.choices)
    in_power_list = models.BooleanField(_("列入权力清单"), default=False)
    flow = models.CharField(_("办理流程"), max_length=20, choices=Flow.choices)
    online_depth = models.PositiveSmallIntegerField(_("网上办理深度"))
    legal_days = models.PositiveSmallIntegerField(_("法定时限"))
    legal_unit = models.CharField(
        _("法定时限单位"), max_length=16, choices=LimitUnit.choices, default=LimitUnit.WORKING_DAYS
    )
    promised_days = models.PositiveSmallIntegerField(_("承诺时限（工作日）"))
    free_of_charge = models.BooleanField(_("不收费"), default=True)
    channels = models.JSONField(_("办理渠道"), default=list)
    life_events = models.ManyToManyField(
        LifeEvent, related_name="items", blank=True, verbose_name=_("人生事件")
    )
    document = models.JSONField(_("实施清单全文"))
    # Lower-cased name, English name, keywords, summary, department: what search reads.
    search_text = models.TextField(_("检索文本"), editable=False)
    source_file = models.CharField(_("数据文件"), max_length=200)
    is_active = models.BooleanField(
        _("有效"), default=True, help_text=_("数据文件删除后事项停用而不删除，已有办件仍可引用。")
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = models.Manager()
    active = ActiveItemManager()

    class Meta:
        ordering = ["department__position", "code"]
        verbose_name = _("服务事项")
        verbose_name_plural = _("服务事项")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(promised_days__lte=models.F("legal_days")),
                name="catalog_item_promise_within_legal_limit",
            ),
            models.CheckConstraint(
                condition=models.Q(online_depth__gte=1, online_depth__lte=4),
                name="catalog_item_online_depth_1_to_4",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("catalog:item", args=[self.code])

    @property
    def applies_online(self) -> bool:
        return Channel.ONLINE in self.channels

    @property
    def takes_online_applications(self) -> bool:
        online_flows = {Flow.STANDARD, Flow.INSTANT, Flow.FILING_SPOT_CHECK}
        return self.applies_online and self.flow in online_flows

    @property
    def takes_batch_uploads(self) -> bool:
        return bool(self.document.get("batch_upload"))

    @property
    def on_the_spot(self) -> bool:
        return self.promised_days == 0
