"""The Dinas's own pages: its settings (health thresholds, cash limit), edited by its reviewers."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from institutions.access import dinas_required
from institutions.forms import DinasSettingsForm, add_service_errors
from institutions.models import AuditLog, Dinas
from institutions.security import form_data
from institutions.services import dinas_settings_update

CHANGES_SHOWN = 20


@dinas_required
def dinas_settings(request):
    """The reviewer's own Dinas's settings; each saved change leaves an audit row with before and after."""
    dinas = Dinas.objects.get(pk=request.user.staff.dinas_id)
    form = DinasSettingsForm(form_data(request), instance=dinas)
    if request.method == "POST" and form.is_valid():
        try:
            dinas_settings_update(
                dinas=dinas,
                actor=request.user,
                **{name: form.cleaned_data[name] for name in form.Meta.fields},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Pengaturan Dinas disimpan."))
            return redirect("dinas:settings")
    history = (
        AuditLog.objects.filter(object_type=Dinas._meta.label_lower, object_id=dinas.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")[:CHANGES_SHOWN]
    )
    return render(
        request,
        "institutions/dinas_settings.html",
        {"dinas": dinas, "form": form, "history": history, "labels": _labels(form)},
    )


def _labels(form):
    return {name: field.label for name, field in form.fields.items()}
