from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import audit
from .models import AuditAnchor, AuditEntry, CalendarDay, CalendarYear


class ReadOnlyAdmin(admin.ModelAdmin):
    """Auditors look; nobody adds, edits or deletes (the model would refuse anyway)."""

    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "sequence",
        "time",
        "actor_label",
        "action",
        "object_type",
        "object_repr",
        "purpose",
        "ip",
        "success",
    ]
    list_filter = ["success", "action", "time"]
    search_fields = ["=actor_label", "=object_id", "=action", "object_repr"]
    date_hierarchy = "time"
    # The table grows without bound: an exact COUNT(*) per page view would be the slow part.
    show_full_result_count = False
    list_select_related = False
    fieldsets = [
        (None, {"fields": ["sequence", "time", "actor", "actor_label", "action", "success"]}),
        (_("对象"), {"fields": ["object_type", "object_id", "object_repr", "purpose", "ip"]}),
        (_("详情"), {"fields": ["details"]}),
        (_("哈希链"), {"fields": ["prev_hash", "entry_hash"]}),
    ]
    readonly_fields = [f for group in fieldsets for f in group[1]["fields"]]


@admin.register(AuditAnchor)
class AuditAnchorAdmin(ReadOnlyAdmin):
    list_display = [
        "through_sequence",
        "purged_count",
        "purged_before",
        "created_at",
        "anchor_hash",
    ]
    readonly_fields = list_display


# --- working-day calendar -----------------------------------------------------------------


class CalendarDayFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        # The parent may be new (no pk yet), so the year check lives here rather than only
        # in CalendarDay.clean.
        year = self.instance.year
        for form in self.forms:
            day = form.cleaned_data.get("date") if hasattr(form, "cleaned_data") else None
            if day and year and day.year != year and not form.cleaned_data.get("DELETE"):
                form.add_error("date", ValidationError(_("日期不在该年度内。")))


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    formset = CalendarDayFormSet
    fields = ["date", "kind", "name"]
    extra = 3
    ordering = ["date"]


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    """An administrator transcribes a year's notice and confirms it.

    Only confirmed years count: until then every deadline in that year refuses to compute.
    Confirming needs its own permission (core.confirm_calendaryear), so whoever types the
    days in need not be the one who vouches for them. Every change is audited.
    """

    inlines = [CalendarDayInline]
    list_display = ["year", "confirmed", "source", "day_count", "confirmed_by", "confirmed_at"]
    list_filter = ["confirmed"]
    fields = ["year", "source", "confirmed", "confirmed_by", "confirmed_at"]
    readonly_fields = ["confirmed_by", "confirmed_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_day_count=Count("days"))

    @admin.display(description=_("天数"), ordering="_day_count")
    def day_count(self, obj):
        return obj._day_count

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("core.confirm_calendaryear"):
            readonly.append("confirmed")
        if obj is not None:
            readonly.append("year")
        return readonly

    def save_model(self, request, obj, form, change):
        if "confirmed" in form.changed_data:
            obj.confirmed_by = request.user if obj.confirmed else None
            obj.confirmed_at = timezone.now() if obj.confirmed else None
        super().save_model(request, obj, form, change)
        if "confirmed" in form.changed_data:
            action = "calendar.confirm" if obj.confirmed else "calendar.unconfirm"
        else:
            action = "calendar.change" if change else "calendar.add"
        audit.record_for_request(
            request,
            action=action,
            target=obj,
            purpose=obj.source,
            details={"changed": sorted(form.changed_data)},
        )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        changes = {
            "added": [str(o.date) for o in formset.new_objects],
            "changed": [str(o.date) for o, _fields in formset.changed_objects],
            "deleted": [str(o.date) for o in formset.deleted_objects],
        }
        if any(changes.values()):
            audit.record_for_request(
                request,
                action="calendar.days_change",
                target=form.instance,
                purpose=form.instance.source,
                details=changes,
            )
