from django import forms
from django.contrib import admin

from audit.admin import AuditedAdminMixin
from institutions.admin import ReadOnlyAdmin
from institutions.forms import ModelForm
from members.forms.members import nik_digits
from members.models import (
    BusinessType,
    Group,
    GroupMembership,
    IncomeRecord,
    Member,
    MembershipApplication,
    MemberStatusChange,
)
from members.nik import check_nik
from members.phone import normalise_phone


class StatusChangeInline(admin.TabularInline):
    model = MemberStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "at", "by", "reason"]

    def has_add_permission(self, request, obj=None):
        return False


class ApplicationInline(admin.StackedInline):
    model = MembershipApplication
    fk_name = "member"
    extra = 0
    can_delete = False
    readonly_fields = [
        "referee_member",
        "referee_board",
        "business_plan",
        "requested_amount",
        "submitted_at",
        "submitted_by",
        "decision",
        "decided_at",
        "decided_by",
        "decision_reason",
    ]

    def has_add_permission(self, request, obj=None):
        return False


class IncomeInline(admin.TabularInline):
    model = IncomeRecord
    extra = 0
    can_delete = False
    readonly_fields = ["recorded_on", "turnover", "net_income", "note", "created_by"]

    def has_add_permission(self, request, obj=None):
        return False


class MemberAdminForm(ModelForm):
    """The member page's checks on what admin edits: the NIK against the birth date and gender, and the
    phone number written as the app writes it (the model and its constraints check the rest)."""

    class Meta:
        model = Member
        # Admin shows every editable field (it derives its list from this form); admin's readonly_fields
        # take theirs out.
        fields = "__all__"  # noqa: DJ007

    def clean_nik(self):
        return nik_digits(self.cleaned_data["nik"])

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        cleaned = super().clean()
        if "nik" in cleaned:
            for field, message in check_nik(
                cleaned["nik"], birth_date=cleaned.get("birth_date"), gender=cleaned.get("gender")
            ).items():
                self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(Member)
class MemberAdmin(AuditedAdminMixin, admin.ModelAdmin):
    # A member stays in the LKMM that admitted them: moving one would leave their loans behind.
    lkmm_bound_fields = ("lkmm",)
    form = MemberAdminForm

    list_display = ["code", "full_name", "nik", "gender", "lkmm", "desa", "phone", "status", "joined_on"]
    list_filter = ["status", "gender", "dtsen_listed", "business_type", "lkmm"]
    search_fields = ["full_name", "nik", "kk_number", "phone", "desa"]
    list_select_related = ["lkmm"]
    # Status changes go through members.services.member_transition (the member page), which records them.
    readonly_fields = ["number", "status", "created_at", "created_by"]
    date_hierarchy = "joined_on"
    inlines = [ApplicationInline, StatusChangeInline, IncomeInline]

    @admin.display(description="Kode", ordering="number")
    def code(self, obj):
        return obj.code

    def has_delete_permission(self, request, obj=None):
        # Members with history stay; a member who leaves gets status "keluar".
        return False


@admin.register(BusinessType)
class BusinessTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["name"]


class GroupMembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 0
    can_delete = False
    readonly_fields = ["member", "joined_on", "left_on"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Group)
class GroupAdmin(AuditedAdminMixin, admin.ModelAdmin):
    lkmm_bound_fields = ("lkmm",)

    list_display = ["name", "lkmm", "leader", "meeting_day", "meeting_place", "joint_liability", "is_active"]
    list_filter = ["lkmm", "meeting_day", "joint_liability", "is_active"]
    search_fields = ["name", "meeting_place", "leader__full_name"]
    list_select_related = ["lkmm", "leader"]
    raw_id_fields = ["leader"]
    inlines = [GroupMembershipInline]


@admin.register(MembershipApplication)
class MembershipApplicationAdmin(ReadOnlyAdmin):
    list_display = ["member", "submitted_at", "requested_amount", "decision", "decided_by"]
    list_filter = ["decision", "member__lkmm"]
    search_fields = ["member__full_name", "member__nik"]
    list_select_related = ["member", "decided_by"]
