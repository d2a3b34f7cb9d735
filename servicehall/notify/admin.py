from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from servicehall.core import audit

from .delivery import requeue
from .models import Message, Status


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """The outbox for staff: read-only, recipients masked everywhere (search takes an exact
    number or address), opening a message (its text) is an audited read, and failed
    messages can be sent again."""

    list_display = (
        "id",
        "channel",
        "masked_recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "gateway",
        "created_at",
        "sent_at",
        "delivered_at",
    )
    list_filter = ("status", "channel", "gateway")
    search_fields = ("=recipient", "=dedupe_key", "=provider_message_id", "=about_id")
    # Counting a large outbox on every page view is slow and tells staff nothing.
    show_full_result_count = False
    fields = (
        "channel",
        "masked_recipient",
        "subject",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "gateway",
        "provider_message_id",
        "dedupe_key",
        "about_type",
        "about_id",
        "created_at",
        "sent_at",
        "delivered_at",
    )
    readonly_fields = fields
    actions = ["requeue_failed"]

    @admin.display(description=_("接收人"))
    def masked_recipient(self, obj):
        return obj.masked_recipient

    def has_add_permission(self, request):
        # Messages come from enqueue() in the change they announce, never typed in.
        return False

    def has_delete_permission(self, request, obj=None):
        # Retention is purge_outbox's job; deleting by hand would lose the record of a notice.
        return False

    def has_change_permission(self, request, obj=None):
        # The list (and its action) needs "change"; a single message is only ever viewed.
        return obj is None and super().has_change_permission(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The page shows the text, which may carry personal data: audit the read. The
        # purpose is stored untranslated so the log reads the same in every language.
        message = self.get_object(request, unquote(object_id))
        if message is not None and self.has_view_permission(request, message):
            audit.record_read(
                request,
                message,
                purpose="后台消息查看",
                fields=["subject", "body"],
            )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("重新发送所选失败消息"), permissions=["change"])
    def requeue_failed(self, request, queryset):
        count = requeue(queryset.filter(status=Status.FAILED), actor=request.user)
        self.message_user(
            request,
            ngettext("已将 %(count)d 条消息重新排队。", "已将 %(count)d 条消息重新排队。", count)
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
