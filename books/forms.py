from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.forms import Form

MAX_BYTES = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACCEPT = f".xlsx,.csv,text/csv,{XLSX}"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class BookFilesField(forms.FileField):
    """One .xlsx workbook, or the book's .csv files (members.csv, loans.csv, ...) chosen together."""

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            return super().clean(None, initial)
        return [super(BookFilesField, self).clean(one, initial) for one in files]


class UploadForm(Form):
    book = BookFilesField(
        label=_("Berkas buku (XLSX, atau berkas CSV-nya)"),
        help_text=_(
            "Satu lembar per tabel: members, loans, repayments, events, opening. Unduh templatnya dulu. "
            "Buku dalam CSV: pilih semua berkasnya sekaligus (members.csv, loans.csv, ...)."
        ),
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
    )

    def clean_book(self):
        files = self.cleaned_data["book"]
        if sum(one.size for one in files) > MAX_BYTES:
            raise forms.ValidationError(
                _("Berkas terlalu besar (paling besar 20 MB); pakai perintah import_book.")
            )
        names = [one.name.lower() for one in files]
        if len(files) == 1 and names[0].endswith(".xlsx"):
            return files
        if all(name.endswith(".csv") for name in names):
            return files
        raise forms.ValidationError(_("Unggah satu berkas .xlsx, atau berkas-berkas .csv buku ini."))


class ConfirmForm(Form):
    pass
