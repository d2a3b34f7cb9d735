"""Core models: the tamper-evident audit log and the working-day calendar.

Audit rows are written only by `servicehall.core.audit.record()`; see that module for the
hash chain, locking and transaction rules. Calendar rows are data an administrator
confirms; `servicehall.core.workdays` reads them through a per-process cache.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit row."""


class AuditQuerySet(models.QuerySet):
    # Bulk paths bypass Model.save()/delete(), so they are closed here too. The retention
    # purge uses `_purge_delete`, which only `servicehall.core.audit.purge` calls.
    def update(self, **kwargs):
        raise AppendOnlyError("audit entries cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit entries cannot be deleted (use the purge_audit command)")

    def bulk_create(self, *args, **kwargs):
        raise AppendOnlyError("audit entries are written one by one through audit.record()")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("audit entries cannot be updated")

    def _purge_delete(self):
        return super().delete()


class AuditEntry(models.Model):
    """One audited event, linked to its predecessor by `prev_hash`.

    `sequence` is gapless (assigned under the chain lock), so a deleted row shows up as a
    gap as well as a broken link. `prev_hash` is unique: two writers that raced past the
    lock (they cannot on PostgreSQL) would fail to insert rather than fork the chain.
    """

    sequence = models.BigIntegerField(_("序号"), primary_key=True)
    time = models.DateTimeField(_("时间"), db_index=True)
    # PROTECT, not SET_NULL: SET_NULL would UPDATE audit rows, which the chain forbids.
    # Accounts are deactivated, not deleted, while their audit entries are retained.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人账号"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    purpose = models.CharField(_("事由"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    success = models.BooleanField(_("成功"), default=True)
    details = models.JSONField(_("详情"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, unique=True)
    entry_hash = models.CharField(_("本条哈希"), max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="core_audit_object_idx"),
            models.Index(fields=["actor", "time"], name="core_audit_actor_time_idx"),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.action} {self.object_repr}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit entries cannot be updated")
        # audit.record() inserts its rows itself (core.rows), never through save().
        raise AppendOnlyError("audit entries are written only through audit.record()")

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries cannot be deleted (use the purge_audit command)")


class AuditAnchor(models.Model):
    """Where the chain starts after a retention purge.

    The purge deletes a prefix of the chain; the hash of the last deleted entry becomes the
    new genesis, so the remaining entries still verify from their first link. Anchors are
    append-only like the entries (the same trigger guards them on PostgreSQL).
    """

    through_sequence = models.BigIntegerField(_("清理至序号"), unique=True)
    anchor_hash = models.CharField(_("锚定哈希"), max_length=64)
    purged_count = models.BigIntegerField(_("清理条数"))
    purged_before = models.DateTimeField(_("清理早于"))
    created_at = models.DateTimeField(_("清理时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审计日志清理锚点")
        verbose_name_plural = _("审计日志清理锚点")
        ordering = ["-through_sequence"]

    def __str__(self):
        return f"≤#{self.through_sequence} {self.anchor_hash[:12]}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit anchors cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit anchors cannot be deleted")


# --- working-day calendar ---------------------------------------------------------------


class CalendarYear(models.Model):
    """A year's holiday arrangement. Only confirmed years are used to count working days."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    confirmed = models.BooleanField(_("已确认"), default=False)
    source = models.CharField(
        _("依据"), max_length=200, blank=True, help_text=_("例如：国办发明电〔2025〕7号")
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    # Bumped whenever the year or one of its days changes: other processes notice the
    # change through it (see workdays._revalidate).
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("节假日年度安排")
        verbose_name_plural = _("节假日年度安排")
        ordering = ["-year"]
        permissions = [("confirm_calendaryear", _("可以确认年度节假日安排"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(year__gte=2000, year__lte=2100), name="core_calendaryear_range"
            ),
        ]

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    """A day that differs from the ordinary Monday–Friday rule."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    calendar_year = models.ForeignKey(
        CalendarYear, verbose_name=_("年度"), on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("节日"), max_length=50, help_text=_("例如：春节"))

    class Meta:
        verbose_name = _("节假日/调休日")
        verbose_name_plural = _("节假日/调休日")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["holiday", "workday"]), name="core_calendarday_kind"
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.name} {self.get_kind_display()}"

    def clean(self):
        super().clean()
        if self.date and self.calendar_year_id and self.date.year != self.calendar_year.year:
            raise ValidationError({"date": _("日期不在该年度内。")})
        # A swapped working day only makes sense on a weekend; on a weekday it is a no-op
        # and most likely a typo in the date.
        if self.date and self.kind == self.Kind.WORKDAY and self.date.weekday() < 5:
            raise ValidationError({"date": _("调休上班日应为周六或周日。")})


def _calendar_changed(sender, instance, **kwargs):
    from . import workdays

    if isinstance(instance, CalendarDay):
        # Touch the year so other processes see the change on their next revalidation.
        CalendarYear.objects.filter(pk=instance.calendar_year_id).update(
            updated_at=models.functions.Now()
        )
    workdays.invalidate_cache()


for _model in (CalendarYear, CalendarDay):
    post_save.connect(_calendar_changed, sender=_model, dispatch_uid=f"calendar-save-{_model}")
    post_delete.connect(_calendar_changed, sender=_model, dispatch_uid=f"calendar-del-{_model}")


@receiver(post_migrate, dispatch_uid="calendar-post-migrate")
def _calendar_flushed(sender, **kwargs):
    # `flush` (TransactionTestCase teardown) empties tables without row signals but emits
    # post_migrate; a cached calendar must not outlive its rows.
    from . import workdays

    workdays.invalidate_cache(committed=True)


from . import checks  # noqa: E402,F401 - registers the system checks
