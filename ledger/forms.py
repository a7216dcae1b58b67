from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from institutions.forms import DateField, Form, RupiahField
from ledger.models import AccountCode, CapitalKind, EntryKind
from ledger.services import CASH_ACCOUNTS, VOUCHER_ACCOUNTS
from ledger.statements import MONTH, MONTH_NAMES, PERIOD_KINDS, QUARTER, YEAR, Period, period_containing


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


class CapitalSourceForm(Form):
    received_on = DateField(label=_("Tanggal diterima"))
    kind = forms.ChoiceField(label=_("Jenis"), choices=CapitalKind.choices)
    source_name = forms.CharField(
        label=_("Sumber"),
        max_length=120,
        help_text=_("Misalnya: APBD Kabupaten Jember 2026, SK 12/2026; atau nama bank."),
    )
    amount = RupiahField(label=_("Jumlah diterima"), min_value=1)
    cash_account_code = forms.ChoiceField(
        label=_("Masuk ke"), choices=[(AccountCode.KAS, _("Kas")), (AccountCode.BANK, _("Bank"))]
    )
    owed_back = RupiahField(
        label=_("Yang harus dikembalikan"),
        required=False,
        help_text=_("Hanya untuk pinjaman bank: pokok ditambah bunganya."),
    )
    note = forms.CharField(label=_("Catatan"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate
        self.fields["cash_account_code"].initial = AccountCode.BANK


class StatementPeriodForm(Form):
    """A month, quarter or year that has begun, from 2000 on; by default the last month that has ended.
    `quarters_only`: the quarterly package (SEOJK) is a quarter's."""

    jenis = forms.ChoiceField(label=_("Periode"), choices=PERIOD_KINDS, required=False)
    tahun = forms.IntegerField(label=_("Tahun"), min_value=2000, required=False)
    bulan = forms.TypedChoiceField(
        label=_("Bulan"),
        choices=[(n, name) for n, name in enumerate(MONTH_NAMES, start=1)],
        coerce=int,
        required=False,
    )
    triwulan = forms.TypedChoiceField(
        label=_("Triwulan"), choices=[(1, "I"), (2, "II"), (3, "III"), (4, "IV")], coerce=int, required=False
    )

    def __init__(self, *args, quarters_only=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.quarters_only = quarters_only
        self.fields["tahun"].max_value = timezone.localdate().year
        self.fields["tahun"].validators.append(MaxValueValidator(timezone.localdate().year))
        if quarters_only:
            del self.fields["jenis"], self.fields["bulan"]
        if not self.is_bound:
            # The form shows the period the page shows: by default the last month (quarter) that ended.
            shown = self.default(quarters_only=quarters_only)
            self.initial = {
                "jenis": shown.kind,
                "tahun": shown.year,
                "bulan": shown.number if shown.kind == MONTH else None,
                "triwulan": shown.number if shown.kind == QUARTER else (shown.number - 1) // 3 + 1,
                **self.initial,
            }

    @staticmethod
    def default(*, quarters_only=False):
        """The last month (or quarter) that has ended."""
        today = timezone.localdate()
        if quarters_only:
            return period_containing(QUARTER, today).previous()
        return period_containing(MONTH, today).previous()

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        kind = QUARTER if self.quarters_only else (data.get("jenis") or MONTH)
        year = data.get("tahun") or self.default(quarters_only=self.quarters_only).year
        number = {MONTH: data.get("bulan"), QUARTER: data.get("triwulan"), YEAR: 1}[kind]
        if number in (None, ""):
            # The latest period of that kind in the year that has ended (or, early in a year, the current).
            today = timezone.localdate()
            if year < today.year:
                number = {MONTH: 12, QUARTER: 4, YEAR: 1}[kind]
            else:
                current = period_containing(kind, today)
                before = current.previous()
                number = before.number if before.year == year else current.number
        period = Period(kind, year, number)
        if period.start > timezone.localdate():
            raise forms.ValidationError(_("Periode ini belum dimulai; pilih periode yang sudah berjalan."))
        data["period"] = period
        return data

    @property
    def period(self):
        if self.is_bound and self.is_valid():
            return self.cleaned_data["period"]
        return self.default(quarters_only=self.quarters_only)
