"""Accounts: who uses the hall (citizens, enterprise agents, hotels, staff) and the police
organisation they belong to (departments, districts, stations).

A user's real name lives on `User.name` for every kind; citizens' identity numbers live on
`CitizenProfile`, staff details on `StaffProfile`. Usernames are internal login keys: people
sign in with a mobile number / ID number (citizens, agents) or a police number (staff), which
`servicehall.accounts.signin.resolve_username` maps to the username.
"""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from servicehall.core.idnumbers import validate_cn_mobile, validate_credit_code, validate_id_number
from servicehall.core.localized import LocalizedName

police_number_validator = RegexValidator(r"^\d{6,8}$", _("警号应为6至8位数字。"))


# --- organisation ---------------------------------------------------------------------------


class Department(LocalizedName, models.Model):
    """A police department (警种/部门): staff belong to one, catalogue items are run by one.

    The list is catalog/items/departments.yaml; `prefix` starts the codes of its items.
    """

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    prefix = models.CharField(_("事项编码前缀"), max_length=4, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=128, blank=True)
    approval_powers = models.BooleanField(_("具有行政审批职权"), default=False)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["position"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self):
        return self.name


class District(models.Model):
    """A district or county of the city (区、县、县级市), keyed by its 6-digit admin code."""

    code = models.CharField(
        _("行政区划代码"), max_length=6, unique=True, validators=[RegexValidator(r"^\d{6}$")]
    )
    name = models.CharField(_("名称"), max_length=32, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("区县")
        verbose_name_plural = _("区县")

    def __str__(self):
        return self.name


class Station(models.Model):
    """A police station (派出所), in one district."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="stations", verbose_name=_("区县")
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)

    class Meta:
        ordering = ["district__code", "code"]
        verbose_name = _("派出所")
        verbose_name_plural = _("派出所")

    def __str__(self):
        return self.name


# --- users ----------------------------------------------------------------------------------


class Role(models.TextChoices):
    """Staff roles; a staff member may hold several. Permissions are rules in rules.py."""

    WINDOW_CLERK = "window_clerk", _("窗口受理员")
    REVIEWER = "reviewer", _("审核员")
    APPROVER = "approver", _("审批人")
    SUPERVISOR = "supervisor", _("监督员")
    DISPATCHER = "dispatcher", _("接警调度员")
    AUDITOR = "auditor", _("审计员")
    ADMINISTRATOR = "administrator", _("系统管理员")


class AccountManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # A superuser is staff: staff pages then ask for the second factor as for anyone.
        extra_fields.setdefault("kind", User.Kind.STAFF)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    class Kind(models.TextChoices):
        CITIZEN = "citizen", _("个人")
        ENTERPRISE_AGENT = "enterprise_agent", _("企业经办人")
        HOTEL = "hotel", _("旅馆")
        STAFF = "staff", _("民警")

    kind = models.CharField(_("用户类型"), max_length=20, choices=Kind, default=Kind.CITIZEN)
    name = models.CharField(_("姓名"), max_length=64, blank=True)
    # Chinese names are not split into first and last names.
    first_name = None
    last_name = None

    REQUIRED_FIELDS = ["email"]
    objects = AccountManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        indexes = [models.Index(fields=["kind"])]

    def __str__(self):
        return self.name or self.username

    def get_full_name(self):
        return self.name

    def get_short_name(self):
        return self.name

    @property
    def is_citizen(self) -> bool:
        return self.kind == self.Kind.CITIZEN

    @property
    def is_enterprise_agent(self) -> bool:
        return self.kind == self.Kind.ENTERPRISE_AGENT

    @property
    def is_hotel(self) -> bool:
        return self.kind == self.Kind.HOTEL

    @property
    def is_staff_member(self) -> bool:
        """A police staff member (uses the staff workbench). Not Django's `is_staff`, which
        only means django-admin access."""
        return self.is_active and self.kind == self.Kind.STAFF

    @cached_property
    def roles(self) -> frozenset[str]:
        """Role codes held (empty for non-staff). Cached for the life of this object."""
        if not self.is_staff_member or self.pk is None:
            return frozenset()
        return frozenset(RoleAssignment.objects.filter(user=self).values_list("role", flat=True))

    def has_role(self, *roles: str) -> bool:
        """True if this staff member holds at least one of `roles`."""
        # str(): TextChoices members hash by name, not by value.
        return not self.roles.isdisjoint(str(role) for role in roles)

    @cached_property
    def staff_profile_or_none(self) -> StaffProfile | None:
        try:
            return self.staff_profile
        except StaffProfile.DoesNotExist:
            return None

    @cached_property
    def citizen_profile_or_none(self) -> CitizenProfile | None:
        try:
            return self.citizen_profile
        except CitizenProfile.DoesNotExist:
            return None


class CitizenProfile(models.Model):
    """Real-name identity of a natural person (citizens and enterprise agents)."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="citizen_profile", verbose_name=_("用户")
    )
    id_number = models.CharField(
        _("身份证号码"), max_length=18, unique=True, validators=[validate_id_number]
    )
    mobile = models.CharField(
        _("手机号码"), max_length=11, unique=True, validators=[validate_cn_mobile]
    )
    # Set when the identity is checked against the registry or at a window; self-registration
    # leaves it empty.
    verified_at = models.DateTimeField(_("实名核验时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("实名信息")
        verbose_name_plural = _("实名信息")

    def __str__(self):
        return self.user.name

    @property
    def name(self) -> str:
        return self.user.name


class StaffProfile(models.Model):
    """A police officer or civilian staff member. The unit decides the jurisdiction: a station
    sees its station, a district branch its district, bureau level the whole city."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="staff_profile", verbose_name=_("用户")
    )
    police_number = models.CharField(
        _("警号"), max_length=8, unique=True, validators=[police_number_validator]
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("部门")
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("区县")
    )
    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("派出所")
    )
    title = models.CharField(_("职务"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("民警信息")
        verbose_name_plural = _("民警信息")

    def __str__(self):
        return f"{self.user.name} ({self.police_number})"

    @property
    def unit_name(self) -> str:
        return str(self.station or self.district or _("市局"))


class RoleAssignment(models.Model):
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("用户")
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role)
    granted_at = models.DateTimeField(_("授予时间"), auto_now_add=True)
    granted_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("授予人"),
    )

    class Meta:
        verbose_name = _("角色授予")
        verbose_name_plural = _("角色授予")
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="accounts_role_once_per_user")
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}"


# --- enterprises and hotels -----------------------------------------------------------------


class Enterprise(models.Model):
    name = models.CharField(_("单位名称"), max_length=128)
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("区县")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    agents = models.ManyToManyField(
        User, through="EnterpriseMembership", related_name="enterprises", verbose_name=_("经办人")
    )

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")

    def __str__(self):
        return self.name


class EnterpriseMembership(models.Model):
    """An agent (经办人) authorised to act for an enterprise; `is_active=False` withdraws it."""

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("企业")
    )
    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="enterprise_memberships",
        verbose_name=_("经办人"),
    )
    is_legal_representative = models.BooleanField(_("法定代表人"), default=False)
    is_active = models.BooleanField(_("有效"), default=True)
    authorised_at = models.DateTimeField(_("授权时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("企业经办授权")
        verbose_name_plural = _("企业经办授权")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "user"], name="accounts_membership_once")
        ]

    def __str__(self):
        return f"{self.user} → {self.enterprise}"


class Hotel(models.Model):
    """A hotel (旅馆) under the special-trades licence; reports guests to its station."""

    name = models.CharField(_("旅馆名称"), max_length=128)
    licence_no = models.CharField(_("特种行业许可证号"), max_length=64, unique=True)
    address = models.CharField(_("地址"), max_length=200)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="hotels", verbose_name=_("区县")
    )
    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, related_name="hotels", verbose_name=_("辖区派出所")
    )
    users = models.ManyToManyField(
        User, through="HotelAccount", related_name="hotels", verbose_name=_("账号")
    )

    class Meta:
        verbose_name = _("旅馆")
        verbose_name_plural = _("旅馆")

    def __str__(self):
        return self.name


class HotelAccount(models.Model):
    """A front-desk login of a hotel (one hotel may have several; a login serves one hotel)."""

    hotel = models.ForeignKey(
        Hotel, on_delete=models.CASCADE, related_name="accounts", verbose_name=_("旅馆")
    )
    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="hotel_account", verbose_name=_("账号")
    )

    class Meta:
        verbose_name = _("旅馆账号")
        verbose_name_plural = _("旅馆账号")

    def __str__(self):
        return f"{self.user} @ {self.hotel}"
