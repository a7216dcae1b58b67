from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.forms import DateField, Form, RupiahField
from savings.models import SavingsKind, WajibFrequency


class DepositForm(Form):
    kind = forms.ChoiceField(label=_("Jenis simpanan"), choices=SavingsKind.choices)
    amount = RupiahField(label=_("Jumlah setoran"), min_value=1)
    on = DateField(label=_("Tanggal setor"))
    note = forms.CharField(label=_("Catatan"), max_length=200, required=False)
    token = forms.UUIDField(widget=forms.HiddenInput)


class WithdrawForm(Form):
    amount = RupiahField(label=_("Jumlah penarikan"), min_value=1)
    on = DateField(label=_("Tanggal tarik"))
    note = forms.CharField(label=_("Catatan"), max_length=200, required=False)


class ReturnAllForm(Form):
    on = DateField(label=_("Tanggal pengembalian"))


class SavingsReverseForm(Form):
    on = DateField(label=_("Dibatalkan per tanggal"))
    reason = forms.CharField(
        label=_("Alasan pembatalan"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class ProductAmountForm(Form):
    amount = RupiahField(label=_("Jumlah"), min_value=0)
    # Left out of the post: the product keeps its frequency.
    frequency = forms.ChoiceField(label=_("Jatuh tempo"), choices=WajibFrequency.choices, required=False)

    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, **kwargs)
        # Only wajib falls due again and again; pokok is once, sukarela whenever.
        if kind != SavingsKind.WAJIB:
            del self.fields["frequency"]


class PeriodForm(Form):
    """From and to of a report period (this month so far when left empty), at most MAX_DAYS long."""

    MAX_DAYS = 366

    start = DateField(label=_("Dari"), required=False, future=True)
    end = DateField(label=_("Sampai"), required=False, future=True)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                self.add_error("end", _("Tanggal akhir tidak boleh sebelum tanggal awal."))
            elif (end - start).days + 1 > self.MAX_DAYS:
                message = _("Paling panjang %(n)s hari; pilih periode yang lebih pendek.")
                self.add_error("end", message % {"n": self.MAX_DAYS})
        return data
