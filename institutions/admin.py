from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from institutions.models import AuditLog, Lkmm, Staff
from ledger.services import chart_ensure


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is corrected by reversal, never by editing: admins may look, not touch."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Lkmm)
class LkmmAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "desa",
        "kecamatan",
        "kabupaten",
        "founded_on",
        "quality_policy",
        "is_active",
    ]
    list_filter = ["is_active", "kecamatan", "quality_policy"]
    search_fields = ["code", "name", "desa", "kecamatan"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        chart_ensure(lkmm=obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "lkmm", "phone"]
    list_filter = ["role", "lkmm"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "lkmm__name"]
    autocomplete_fields = ["user", "lkmm"]


class StaffInline(admin.StackedInline):
    model = Staff
    can_delete = False
    fk_name = "user"


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class LkmmUserAdmin(UserAdmin):
    inlines = [StaffInline]
    list_display = [
        "username",
        "first_name",
        "last_name",
        "staff__role",
        "staff__lkmm",
        "is_active",
        "is_superuser",
    ]
    list_filter = ["staff__role", "staff__lkmm", "is_active", "is_superuser"]
    list_select_related = ["staff__lkmm"]


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "lkmm", "action", "object_type", "object_id", "reason"]
    list_filter = ["action", "lkmm"]
    search_fields = ["action", "reason", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "lkmm"]
