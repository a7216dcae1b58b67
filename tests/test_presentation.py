import datetime
import subprocess
import sys
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from institutions.forms import RupiahField
from institutions.templatetags.lkmm_format import format_rupiah, percent, terbilang


@pytest.mark.parametrize(
    ("value", "text"),
    [(1_250_000, "Rp 1.250.000"), (0, "Rp 0"), (999, "Rp 999"), (-5_000, "-Rp 5.000"), (None, "")],
)
def test_rupiah(value, text):
    assert format_rupiah(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(Decimal("1.50"), "1,5%"), (Decimal("13.39"), "13,39%"), (Decimal("0"), "0%")]
)
def test_percent(value, text):
    assert percent(value) == text


@pytest.mark.parametrize("language", ["id", "en"])
def test_dates_render_dd_mm_yyyy_in_both_languages(language):
    with translation.override(language):
        rendered = Template("{{ d }}|{{ d|date:'SHORT_DATE_FORMAT' }}").render(
            Context({"d": datetime.date(2026, 1, 5)})
        )
    assert rendered == "05/01/2026|05/01/2026"


@pytest.mark.parametrize(
    ("typed", "value"),
    [("1.250.000", 1_250_000), ("Rp 1.250.000", 1_250_000), ("1250000", 1_250_000), ("rp124.154", 124_154)],
)
def test_rupiah_field_accepts_how_people_write_amounts(typed, value):
    assert RupiahField().clean(typed) == value


@pytest.mark.parametrize("typed", ["1,5", "12.34", "abc", "1.250.00"])
def test_rupiah_field_refuses_other_text_in_indonesian(typed):
    from django.core.exceptions import ValidationError

    with translation.override("id"), pytest.raises(ValidationError) as excinfo:
        RupiahField().clean(typed)
    assert "rupiah" in excinfo.value.messages[0]


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='lkmm.settings'; django.setup()",
        ],
        env={"DEBUG": "off", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_settings_defaults():
    from django.conf import settings

    assert settings.TIME_ZONE == "Asia/Jakarta"
    assert settings.LANGUAGE_CODE == "id"
    assert [code for code, _ in settings.LANGUAGES] == ["id", "en"]


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "nol rupiah"),
        (11, "sebelas rupiah"),
        (11_000, "sebelas ribu rupiah"),
        (100_000, "seratus ribu rupiah"),
        (1_000_000, "satu juta rupiah"),
        (1_250_000, "satu juta dua ratus lima puluh ribu rupiah"),
        (2_500_000_001, "dua miliar lima ratus juta satu rupiah"),
    ],
)
def test_terbilang_writes_the_amount_in_words(amount, words):
    assert terbilang(amount) == words


@pytest.mark.parametrize("data", [None, {"amount": "12500"}, {"amount": "12x"}, {"amount": ""}])
def test_plain_input_writes_what_the_widget_would(data):
    from django import forms

    from institutions.templatetags.lkmm_format import plain_input

    class AmountForm(forms.Form):
        amount = forms.IntegerField(
            widget=forms.TextInput(attrs={"inputmode": "numeric", "aria-label": "Dibayar Siti & Co"})
        )
        optional = forms.IntegerField(required=False, widget=forms.TextInput(attrs={"autocomplete": "off"}))

    form = AmountForm(data)
    if data is not None:
        form.is_valid()
    for name in ("amount", "optional"):
        assert plain_input(form[name]) == str(form[name]), (name, data)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("reports:lkmm", "lkmm-0321"),
        ("oversight:trend_lkmm", "semenggu"),
        ("oversight:trend_kecamatan", "Sumber Sari"),
        ("oversight:trend_kecamatan", "Kaliwates/Timur"),
        ("oversight:trend_kecamatan", "Tanah Grogot's (ü) 50% #1?"),
    ],
)
def test_code_url_gives_what_url_gives(name, code):
    from django.urls import reverse

    from institutions.templatetags.lkmm_urls import code_url

    assert code_url(name, code) == reverse(name, args=[code])
