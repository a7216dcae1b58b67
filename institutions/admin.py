from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.admin import AuditedAdminMixin
from institutions.models import (
    AuditLog,
    BoardMember,
    CommunityMeeting,
    DecisionRequest,
    Dinas,
    Lkmm,
    LoginSession,
    Staff,
)
from institutions.security import end_sessions
from ledger.services import chart_ensure


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is corrected by reversal, never by editing: admins may look, not touch."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Dinas)
class DinasAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kabupaten",
        "provinsi",
        "npl_threshold_pct",
        "par30_threshold_pct",
        "coverage_threshold_pct",
        "cash_limit",
    ]
    search_fields = ["code", "name", "kabupaten"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Lkmm)
class LkmmAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "dinas",
        "desa",
        "kecamatan",
        "kabupaten",
        "founded_on",
        "quality_policy",
        "is_active",
    ]
    list_filter = ["dinas", "is_active", "kecamatan", "quality_policy"]
    search_fields = ["code", "name", "desa", "kecamatan"]
    list_select_related = ["dinas", "quality_policy"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        chart_ensure(lkmm=obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Staff)
class StaffAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "role", "lkmm", "dinas", "phone"]
    list_filter = ["role", "dinas", "lkmm"]
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
    actions = ["reset_second_factor"]

    @admin.action(description=_("Hapus perangkat verifikasi dua langkah (ponsel hilang)"))
    def reset_second_factor(self, request, queryset):
        """A lost phone: the user's authenticator and recovery codes go, and so do the user's sessions;
        at the next login the user sets up a new phone (the Dinas and admins must)."""
        users = list(queryset)
        TOTPDevice.objects.filter(user__in=users).delete()
        StaticDevice.objects.filter(user__in=users).delete()
        for user in users:
            end_sessions(user)
        self.message_user(
            request,
            ngettext(
                "Perangkat dua langkah %(n)d pengguna dihapus; ia memasang ponsel baru saat masuk lagi.",
                "Perangkat dua langkah %(n)d pengguna dihapus; mereka memasang ponsel baru saat masuk lagi.",
                len(users),
            )
            % {"n": len(users)},
            messages.SUCCESS,
        )


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "lkmm", "action", "object_type", "object_id", "reason"]
    list_filter = ["action", "lkmm"]
    search_fields = ["action", "reason", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "lkmm"]


@admin.register(DecisionRequest)
class DecisionRequestAdmin(ReadOnlyAdmin):
    """Four-eyes requests are decided in the app (keputusan), never edited here."""

    list_display = ["requested_at", "lkmm", "kind", "summary", "status", "requested_by", "decided_by"]
    list_filter = ["status", "kind", "lkmm"]
    list_select_related = ["lkmm", "requested_by", "decided_by"]


# The board (pengurus) and the musyawarah that chose it.
# (This import belongs at the top of the module; it sits here only while another change edits the top.)


class BoardMemberInline(admin.TabularInline):
    model = BoardMember
    fields = ["name", "role", "member", "user", "decides", "term_start", "term_end"]
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


class LkmmAdminSite(OTPAdminSite):
    """Django admin only for a login verified with its second factor (django-otp's OTPAdminSite). Its
    login is the app's own, so a password goes through the same lockout and the same code page."""

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            # Logged in and verified, but not an admin: no loop back through the login page.
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", reverse("admin:index")))


admin.site.__class__ = LkmmAdminSite


@admin.register(LoginSession)
class LoginSessionAdmin(ReadOnlyAdmin):
    """Who is logged in where: rows go when the session ends (logout, deactivation, role change)."""

    list_display = ["user", "created_at"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
