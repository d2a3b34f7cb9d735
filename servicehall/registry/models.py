"""The household registry (户籍): households, the persons on their cards, and the precomputed
name counts that answer the newborn same-name query without touching the person table.

Persons are personal data: every read by staff goes through servicehall.registry.lookup,
which requires a purpose and writes an audit entry. Name statistics hold counts only.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class PersonStatus(models.TextChoices):
    REGISTERED = "registered", _("在册")
    MOVED_OUT = "moved_out", _("已迁出")
    DECEASED = "deceased", _("已死亡")


class Household(models.Model):
    """户: a household card, keyed by its household number (户号)."""

    class Kind(models.TextChoices):
        FAMILY = "family", _("家庭户")
        COLLECTIVE = "collective", _("集体户")

    number = models.CharField(_("户号"), max_length=20, unique=True)
    kind = models.CharField(_("户别"), max_length=12, choices=Kind.choices, default=Kind.FAMILY)
    address = models.CharField(_("住址"), max_length=200)
    district = models.ForeignKey("accounts.District", on_delete=models.PROTECT, related_name="+")
    station = models.ForeignKey(
        "accounts.Station", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")

    def __str__(self):
        return self.number


class Person(models.Model):
    """One registry card (户籍卡片). A live person has exactly one registered card."""

    # Indexed in Meta, not with db_index: on PostgreSQL db_index adds a second, pattern-ops
    # ("_like") index that costs ~15 s of every 10M-row load; prefix searches use a range.
    id_number = models.CharField(_("公民身份号码"), max_length=18)
    name = models.CharField(_("姓名"), max_length=30)
    former_names = models.JSONField(_("曾用名"), default=list, blank=True)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    ethnicity = models.CharField(_("民族"), max_length=16, default="汉族")
    birth_date = models.DateField(_("出生日期"))
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="members", verbose_name=_("户")
    )
    relation = models.CharField(_("与户主关系"), max_length=16, blank=True)
    address = models.CharField(_("住址"), max_length=200)
    # No index on district or station: nothing selects persons by them (look-ups go by ID
    # number or name, then check jurisdiction), and each index cost ~10 s of a 10M-row load.
    # Deleting a district or station (PROTECT) scans instead, which is rare and acceptable.
    district = models.ForeignKey(
        "accounts.District", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    station = models.ForeignKey(
        "accounts.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    phone = models.CharField(_("联系电话"), max_length=11, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=PersonStatus.choices, default=PersonStatus.REGISTERED
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("户籍人员")
        verbose_name_plural = _("户籍人员")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"],
                condition=Q(status="registered"),
                name="registry_one_live_card_per_id_number",
            ),
        ]
        indexes = [
            models.Index(fields=["id_number"], name="registry_person_id_number_idx"),
            models.Index(fields=["name", "birth_date"], name="registry_name_birth_idx"),
        ]

    def __str__(self):
        # Never the name or number: str() ends up in logs and audit reprs.
        return f"Person {self.pk}"


class NameStat(models.Model):
    """Counts for one exact name among registered, living residents (never a person).

    `decades` holds the city-wide split by birth decade ([[decade, male, female], ...]) and
    `detail` the split by decade and district ([[decade, district code, male, female], ...]),
    both in key order (see servicehall.registry.names).
    Kept consistent by servicehall.registry.names when births, moves and deaths are recorded.
    """

    name = models.CharField(_("姓名"), max_length=30, primary_key=True)
    # Indexed only together with the total (below): that serves both the lookup and the
    # "most common spellings" scan, and every extra index slows rebuilds and count updates.
    pinyin = models.CharField(_("拼音（无声调）"), max_length=120)
    pinyin_tones = models.CharField(_("拼音（带声调）"), max_length=120)
    total = models.PositiveIntegerField(default=0)
    male = models.PositiveIntegerField(default=0)
    female = models.PositiveIntegerField(default=0)
    decades = models.JSONField(default=list)
    detail = models.JSONField(default=list)

    class Meta:
        verbose_name = _("重名统计")
        verbose_name_plural = _("重名统计")
        indexes = [
            models.Index(fields=["pinyin", "-total"], name="registry_namestat_py_total"),
            models.Index(fields=["pinyin_tones", "-total"], name="registry_namestat_pyt_total"),
        ]

    def __str__(self):
        return self.name


class PinyinStat(models.Model):
    """Totals per pronunciation (toneless or with tones) and its most common spellings."""

    key = models.CharField(max_length=120)
    toned = models.BooleanField()
    total = models.PositiveIntegerField(default=0)
    spellings = models.PositiveIntegerField(default=0)
    top = models.JSONField(default=list)  # [[name, count], ...] most common first

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "toned"], name="registry_pinyinstat_once")
        ]

    def __str__(self):
        return self.key


class IdentityProof(models.Model):
    """未带身份证住宿: a short-lived e-proof that a hotel guest is who they say they are."""

    class State(models.TextChoices):
        PENDING = "pending", _("待派出所确认")
        ISSUED = "issued", _("已出具")
        REFUSED = "refused", _("未通过核验")
        USED = "used", _("已核销")
        EXPIRED = "expired", _("已过期")

    hotel = models.ForeignKey("accounts.Hotel", on_delete=models.PROTECT, related_name="proofs")
    requested_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    guest_name = models.CharField(_("旅客姓名"), max_length=30)
    guest_id_number = models.CharField(_("旅客身份号码"), max_length=18)
    guest_phone = models.CharField(_("旅客手机号码"), max_length=11)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    code = models.CharField(_("核验码"), max_length=12, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("住宿身份证明")
        verbose_name_plural = _("住宿身份证明")

    def __str__(self):
        return f"Proof {self.pk}"


class ImportRun(models.Model):
    """One registry CSV import: where it got to (for resuming) and what it rejected."""

    source = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lines_done = models.PositiveBigIntegerField(default=0)
    accepted = models.PositiveBigIntegerField(default=0)
    rejected = models.PositiveBigIntegerField(default=0)
    report_path = models.CharField(max_length=500, blank=True)

    def __str__(self):
        return self.source
