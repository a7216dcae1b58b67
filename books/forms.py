from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.forms import Form

MAX_BYTES = 20 * 1024 * 1024


class UploadForm(Form):
    book = forms.FileField(
        label=_("Berkas buku (XLSX)"),
        help_text=_(
            "Satu lembar per tabel: members, loans, repayments, events, opening. Unduh templatnya dulu."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def clean_book(self):
        book = self.cleaned_data["book"]
        if book.size > MAX_BYTES:
            raise forms.ValidationError(
                _("Berkas terlalu besar (paling besar 20 MB); pakai perintah import_book.")
            )
        if not book.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Unggah berkas .xlsx."))
        return book


class ConfirmForm(Form):
    pass
