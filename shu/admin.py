from django.contrib import admin

from institutions.admin import ReadOnlyAdmin
from shu.models import FundSpending, ShuRule, ShuShare, ShuYear


@admin.register(ShuRule)
class ShuRuleAdmin(ReadOnlyAdmin):
    list_display = [
        "lkmm",
        "version",
        "from_year",
        "reserve",
        "jasa_simpanan",
        "jasa_pinjaman",
        "dana_sosial",
    ]
    list_filter = ["lkmm"]
    search_fields = ["lkmm__name", "note"]


class ShuShareInline(admin.TabularInline):
    model = ShuShare
    extra = 0
    can_delete = False
    fields = [
        "member",
        "average_savings",
        "interest_paid",
        "jasa_simpanan",
        "jasa_pinjaman",
        "total",
        "settlement",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ShuYear)
class ShuYearAdmin(ReadOnlyAdmin):
    list_display = ["lkmm", "year", "result", "decided_on", "decision", "minutes_no"]
    list_filter = ["lkmm", "year"]
    search_fields = ["lkmm__name", "minutes_no"]
    inlines = [ShuShareInline]


@admin.register(FundSpending)
class FundSpendingAdmin(ReadOnlyAdmin):
    list_display = ["lkmm", "fund", "on", "purpose", "amount", "reversed_on"]
    list_filter = ["lkmm", "fund", "purpose"]
    search_fields = ["description"]
