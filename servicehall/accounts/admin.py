from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from servicehall.core import audit
from servicehall.core.masking import mask_id_number, mask_phone

from .models import (
    CitizenProfile,
    Department,
    District,
    Enterprise,
    EnterpriseMembership,
    Hotel,
    HotelAccount,
    RoleAssignment,
    StaffProfile,
    Station,
    User,
)


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    readonly_fields = ("granted_at", "granted_by")


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "name", "kind", "is_active", "last_login")
    list_filter = ("kind", "is_active", "is_superuser")
    search_fields = ("username", "name", "staff_profile__police_number")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("身份"), {"fields": ("kind", "name", "email")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "kind", "name", "password1", "password2"),
            },
        ),
    )
    inlines = [StaffProfileInline, RoleInline]


@admin.register(CitizenProfile)
class CitizenProfileAdmin(admin.ModelAdmin):
    # The full ID number is personal data: listed masked, searchable by exact value only.
    list_display = ("user", "masked_id_number", "masked_mobile", "verified_at")
    search_fields = ("=id_number", "=mobile")
    raw_id_fields = ("user",)

    @admin.display(description=_("身份证号码"))
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number)

    @admin.display(description=_("手机号码"))
    def masked_mobile(self, obj):
        return mask_phone(obj.mobile)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The change form shows the full ID number and mobile: audit that read. The purpose is
        # stored untranslated so the log reads the same whatever language the viewer used.
        profile = self.get_object(request, unquote(object_id))
        if profile is not None and self.has_view_or_change_permission(request, profile):
            audit.record_read(
                request, profile, purpose="后台账户管理", fields=["id_number", "mobile"]
            )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "approval_powers")


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "district")
    list_filter = ("district",)


class MembershipInline(admin.TabularInline):
    model = EnterpriseMembership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "district")
    search_fields = ("name", "=credit_code")
    inlines = [MembershipInline]


class HotelAccountInline(admin.TabularInline):
    model = HotelAccount
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Hotel)
class HotelAdmin(admin.ModelAdmin):
    list_display = ("name", "licence_no", "district", "station")
    list_filter = ("district",)
    search_fields = ("name", "licence_no")
    inlines = [HotelAccountInline]
