"""Django admin writes the same audit rows as the app (one mixin for every audited admin)."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from institutions.models import Lkmm
from institutions.services import audit_record

REASON = "Django admin"


def _plain(value):
    if isinstance(value, models.Model):
        value = value.pk
    elif isinstance(value, models.QuerySet | list | tuple | set):
        value = [_plain(v) for v in value]
    elif hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        value = value.name or ""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def form_changes(form):
    """{field: [before, after]} of a model form's changed fields (a password hash is never kept)."""
    return {
        name: [_plain(form.initial.get(name)), _plain(form.cleaned_data.get(name))]
        if "password" not in name
        else ["***", "***"]
        for name in form.changed_data
    }


def lkmm_of(obj):
    if isinstance(obj, Lkmm):
        return obj
    if getattr(obj, "lkmm_id", None) is not None:
        return obj.lkmm
    staff = getattr(obj, "staff", None)
    return getattr(staff, "lkmm", None) if staff is not None and not callable(staff) else None


class AuditedAdminMixin:
    """Every add, change and delete made in Django admin leaves an AuditLog row (`admin.tambah`,
    `admin.ubah`, `admin.hapus`) with the changed fields' values before and after; inline rows too.

    `lkmm_bound_fields` tie an object to its LKMM (its `lkmm`, a loan's member, ...): they are
    read-only once the object exists, so admin cannot move it to another LKMM and leave its history
    behind. Admin's model forms validate as the model does (`full_clean`, the named constraints).
    """

    lkmm_bound_fields = ()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [name for name in self.lkmm_bound_fields if name not in fields]
        return fields

    def _audit(self, request, obj, action, data=None):
        audit_record(actor=request.user, action=action, obj=obj, lkmm=lkmm_of(obj), reason=REASON, data=data)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and not form.changed_data:
            return
        self._audit(request, obj, "admin.ubah" if change else "admin.tambah", {"changes": form_changes(form)})

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            obj = inline_form.instance
            if obj.pk is None or not inline_form.has_changed() or inline_form in formset.deleted_forms:
                continue
            added = obj in getattr(formset, "new_objects", [])
            self._audit(
                request,
                obj,
                "admin.tambah" if added else "admin.ubah",
                {"changes": form_changes(inline_form)},
            )
        for obj in getattr(formset, "deleted_objects", []):
            self._audit(request, obj, "admin.hapus")

    def delete_model(self, request, obj):
        pk = obj.pk
        self._audit(request, obj, "admin.hapus")
        super().delete_model(request, obj)
        obj.pk = pk

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj, "admin.hapus")
        super().delete_queryset(request, queryset)
