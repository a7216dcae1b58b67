import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.selectors import OBJECT_TYPES
from institutions.forms import DateInput
from institutions.models import lkmm_scope

EARLIEST = datetime.date(1900, 1, 1)
BIGINT_MAX = 2**63 - 1


class AuditFilterForm(forms.Form):
    account = forms.CharField(label=_("Akun (nama pengguna)"), max_length=150, required=False)
    object_type = forms.ChoiceField(
        label=_("Jenis objek"),
        required=False,
        error_messages={"invalid_choice": _("Pilih jenis objek dari daftar.")},
    )
    object_id = forms.IntegerField(
        label=_("Id objek"),
        required=False,
        min_value=1,
        max_value=BIGINT_MAX,
        error_messages={"invalid": _("Id objek harus berupa bilangan bulat.")},
    )
    start = forms.DateField(
        label=_("Dari tanggal"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("Tulis tanggal yang benar, misalnya 31/01/2026.")},
    )
    end = forms.DateField(
        label=_("Sampai tanggal"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("Tulis tanggal yang benar, misalnya 31/01/2026.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["object_type"].choices = [("", _("Semua jenis"))] + [
            (key, label) for key, (_model, label) in OBJECT_TYPES.items()
        ]

    def _bounded(self, name):
        value = self.cleaned_data.get(name)
        latest = timezone.localdate() + datetime.timedelta(days=365)
        if value is not None and not EARLIEST <= value <= latest:
            raise forms.ValidationError(
                _("Pilih tanggal antara %(start)s dan %(end)s.")
                % {"start": f"{EARLIEST:%d/%m/%Y}", "end": f"{latest:%d/%m/%Y}"}
            )
        return value

    def clean_start(self):
        return self._bounded("start")

    def clean_end(self):
        return self._bounded("end")

    def clean_account(self):
        username = self.cleaned_data["account"].strip()
        if not username:
            return None
        accounts = get_user_model().objects.filter(username=username)
        scope = lkmm_scope(self.user)
        if scope is not None:  # an LKMM's audit names only its own staff: no probing for other logins
            own = Q(staff__lkmm_id__in=scope)
            staff = getattr(self.user, "staff", None)
            if staff is not None and staff.is_dinas:  # and a Dinas's, its reviewers too
                own |= Q(staff__dinas_id=staff.dinas_id)
            accounts = accounts.filter(own)
        account = accounts.first()
        if account is None:
            raise forms.ValidationError(_("Tidak ada akun dengan nama pengguna itu."))
        return account

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", _("Tanggal akhir tidak boleh sebelum tanggal awal."))
        if cleaned.get("object_id") and not cleaned.get("object_type"):
            self.add_error("object_type", _("Pilih jenis objek untuk id itu."))
        return cleaned
