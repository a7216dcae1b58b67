from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.forms import DateField, Form, RupiahField
from savings.models import SavingsKind


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
