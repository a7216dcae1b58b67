from django.contrib import admin

from members.models import Member


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "full_name",
        "nik",
        "gender",
        "lkmm",
        "desa",
        "phone",
        "status",
        "joined_on",
    ]
    list_filter = ["status", "gender", "lkmm"]
    search_fields = ["full_name", "nik", "phone", "desa"]
    list_select_related = ["lkmm"]
    readonly_fields = ["number", "created_at", "created_by"]
    date_hierarchy = "joined_on"

    def has_delete_permission(self, request, obj=None):
        # Members with history stay; a member who leaves gets status "keluar".
        return False
