import datetime

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from institutions.forms import DateField, Form, RupiahField


class AllocateForm(Form):
    on = DateField(label=_("Tanggal"))
    amount = RupiahField(
        label=pgettext_lazy("amount", "Jumlah"),
        required=False,
        min_value=1,
        help_text=_("Kosongkan untuk menambah sampai cadangan wajib (PPAP) pada tanggal itu."),
    )
    note = forms.CharField(label=_("Keterangan"), max_length=100, required=False)


class WriteOffForm(Form):
    on = DateField(label=_("Tanggal hapus buku"))
    reason = forms.CharField(label=_("Alasan"), max_length=200)


class RecoveryForm(Form):
    received_on = DateField(label=_("Tanggal diterima"))
    amount = RupiahField(label=pgettext_lazy("amount", "Jumlah"), min_value=1)
    note = forms.CharField(label=_("Catatan"), max_length=200, required=False)


class CloseForm(Form):
    month = forms.TypedChoiceField(label=_("Bulan"), coerce=lambda v: datetime.date.fromisoformat(v))

    def __init__(self, *args, months, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = [(m.isoformat(), m.strftime("%m/%Y")) for m in reversed(months)]


class ReasonForm(Form):
    reason = forms.CharField(label=_("Alasan"), max_length=200)
