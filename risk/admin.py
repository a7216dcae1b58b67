from django.contrib import admin

from risk.models import QualityClass, QualityPolicy
from risk.services import copy_policy


class QualityClassInline(admin.TabularInline):
    model = QualityClass
    extra = 0
    fields = [
        "position",
        "code",
        "name",
        "max_dpd_daily",
        "max_dpd_weekly",
        "max_dpd_monthly",
        "reserve_rate",
        "non_performing",
        "ksp_weight",
    ]


@admin.register(QualityPolicy)
class QualityPolicyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "built_in"]
    search_fields = ["code", "name"]
    inlines = [QualityClassInline]
    actions = ["copy_policies"]

    @admin.action(description="Salin kebijakan terpilih (salinan dapat diubah)")
    def copy_policies(self, request, queryset):
        for policy in queryset:
            copy_policy(policy)
        self.message_user(request, f"{queryset.count()} kebijakan disalin.")

    def get_readonly_fields(self, request, obj=None):
        # Built-in policies are DOMAIN.md's; an LKMM that needs other thresholds uses an edited copy.
        return (
            ["code", "name", "description", "built_in"] if obj is not None and obj.built_in else ["built_in"]
        )

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.built_in

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        if obj is not None and obj.built_in:
            for inline in inlines:
                inline.has_add_permission = lambda *a, **k: False
                inline.has_change_permission = lambda *a, **k: False
                inline.has_delete_permission = lambda *a, **k: False
        return inlines
