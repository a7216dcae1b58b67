import datetime
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from institutions.forms import Form


def last_complete_month(today=None):
    """The first day of the last month that has ended."""
    today = today or timezone.localdate()
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


class MonthInput(forms.TextInput):
    """The phone's own month picker (YYYY-MM)."""

    input_type = "month"


class MonthForm(Form):
    """A month that has ended, as YYYY-MM (ASCII digits), from 2000 on."""

    bulan = forms.CharField(label=_("Bulan"), required=False, max_length=7, widget=MonthInput())

    def clean_bulan(self):
        value = (self.cleaned_data["bulan"] or "").strip()
        if not value:
            return last_complete_month()
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}", value):
            raise forms.ValidationError(_("Tulis bulan sebagai tahun-bulan, misalnya 2026-11."))
        year, month = int(value[:4]), int(value[5:])
        if not 1 <= month <= 12 or year < 2000:
            raise forms.ValidationError(_("Bulan tidak dikenal; pilih bulan sejak 2000."))
        month = datetime.date(year, month, 1)
        if month > last_complete_month():
            raise forms.ValidationError(_("Pilih bulan yang sudah berakhir."))
        return month
