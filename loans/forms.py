import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from institutions.forms import DateField, Form, ModelForm, RupiahField
from loans.models import LoanProduct, LoanStatus
from members.models import Member


class ProductForm(ModelForm):
    min_amount = RupiahField(label=_("Pinjaman minimal"), min_value=1)
    max_amount = RupiahField(label=_("Pinjaman maksimal"), min_value=1)
    # Rupiah as people write them: a plain IntegerField would read "5.000" as 5.
    late_fee = RupiahField(
        label=_("Denda per angsuran terlambat"),
        min_value=0,
        required=False,
        help_text=_("0 berarti tanpa denda."),
    )

    class Meta:
        model = LoanProduct
        fields = [
            "name",
            "interest_method",
            "frequency",
            "rate_per_month",
            "installment_count",
            "rounding_unit",
            "min_amount",
            "max_amount",
            "admin_fee_percent",
            "admin_fee_mode",
            "late_fee",
            "waive_interest_on_payoff",
            "requires_group",
            "one_loan_at_a_time",
        ]
        widgets = {
            "rate_per_month": forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            "admin_fee_percent": forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        }

    def clean_late_fee(self):
        return self.cleaned_data["late_fee"] or 0


class LoanApplyForm(Form):
    product = forms.ModelChoiceField(label=_("Produk pinjaman"), queryset=LoanProduct.objects.none())
    principal = RupiahField(label=_("Jumlah pinjaman"), min_value=1)
    purpose = forms.CharField(label=_("Tujuan pinjaman"), max_length=200)
    applied_on = DateField(label=_("Tanggal pengajuan"))
    token = forms.UUIDField(widget=forms.HiddenInput)
    also_other = forms.BooleanField(
        label=_("Tetap ajukan: saya tahu anggota ini masih punya pinjaman lain"), required=False
    )

    def __init__(self, *args, lkmm, other_loans=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = LoanProduct.objects.filter(lkmm=lkmm, is_active=True)
        self.fields["applied_on"].initial = timezone.localdate
        self.fields["token"].initial = uuid.uuid4
        self.other_loans = list(other_loans)
        if not self.other_loans:
            del self.fields["also_other"]

    def clean(self):
        cleaned = super().clean()
        if self.other_loans and not cleaned.get("also_other"):
            self.add_error(
                "also_other",
                _("Anggota ini masih punya pinjaman %(codes)s. Centang bila tetap diajukan.")
                % {"codes": ", ".join(loan.code for loan in self.other_loans)},
            )
        cleaned.pop("also_other", None)
        return cleaned


class LoanEditForm(Form):
    product = forms.ModelChoiceField(label=_("Produk pinjaman"), queryset=LoanProduct.objects.none())
    principal = RupiahField(label=_("Jumlah pinjaman"), min_value=1)
    purpose = forms.CharField(label=_("Tujuan pinjaman"), max_length=200)
    reason = forms.CharField(label=_("Alasan perubahan"), max_length=200)

    def __init__(self, *args, lkmm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = LoanProduct.objects.filter(lkmm=lkmm, is_active=True)


class DisburseForm(Form):
    disbursed_on = DateField(label=_("Tanggal pencairan"))
    first_due = DateField(
        label=_("Jatuh tempo pertama"),
        future=True,
        required=False,
        help_text=_("Kosongkan: satu periode sesudah pencairan."),
    )


# The reason forms below post from the loan page and come back as a message, not next to a field: their
# "required" messages say what is missing.
class CancelForm(Form):
    reason = forms.CharField(
        label=_("Alasan pembatalan"),
        max_length=200,
        error_messages={"required": _("Tulis alasan pembatalan.")},
    )


class EmptyForm(Form):
    """A POST with nothing to fill in but the CSRF token (an approval)."""


class ReasonForm(Form):
    reason = forms.CharField(
        label=_("Alasan"), max_length=200, error_messages={"required": _("Tulis alasannya.")}
    )


class WaiveForm(Form):
    on = DateField(label=_("Berlaku per tanggal"))
    reason = forms.CharField(
        label=_("Alasan pembebasan denda"),
        max_length=200,
        error_messages={"required": _("Tulis alasan pembebasan denda.")},
    )


class ReverseForm(Form):
    on = DateField(
        label=_("Dibatalkan per tanggal"),
        help_text=_(
            "Sebelum tanggal ini pembayaran tetap dihitung; sejak tanggal ini dianggap tidak pernah ada."
        ),
    )
    reason = forms.CharField(
        label=_("Alasan pembatalan pembayaran"),
        max_length=200,
        error_messages={"required": _("Tulis alasan pembatalan pembayaran.")},
    )


class RepaymentForm(Form):
    amount = RupiahField(label=_("Jumlah dibayar"), min_value=1)
    paid_on = DateField(label=_("Tanggal bayar"))
    paid_by = forms.ModelChoiceField(
        label=_("Dibayar oleh"),
        queryset=Member.objects.none(),
        required=False,
        empty_label=_("Peminjam sendiri"),
        help_text=_("Tanggung renteng: anggota kelompok yang membayar untuk peminjam."),
        error_messages={
            "invalid_choice": _("Yang membayar harus anggota kelompok yang sama (tanggung renteng).")
        },
    )
    note = forms.CharField(label=_("Catatan"), max_length=200, required=False)
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, loan, **kwargs):
        super().__init__(*args, **kwargs)
        mates = Member.objects.filter(
            group_memberships__left_on__isnull=True,
            group_memberships__group__memberships__member=loan.member,
            group_memberships__group__memberships__left_on__isnull=True,
        ).exclude(pk=loan.member_id)
        if mates.exists():
            self.fields["paid_by"].queryset = mates
        else:
            del self.fields["paid_by"]


class LoanFilterForm(Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Semua status")), *LoanStatus.choices]
    )
    arrears = forms.BooleanField(label=_("Hanya yang menunggak"), required=False)


class RestructureForm(Form):
    on = DateField(label=_("Tanggal restrukturisasi"))
    product = forms.ModelChoiceField(label=_("Syarat baru (produk)"), queryset=LoanProduct.objects.none())
    first_due = DateField(
        label=_("Jatuh tempo pertama"),
        future=True,
        required=False,
        help_text=_("Kosongkan: satu periode sesudah restrukturisasi."),
    )
    reason = forms.CharField(label=_("Alasan restrukturisasi"), max_length=200)

    def __init__(self, *args, lkmm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = LoanProduct.objects.filter(lkmm=lkmm, is_active=True)
