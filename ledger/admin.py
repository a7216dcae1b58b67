from django.contrib import admin

from institutions.admin import ReadOnlyAdmin
from ledger.models import Account, JournalEntry, JournalLine


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
