from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coaching.models import CoachingRecord
from institutions.forms import DateField, Form, ModelForm
from institutions.models import Lkmm, Role


class CoachingRecordForm(ModelForm):
    lkmms = forms.ModelMultipleChoiceField(
        label=_("LKMM"),
        queryset=Lkmm.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Satu catatan boleh mencakup beberapa LKMM (misalnya pelatihan bersama)."),
    )
    held_on = DateField(label=_("Tanggal"))

    class Meta:
        model = CoachingRecord
        fields = ["kind", "held_on", "lkmms", "attendees", "topic", "findings"]
        widgets = {
            "attendees": forms.Textarea(attrs={"rows": 2}),
            "findings": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {"attendees": _("Nama dan peran yang hadir, dari Dinas dan dari LKMM.")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lkmms"].queryset = (
            Lkmm.objects.for_user(user).filter(is_active=True).order_by("kecamatan", "name")
        )
        self.fields["lkmms"].label_from_instance = lambda lkmm: f"{lkmm.name} ({lkmm.kecamatan})"


def owners_for(lkmms):
    """Who may own a follow-up for one of `lkmms`: active staff of those LKMMs, and the Dinas."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(staff__lkmm__in=lkmms) | Q(staff__role=Role.DINAS))
        .select_related("staff__lkmm")
        .order_by("staff__lkmm__name", "username")
    )


def _owner_label(user):
    name = user.get_full_name() or user.get_username()
    where = user.staff.lkmm.name if user.staff.lkmm_id else _("Dinas")
    return f"{name} · {where}"


class FollowUpForm(Form):
    lkmm = forms.ModelChoiceField(label=_("LKMM"), queryset=Lkmm.objects.none())
    action = forms.CharField(
        label=_("Tindak lanjut"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = forms.ModelChoiceField(
        label=_("Penanggung jawab"),
        queryset=get_user_model().objects.none(),
        help_text=_("Orang dari LKMM itu atau dari Dinas."),
    )
    due_on = DateField(label=_("Batas waktu"), future=True, years_ahead=2)

    def __init__(self, *args, record, user, **kwargs):
        super().__init__(*args, **kwargs)
        lkmms = record.lkmms.all() & Lkmm.objects.for_user(user)
        self.fields["lkmm"].queryset = lkmms.order_by("name")
        self.fields["owner"].queryset = owners_for(lkmms)
        self.fields["owner"].label_from_instance = _owner_label


class FollowUpDoneForm(Form):
    done_on = DateField(label=_("Selesai pada"))
    note = forms.CharField(label=_("Catatan"), max_length=300, required=False)
