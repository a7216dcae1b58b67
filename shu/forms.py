from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from institutions.forms import DateField, Form, RupiahField
from shu.models import Decision, Fund, SosialPurpose

PERCENT_ERRORS = {
    "min_value": _("Persentase tidak boleh kurang dari 0."),
    "max_value": _("Persentase tidak boleh lebih dari 100."),
    "invalid": _("Tulis persentase sebagai bilangan bulat 0-100."),
    "required": _("Isi persentase (0 bila tidak ada)."),
}


def _percent(label):
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=100,
        error_messages=PERCENT_ERRORS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 100}),
    )


def _year_field(label):
    return forms.IntegerField(
        label=label,
        min_value=2000,
        error_messages={
            "min_value": _("Tahun paling awal 2000."),
            "max_value": _("Tahun paling lambat %(limit_value)s."),
            "invalid": _("Tulis tahun dengan empat angka, misalnya 2026."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class RuleForm(Form):
    from_year = _year_field(_("Berlaku mulai tahun"))
    reserve = _percent(_("Cadangan (modal) %"))
    jasa_simpanan = _percent(_("Jasa simpanan %"))
    jasa_pinjaman = _percent(_("Jasa pinjaman %"))
    dana_sosial = _percent(_("Dana sosial %"))
    pengurus = _percent(_("Dana pengurus %"))
    note = forms.CharField(label=_("Dasar (AD/ART, keputusan rapat)"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        latest = timezone.localdate().year + 1
        self.fields["from_year"].max_value = latest
        self.fields["from_year"].validators.append(MaxValueValidator(latest))

    def clean(self):
        cleaned = super().clean()
        names = ["reserve", "jasa_simpanan", "jasa_pinjaman", "dana_sosial", "pengurus"]
        if all(cleaned.get(name) is not None for name in names):
            total = sum(cleaned[name] for name in names)
            if total != 100:
                raise forms.ValidationError(
                    _("Jumlah kelima persentase harus 100, sekarang %(n)s.") % {"n": total}
                )
        return cleaned


class YearCloseForm(Form):
    year = forms.TypedChoiceField(label=_("Tahun"), coerce=int, choices=())

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]


class DistributeForm(Form):
    decided_on = DateField(label=_("Tanggal rapat anggota"))
    decision = forms.ChoiceField(label=_("Keputusan rapat anggota"), choices=Decision.choices)
    minutes_no = forms.CharField(label=_("Nomor berita acara"), max_length=60)
    note = forms.CharField(
        label=_("Catatan"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CollectForm(Form):
    on = DateField(label=_("Tanggal diambil"))


class SosialSpendForm(Form):
    fund = forms.ChoiceField(label=_("Dari"), choices=Fund.choices)
    on = DateField(label=_("Tanggal"))
    purpose = forms.ChoiceField(label=_("Untuk"), choices=SosialPurpose.choices)
    description = forms.CharField(label=_("Keterangan"), max_length=200)
    amount = RupiahField(label=_("Jumlah"), min_value=1)


class SosialReverseForm(Form):
    on = DateField(label=_("Dibatalkan per tanggal"))
    reason = forms.CharField(
        label=_("Alasan pembatalan"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ShuReverseForm(Form):
    on = DateField(label=_("Dibatalkan per tanggal"))
    reason = forms.CharField(
        label=_("Alasan pembatalan"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
