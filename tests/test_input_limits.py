"""The limits every form applies (institutions.forms.InputLimitsMixin and its field classes), at the
inputs where issue 9 found a 500 or a wrong record, and actions a loan's state does not allow."""

import datetime

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from institutions.forms import RUPIAH_MAX, DateField, Form, RupiahField, strip_control_characters
from ledger.models import JournalEntry
from loans.models import Loan, Repayment
from loans.services import loan_restructure, repayment_record
from members.models import Member
from risk.services import loan_write_off
from tests.factories import LoanProductFactory, MemberFactory, ketua_of, make_active_loan

pytestmark = pytest.mark.django_db
D = datetime.date
FAR_DATES = ["0001-01-01", "1899-12-31", "9999-12-31"]


class Sample(Form):
    amount = RupiahField(required=False)
    count = forms.IntegerField(required=False)
    rate = forms.DecimalField(required=False)
    on = DateField(required=False)
    planned = DateField(required=False, future=True)
    plain_date = forms.DateField(required=False)
    name = forms.CharField(required=False)


@pytest.mark.parametrize("field", ["amount", "count", "rate"])
@pytest.mark.parametrize("value", ["٣٠٠", "３００", "1٢", "²"])
def test_digits_other_than_ascii_are_refused_with_a_clear_message(field, value):
    form = Sample({field: value})
    assert not form.is_valid()
    assert form.errors[field] == ["Tulis angka dengan angka biasa 0-9."]


def test_a_date_in_foreign_digits_is_refused():
    form = Sample({"on": "٢٠٢٦-٠١-٠١"})
    assert form.errors["on"] == ["Tulis angka dengan angka biasa 0-9."]


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("amount", str(RUPIAH_MAX), True),
        ("amount", str(RUPIAH_MAX + 1), False),
        ("amount", "100000000000000000000", False),
        ("count", "9223372036854775808", False),
        ("count", "-9223372036854775809", False),
        ("count", "1000000000000000", True),
        ("rate", "1e30", False),
    ],
)
def test_numbers_stay_far_below_bigint(field, value, ok):
    assert Sample({field: value}).is_valid() is ok


def test_a_rupiah_maximum_is_written_as_rupiah():
    form = Sample({"amount": str(RUPIAH_MAX + 1)})
    assert form.errors["amount"] == ["Jumlah terlalu besar: paling banyak Rp999.999.999.999."]


@pytest.mark.parametrize("field", ["on", "planned", "plain_date"])
@pytest.mark.parametrize("value", FAR_DATES)
def test_dates_lie_between_1900_and_a_year_ahead(field, value):
    form = Sample({field: value})
    assert not form.is_valid()
    # (A far future date in a field without future is refused for that first.)
    assert form.errors[field][0].startswith(("Tanggal terlalu jauh di masa", "Tanggal ini tidak boleh"))


def test_the_future_is_refused_only_where_it_means_nothing():
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    form = Sample({"on": tomorrow, "planned": tomorrow, "plain_date": tomorrow})
    assert form.errors == {"on": ["Tanggal ini tidak boleh di masa depan."]}


def test_text_loses_nul_and_control_characters_but_keeps_its_lines():
    form = Sample({"name": "Siti\x00 Ami\x1bnah\x7f\r\nRT 01\tRW 02"})
    assert form.is_valid()
    assert form.cleaned_data["name"] == "Siti Aminah\r\nRT 01\tRW 02"
    assert strip_control_characters("\x85a\x9f") == "a"


# --- at the inputs issue 9 found --------------------------------------------------------------------


@pytest.fixture
def active_loan(lkmm):
    return make_active_loan(
        member=MemberFactory(lkmm=lkmm), product=LoanProductFactory(lkmm=lkmm), disbursed_on=D(2026, 1, 1)
    )


@pytest.mark.parametrize("at", FAR_DATES)
def test_far_dates_in_the_filters_are_explained_not_a_500(ketua_client, lkmm, at):
    for url, query in [
        (reverse("ledger:trial_balance", args=[lkmm.code]), {"at": at}),
        (reverse("ledger:cash_book", args=[lkmm.code]), {"start": at, "end": at}),
        (reverse("loans:collection"), {"start": at}),
        (reverse("reports:arrears", args=[lkmm.code]), {"at": at}),
    ]:
        response = ketua_client.get(url, query)
        assert response.status_code == 200, url
        assert "Tanggal terlalu jauh di masa" in response.content.decode(), url


@pytest.mark.parametrize("held_on", FAR_DATES)
def test_board_election_with_a_far_date_is_refused(ketua_client, lkmm, held_on):
    response = ketua_client.post(
        reverse("board:elect", args=[lkmm.code]),
        {
            "held_on": held_on,
            "place": "Balai desa",
            "attendees": "30",
            "method": "musyawarah",
            "seats-TOTAL_FORMS": "1",
            "seats-INITIAL_FORMS": "0",
            "seats-0-name": "Budi",
            "seats-0-role": "ketua",
            "seats-0-term_end": "9999-12-31",
        },
    )
    assert response.status_code == 200
    assert " di masa " in response.context["form"].errors["held_on"][0]
    assert "Tanggal terlalu jauh di masa" in response.context["formset"].forms[0].errors["term_end"][0]


def test_huge_amounts_are_refused_next_to_the_field(ketua_client, lkmm, active_loan):
    huge = "100000000000000000000"
    before = (JournalEntry.objects.count(), Repayment.objects.count())
    voucher = ketua_client.post(
        reverse("ledger:voucher_create", args=[lkmm.code]) + "?kind=cash_in",
        {
            "date": "2026-02-01",
            "cash_account_code": "1101",
            "account_code": "3101",
            "amount": huge,
            "memo": "Hibah",
            "token": "5f0c3f8e-3b9e-4b8e-9d55-1c1a8d1b0e11",
        },
    )
    assert "Jumlah terlalu besar" in voucher.context["form"].errors["amount"][0]
    reserve = ketua_client.post(
        reverse("risk:reserve", args=[lkmm.code]), {"on": "2026-02-01", "amount": huge}
    )
    assert "Jumlah terlalu besar" in reserve.context["form"].errors["amount"][0]
    payment = ketua_client.post(
        reverse("loans:repay", args=[active_loan.pk]),
        {"amount": huge, "paid_on": "2026-01-08", "token": "5f0c3f8e-3b9e-4b8e-9d55-1c1a8d1b0e12"},
    )
    assert "Jumlah terlalu besar" in payment.context["form"].errors["amount"][0]
    assert (JournalEntry.objects.count(), Repayment.objects.count()) == before


def test_a_payment_in_arabic_indic_digits_is_refused_not_recorded_as_rp300(pengelola_client, active_loan):
    response = pengelola_client.post(
        reverse("loans:repay", args=[active_loan.pk]),
        {"amount": "٣٠٠", "paid_on": "2026-01-08", "token": "5f0c3f8e-3b9e-4b8e-9d55-1c1a8d1b0e13"},
    )
    assert response.context["form"].errors["amount"] == ["Tulis angka dengan angka biasa 0-9."]
    assert not Repayment.objects.exists()


def test_a_nul_byte_in_a_nik_is_stripped_not_a_500(pengelola_client, lkmm):
    response = pengelola_client.post(
        reverse("members:create"), {"nik": "3509114501800001\x00", "full_name": "A"}
    )
    assert response.status_code == 200
    assert response.context["form"]["nik"].value() == "3509114501800001"
    assert not Member.objects.exists()


# --- actions a loan's state does not allow ------------------------------------------------------------


@pytest.mark.parametrize("move", ["write_off", "restructure"])
def test_no_reversal_of_a_payment_on_a_moved_loan_and_no_button(ketua_client, lkmm, active_loan, move):
    ketua = ketua_of(lkmm)
    payment = repayment_record(loan=active_loan, amount=124_154, paid_on=D(2026, 1, 8), actor=None)
    if move == "write_off":
        loan_write_off(loan=active_loan, actor=ketua, on=D(2026, 6, 1), reason="Pindah")
    else:
        loan_restructure(
            loan=active_loan, actor=ketua, on=D(2026, 3, 2), product=active_loan.product, reason="Sepi"
        )
    url = reverse("loans:reverse", args=[payment.pk])
    detail = ketua_client.get(reverse("loans:detail", args=[active_loan.pk])).content.decode()
    assert url not in detail
    page = ketua_client.get(url)
    assert "tidak dapat dibatalkan lagi" in page.context["refusal"]
    assert "Batalkan pembayaran</button>" not in page.content.decode()
    entries = JournalEntry.objects.count()
    response = ketua_client.post(url, {"on": "2026-12-01", "reason": "Coba"})
    assert response.status_code == 200 and "tidak dapat dibatalkan lagi" in response.context["refusal"]
    assert JournalEntry.objects.count() == entries
    assert Repayment.objects.get(pk=payment.pk).reversed_on is None
    assert Loan.objects.get(pk=active_loan.pk).status in ("dihapusbukukan", "direstrukturisasi")


def test_numeric_text_fields_refuse_foreign_digits(pengelola_client, lkmm):
    response = pengelola_client.post(
        reverse("members:create"),
        {
            "nik": "٣٥٠٩١١٤٥٠١٨٠٠٠٠١",
            "rt": "٠٠١",
            "kk_number": "３５０９１１４５０１８０００００１",
            "phone": "٠٨١٢٣٤٥٦٧٨٩",
        },
    )
    errors = response.context["form"].errors
    for field in ("nik", "rt", "kk_number", "phone"):
        assert errors[field] == ["Tulis angka dengan angka biasa 0-9."], field
    assert not Member.objects.exists()


@pytest.mark.parametrize(
    ("url_name", "message"),
    [
        ("loans:repay", "Pembayaran hanya untuk pinjaman aktif"),
        ("loans:restructure", "Hanya pinjaman aktif yang dapat direstrukturisasi."),
        ("risk:write_off", "Hanya pinjaman aktif yang dapat dihapusbukukan."),
    ],
)
def test_actions_on_a_written_off_loan_show_why_and_offer_no_button(
    ketua_client, lkmm, active_loan, url_name, message
):
    loan_write_off(loan=active_loan, actor=ketua_of(lkmm), on=D(2026, 6, 1), reason="Pindah")
    detail = ketua_client.get(reverse("loans:detail", args=[active_loan.pk])).content.decode()
    url = reverse(url_name, args=[active_loan.pk])
    assert url not in detail
    page = ketua_client.get(url)
    assert page.status_code == 200 and message in page.context["refusal"]
    assert '<button type="submit" class="btn' not in page.content.decode()
    entries = JournalEntry.objects.count()
    ketua_client.post(
        url,
        {
            "on": "2026-12-01",
            "paid_on": "2026-12-01",
            "amount": "1000",
            "confirm": "1",
            "reason": "x",
            "product": active_loan.product_id,
            "token": "5f0c3f8e-3b9e-4b8e-9d55-1c1a8d1b0e14",
        },
    )
    assert JournalEntry.objects.count() == entries


def test_recovery_of_an_active_loan_shows_why_and_offers_no_button(ketua_client, active_loan):
    page = ketua_client.get(reverse("risk:recovery", args=[active_loan.pk]))
    assert page.context["refusal"] == "Pemulihan hanya untuk pinjaman yang dihapusbukukan."
    assert '<button type="submit" class="btn' not in page.content.decode()
