from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import AuditAnchor, AuditEntry


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
