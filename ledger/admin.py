from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from institutions.admin import ReadOnlyAdmin
from ledger.models import (
    Account,
    CapitalSource,
    CashDay,
    JournalEntry,
    JournalLine,
    MonthFigures,
    PeriodClose,
)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["lkmm", "code", "name", "kind"]
    list_filter = ["kind", "lkmm"]
    search_fields = ["code", "name", "lkmm__name"]

    def has_delete_permission(self, request, obj=None):
        return False


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    extra = 0
    can_delete = False
    readonly_fields = ["account", "debit", "credit"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["number", "lkmm", "date", "memo", "source_type", "source_id", "created_by"]
    list_filter = ["lkmm", "source_type"]
    search_fields = ["memo"]
    date_hierarchy = "date"
    inlines = [JournalLineInline]
    list_select_related = ["lkmm", "created_by"]


@admin.register(PeriodClose)
class PeriodCloseAdmin(ReadOnlyAdmin):
    """Closing happens on the tutup buku page (the ketua); reopening on its own page, with a reason."""

    list_display = ["lkmm", "month", "closed_at", "closed_by", "reopened_at", "reopen_reason", "reopen_link"]
    list_filter = ["lkmm", "month"]
    list_select_related = ["lkmm", "closed_by"]

    @admin.display(description="Buka kembali")
    def reopen_link(self, obj):
        if obj.reopened_at:
            return "–"
        return format_html('<a href="{}">Buka kembali…</a>', reverse("risk:reopen", args=[obj.pk]))


@admin.register(MonthFigures)
class MonthFiguresAdmin(ReadOnlyAdmin):
    """Computed by store_month_figures (or on first read); never edited by hand."""

    list_display = ["lkmm", "month", "outstanding", "npl", "held", "flows_kept", "computed_at"]
    list_filter = ["month"]
    list_select_related = ["lkmm"]


@admin.register(CashDay)
class CashDayAdmin(ReadOnlyAdmin):
    """Kept by entry_post (kas's net movement on each day it moved); never edited by hand."""

    list_display = ["lkmm", "date", "net"]
    list_filter = ["lkmm"]
    list_select_related = ["lkmm"]
    date_hierarchy = "date"


@admin.register(CapitalSource)
class CapitalSourceAdmin(ReadOnlyAdmin):
    """Recorded by the ketua on the capital page, with its journal entry; never edited by hand."""

    list_display = ["lkmm", "received_on", "kind", "source_name", "amount", "owed_back", "entry"]
    list_filter = ["kind", "lkmm"]
    search_fields = ["source_name", "lkmm__name"]
    list_select_related = ["lkmm", "entry"]
