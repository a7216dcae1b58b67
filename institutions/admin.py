from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from audit.admin import AuditedAdminMixin
from institutions.models import AuditLog, BoardMember, CommunityMeeting, Lkmm, Staff
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
class LkmmAdmin(AuditedAdminMixin, admin.ModelAdmin):
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
class StaffAdmin(AuditedAdminMixin, admin.ModelAdmin):
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
class LkmmUserAdmin(AuditedAdminMixin, UserAdmin):
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


# The board (pengurus) and the musyawarah that chose it.
# (This import belongs at the top of the module; it sits here only while another change edits the top.)


class BoardMemberInline(admin.TabularInline):
    model = BoardMember
    fields = ["name", "role", "member", "user", "term_start", "term_end"]
    autocomplete_fields = ["member", "user"]
    extra = 0


@admin.register(CommunityMeeting)
class CommunityMeetingAdmin(admin.ModelAdmin):
    list_display = ["held_on", "lkmm", "place", "attendees", "method"]
    list_filter = ["method", "lkmm"]
    search_fields = ["place", "notes", "lkmm__name"]
    date_hierarchy = "held_on"
    list_select_related = ["lkmm"]
    readonly_fields = ["created_at", "created_by"]
    inlines = [BoardMemberInline]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        # A seat belongs to the LKMM of the meeting that chose it.
        for seat in formset.save(commit=False):
            seat.lkmm = form.instance.lkmm
            seat.save()
        for seat in formset.deleted_objects:
            seat.delete()


@admin.register(BoardMember)
class BoardMemberAdmin(AuditedAdminMixin, admin.ModelAdmin):
    lkmm_bound_fields = ("lkmm", "meeting")

    list_display = ["name", "role", "lkmm", "term_start", "term_end", "meeting"]
    list_filter = ["role", "lkmm"]
    search_fields = ["name", "member__full_name", "user__username", "lkmm__name"]
    list_select_related = ["lkmm", "meeting__lkmm"]
    autocomplete_fields = ["lkmm", "meeting", "member", "user"]
