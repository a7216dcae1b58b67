from django.contrib import admin

from audit.admin import AuditedAdminMixin
from institutions.admin import ReadOnlyAdmin
from loans.models import Allocation, Installment, Loan, LoanProduct, LoanStatusChange, Repayment, Waiver


@admin.register(LoanProduct)
class LoanProductAdmin(AuditedAdminMixin, admin.ModelAdmin):
    # Loans copy their product's terms, but a product belongs to its LKMM for good.
    lkmm_bound_fields = ("lkmm",)

    list_display = [
        "name",
        "lkmm",
        "interest_method",
        "frequency",
        "rate_per_month",
        "installment_count",
        "rounding_unit",
        "is_active",
    ]
    list_filter = ["lkmm", "interest_method", "frequency", "is_active"]
    search_fields = ["name", "lkmm__name"]

    def has_delete_permission(self, request, obj=None):
        return False


class InstallmentInline(admin.TabularInline):
    model = Installment
    extra = 0
    can_delete = False
    readonly_fields = ["seq", "due_date", "principal", "interest"]

    def has_add_permission(self, request, obj=None):
        return False


class StatusChangeInline(admin.TabularInline):
    model = LoanStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "on", "at", "by", "reason"]

    def has_add_permission(self, request, obj=None):
        return False


class WaiverInline(admin.TabularInline):
    model = Waiver
    extra = 0
    can_delete = False
    readonly_fields = ["installment", "on", "interest", "late_fee", "reason", "approved_by"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Loan)
class LoanAdmin(AuditedAdminMixin, ReadOnlyAdmin):
    """Loans change only through the services (the pages), which keep the books; admin reads."""

    # Read-only as a whole today; should editing ever open, these stay fixed.
    lkmm_bound_fields = ("lkmm", "member", "product", "restructured_from")

    list_display = ["code", "member", "lkmm", "principal", "status", "applied_on", "disbursed_on"]
    list_filter = ["status", "lkmm", "frequency", "interest_method"]
    search_fields = ["member__full_name", "member__nik", "number"]
    date_hierarchy = "applied_on"
    list_select_related = ["member", "lkmm"]
    inlines = [InstallmentInline, StatusChangeInline, WaiverInline]


class AllocationInline(admin.TabularInline):
    model = Allocation
    extra = 0
    can_delete = False
    readonly_fields = ["installment", "late_fee", "interest", "principal", "valid_from", "valid_to"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Repayment)
class RepaymentAdmin(AuditedAdminMixin, ReadOnlyAdmin):
    lkmm_bound_fields = ("lkmm", "loan", "paid_by")
    list_display = [
        "receipt_code",
        "lkmm",
        "loan",
        "amount",
        "paid_on",
        "recorded_by",
        "reversed_on",
    ]
    list_filter = ["lkmm", "paid_on"]
    search_fields = ["loan__member__full_name", "receipt_no"]
    date_hierarchy = "paid_on"
    list_select_related = ["lkmm", "loan__member", "recorded_by"]
    inlines = [AllocationInline]
