from django.contrib import admin

from coaching.models import CoachingRecord, FollowUp
from institutions.admin import ReadOnlyAdmin


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    extra = 0
    can_delete = False
    fields = ["lkmm", "action", "owner", "due_on", "done_on", "done_by", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CoachingRecord)
class CoachingRecordAdmin(ReadOnlyAdmin):
    """Recorded by Dinas reviewers on their pages (coaching.services, audited); admins look only."""

    list_display = ["held_on", "kind", "topic", "recorded_by"]
    list_filter = ["kind"]
    search_fields = ["topic", "findings"]
    inlines = [FollowUpInline]


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["due_on", "lkmm", "action", "owner", "done_on"]
    list_filter = ["done_on"]
