from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from institutions.forms import DateField, Form, RupiahField
from ledger.models import AccountCode, EntryKind
from ledger.services import CASH_ACCOUNTS, VOUCHER_ACCOUNTS


class ServiceCheckedChoiceField(forms.ChoiceField):
    """A select whose value the service checks: ledger.services.VOUCHER_ACCOUNTS says which accounts a
    voucher may use, and its refusal names the accounts that may (next to this field)."""

    def valid_value(self, value):
        return True


# Per kind of voucher: the labels of (cash_account_code, account_code).
VOUCHER_LABELS = {
    EntryKind.CASH_IN: (_("Masuk ke"), _("Sumber dana")),
    EntryKind.CASH_OUT: (_("Dibayar dari"), _("Untuk")),
    EntryKind.TRANSFER: (_("Dari akun"), _("Ke akun")),
}


class VoucherForm(Form):
    date = DateField(label=_("Tanggal"))
    cash_account_code = ServiceCheckedChoiceField()
    account_code = ServiceCheckedChoiceField()
    amount = RupiahField(label=pgettext_lazy("amount", "Jumlah"))
    memo = forms.CharField(
        label=_("Keterangan"),
        max_length=200,
        help_text=_("Untuk apa, atau dari siapa. Misalnya: Hibah modal dari Pemkot, SK 12/2026."),
    )
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, kind, accounts, **kwargs):
        """`accounts` maps the LKMM's account codes to its Account rows (for the names)."""
        super().__init__(*args, **kwargs)

        def choices(codes):
            return [(code, str(accounts[code]) if code in accounts else code) for code in codes]

        cash_label, account_label = VOUCHER_LABELS[kind]
        self.fields["cash_account_code"].label = cash_label
        self.fields["cash_account_code"].choices = choices(CASH_ACCOUNTS)
        self.fields["account_code"].label = account_label
        self.fields["account_code"].choices = choices(VOUCHER_ACCOUNTS[kind])
        self.fields["date"].initial = timezone.localdate
        self.fields["cash_account_code"].initial = AccountCode.KAS
        if kind == EntryKind.TRANSFER:
            self.fields["account_code"].initial = AccountCode.BANK


class TrialBalanceForm(Form):
    at = DateField(label=_("Per tanggal"), required=False, future=True)


class CashBookForm(Form):
    account = forms.ChoiceField(
        label=_("Buku"),
        required=False,
        choices=[(AccountCode.KAS, _("Kas")), (AccountCode.BANK, _("Bank"))],
    )
    start = DateField(label=_("Dari"), required=False, future=True)
    end = DateField(label=_("Sampai"), required=False, future=True)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("Tanggal akhir tidak boleh sebelum tanggal awal."))
        return data
