"""Manual vouchers (bukti kas), the cash and bank books, and the trial balance at a date.

The worked books of Semenggu, March 2026 (`march` fixture), in posting order:

    J-00001 25/02 kas masuk, dana bergulir           Dr 1101  300.000      Cr 3102
    J-00002 02/03 kas masuk, modal hibah Pemkot      Dr 1101  10.000.000   Cr 3101
    J-00003 03/03 pemindahbukuan kas -> bank         Dr 1102  4.000.000    Cr 1101
    J-00004 05/03 pencairan P-00001                  Dr 1201  1.200.000    Cr 1101
    J-00005 12/03 angsuran K-000001                  Dr 1101  124.154      Cr 1201 120.000, 4101 4.154
    J-00006 20/03 kas keluar, beban operasional      Dr 5201  150.000      Cr 1101
    J-00007 02/04 kas keluar, beban operasional      Dr 5201  50.000       Cr 1101

Buku kas 01/03-31/03: opening 300.000; 10.300.000, 6.300.000, 5.100.000, 5.224.154, 5.074.154;
in 10.124.154, out 5.350.000, closing 5.074.154. Buku bank: opening 0, closing 4.000.000.
"""

import datetime
import uuid
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from audit.services import SECURITY_ACTIONS
from institutions.models import AuditLog
from ledger import selectors
from ledger.models import EntryKind, JournalEntry
from ledger.services import voucher_post
from loans import services as loan_services
from tests.factories import MemberFactory, make_active_loan

D = datetime.date


def days(n):
    return datetime.timedelta(days=n)


def today():
    return timezone.localdate()


def login_url(next_url):
    return f"{reverse('login')}?next={quote(next_url)}"


def error_next_to(html, field, message):
    """True when `message` is rendered inside the wrapper of `field` (before the next field starts)."""
    start = html.index(f'name="{field}"')
    end = html.find('<div class="field', start)
    chunk = html[start:] if end == -1 else html[start:end]
    return f'<p class="error" role="alert">{escape(message)}</p>' in chunk


def lines_of(entry):
    return {line.account.code: (line.debit, line.credit) for line in entry.lines.select_related("account")}


def voucher(lkmm, kind, amount, account, on, cash="1101", memo="Bukti", actor=None):
    return voucher_post(
        lkmm=lkmm,
        actor=actor,
        kind=kind,
        date=on,
        amount=amount,
        memo=memo,
        account_code=account,
        cash_account_code=cash,
    )


def snapshot():
    return {
        "entries": JournalEntry.objects.count(),
        "audit": AuditLog.objects.exclude(action__in=SECURITY_ACTIONS).count(),
    }


@pytest.fixture
def march(lkmm, pengelola):
    user = pengelola.user
    voucher(lkmm, "cash_in", 300_000, "3102", D(2026, 2, 25), memo="Dana bergulir Pemkot", actor=user)
    voucher(lkmm, "cash_in", 10_000_000, "3101", D(2026, 3, 2), memo="Hibah modal Pemkot Jember", actor=user)
    voucher(lkmm, "transfer", 4_000_000, "1102", D(2026, 3, 3), memo="Setor ke bank", actor=user)
    loan = make_active_loan(
        member=MemberFactory(lkmm=lkmm, full_name="Siti Aminah"), disbursed_on=D(2026, 3, 5)
    )
    loan_services.repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 3, 12), actor=user)
    voucher(lkmm, "cash_out", 150_000, "5201", D(2026, 3, 20), memo="ATK dan fotokopi", actor=user)
    voucher(lkmm, "cash_out", 50_000, "5201", D(2026, 4, 2), memo="Konsumsi rapat", actor=user)
    return loan


# --- voucher_post --------------------------------------------------------------------------------


def test_cash_in_posts_kas_against_the_source_and_writes_an_audit_row(lkmm, pengelola):
    entry = voucher(lkmm, "cash_in", 10_000_000, "3101", D(2026, 3, 2), memo="Hibah", actor=pengelola.user)

    entry.refresh_from_db()
    assert (entry.number, entry.kind, entry.date, entry.memo) == (
        1,
        EntryKind.CASH_IN,
        D(2026, 3, 2),
        "Hibah",
    )
    assert entry.created_by == pengelola.user and entry.loan is None
    assert lines_of(entry) == {"1101": (10_000_000, 0), "3101": (0, 10_000_000)}
    audit = AuditLog.objects.get(action="voucher.cash_in")
    assert (audit.actor, audit.lkmm, audit.object_type, audit.object_id) == (
        pengelola.user,
        lkmm,
        "ledger.journalentry",
        entry.pk,
    )
    assert audit.data == {
        "number": 1,
        "date": "2026-03-02",
        "amount": 10_000_000,
        "debit": "1101",
        "credit": "3101",
    }


@pytest.mark.parametrize(
    "kind, account, cash, expected",
    [
        ("cash_in", "3102", "1102", {"1102": (500_000, 0), "3102": (0, 500_000)}),
        ("cash_in", "3101", "1101", {"1101": (500_000, 0), "3101": (0, 500_000)}),
        ("cash_out", "5201", "1101", {"5201": (500_000, 0), "1101": (0, 500_000)}),
        ("transfer", "1102", "1101", {"1102": (500_000, 0), "1101": (0, 500_000)}),
        ("transfer", "1101", "1102", {"1101": (500_000, 0), "1102": (0, 500_000)}),
    ],
)
def test_each_kind_of_voucher_posts_its_lines(lkmm, kind, account, cash, expected):
    voucher(lkmm, "cash_in", 1_000_000, "3101", D(2026, 3, 1), cash="1101")
    voucher(lkmm, "cash_in", 1_000_000, "3101", D(2026, 3, 1), cash="1102")

    entry = voucher(lkmm, kind, 500_000, account, D(2026, 3, 2), cash=cash)

    assert entry.kind == kind
    assert lines_of(entry) == expected
    assert AuditLog.objects.filter(action=f"voucher.{kind}", object_id=entry.pk).count() == 1


REFUSALS = [
    ({"amount": 0}, "amount", "Jumlah harus lebih dari nol."),
    ({"amount": -5}, "amount", "Jumlah harus lebih dari nol."),
    ({"date": "tomorrow"}, "date", "Tanggal tidak boleh di masa depan."),
    ({"memo": "  "}, "memo", "Tulis keterangan: untuk apa atau dari siapa uang ini."),
    ({"cash_account_code": "1201"}, "cash_account_code", "Pilih kas atau bank."),
    (
        {"account_code": "5201"},
        "account_code",
        "Akun 5201 tidak dapat dipakai untuk kas masuk. Pilih salah satu: 3101 Modal hibah Pemkot, "
        "3102 Dana bergulir.",
    ),
    (
        {"kind": "cash_out", "account_code": "1201"},
        "account_code",
        "Akun 1201 tidak dapat dipakai untuk kas keluar. Pilih salah satu: 5201 Beban operasional.",
    ),
    (
        {"kind": "cash_out", "account_code": "3101"},
        "account_code",
        "Akun 3101 tidak dapat dipakai untuk kas keluar. Pilih salah satu: 5201 Beban operasional.",
    ),
    (
        {"kind": "transfer", "account_code": "3101"},
        "account_code",
        "Akun 3101 tidak dapat dipakai untuk pemindahbukuan. Pilih salah satu: 1101 Kas, 1102 Bank.",
    ),
    (
        {"kind": "transfer", "account_code": "1101"},
        "account_code",
        "Rekening tujuan harus berbeda dari rekening asal.",
    ),
    ({"kind": "opening"}, "kind", "Jenis bukti tidak dikenal."),
]


@pytest.mark.parametrize("change, field, message", REFUSALS)
def test_voucher_refusals_name_the_field_and_write_nothing(lkmm, pengelola, change, field, message):
    voucher(lkmm, "cash_in", 1_000_000, "3101", D(2026, 3, 1))
    before = snapshot()
    args = {
        "lkmm": lkmm,
        "actor": pengelola.user,
        "kind": "cash_in",
        "date": D(2026, 3, 2),
        "amount": 100_000,
        "memo": "Bukti",
        "account_code": "3101",
        "cash_account_code": "1101",
        **change,
    }
    if args["date"] == "tomorrow":
        args["date"] = today() + days(1)

    with pytest.raises(ValidationError) as exc:
        voucher_post(**args)

    assert exc.value.message_dict[field] == [message]
    assert snapshot() == before


def test_cash_out_may_not_exceed_the_cash_balance_at_its_date(lkmm):
    voucher(lkmm, "cash_in", 500_000, "3101", D(2026, 3, 1))
    voucher(lkmm, "cash_in", 900_000, "3101", D(2026, 3, 10))  # comes later: cannot pay on 05/03
    before = snapshot()

    with pytest.raises(ValidationError) as exc:
        voucher(lkmm, "cash_out", 500_001, "5201", D(2026, 3, 5))

    assert exc.value.message_dict["amount"] == ["Melebihi saldo. Saldo kas per 05/03/2026: Rp 500.000."]
    assert snapshot() == before
    entry = voucher(lkmm, "cash_out", 500_000, "5201", D(2026, 3, 5))  # exactly the balance is fine
    assert lines_of(entry) == {"5201": (500_000, 0), "1101": (0, 500_000)}


def test_a_back_dated_cash_out_may_not_turn_a_later_balance_negative(lkmm):
    voucher(lkmm, "cash_in", 500_000, "3101", D(2026, 3, 1))
    voucher(lkmm, "cash_out", 400_000, "5201", D(2026, 3, 8))  # kas 100.000 from 08/03 on

    with pytest.raises(ValidationError) as exc:
        voucher(lkmm, "cash_out", 100_001, "5201", D(2026, 3, 5))  # 500.000 on 05/03 itself

    assert exc.value.message_dict["amount"] == ["Melebihi saldo. Saldo kas per 08/03/2026: Rp 100.000."]
    voucher(lkmm, "cash_out", 100_000, "5201", D(2026, 3, 5))
    assert selectors.cash_balance(lkmm=lkmm, code="1101", at=today()) == 0


def test_transfers_check_the_paying_account_and_name_it(lkmm):
    voucher(lkmm, "cash_in", 300_000, "3101", D(2026, 3, 1), cash="1102")

    with pytest.raises(ValidationError) as exc:
        voucher(lkmm, "transfer", 300_001, "1101", D(2026, 3, 2), cash="1102")

    assert exc.value.message_dict["amount"] == ["Melebihi saldo. Saldo bank per 02/03/2026: Rp 300.000."]
    with pytest.raises(ValidationError) as exc:
        voucher(lkmm, "transfer", 1, "1102", D(2026, 3, 2), cash="1101")  # kas is empty
    assert exc.value.message_dict["amount"] == ["Melebihi saldo. Saldo kas per 02/03/2026: Rp 0."]


def test_loan_disbursements_count_in_the_cash_balance(lkmm, march):
    # Kas on 20/03 after the month's events: 5.074.154 (see the module docstring).
    with pytest.raises(ValidationError) as exc:
        voucher(lkmm, "cash_out", 5_100_000, "5201", D(2026, 3, 25))

    assert exc.value.message_dict["amount"] == ["Melebihi saldo. Saldo kas per 02/04/2026: Rp 5.024.154."]


def test_the_same_token_records_one_voucher(lkmm):
    token = uuid.uuid4()
    args = {
        "lkmm": lkmm,
        "actor": None,
        "kind": "cash_in",
        "date": D(2026, 3, 2),
        "amount": 100_000,
        "memo": "Hibah",
        "account_code": "3101",
        "token": token,
    }

    first = voucher_post(**args)
    again = voucher_post(**args)

    assert again == first
    assert JournalEntry.objects.filter(lkmm=lkmm).count() == 1
    assert AuditLog.objects.filter(action="voucher.cash_in").count() == 1


def test_a_token_of_another_lkmm_is_refused(lkmm, other_lkmm):
    token = uuid.uuid4()
    voucher_post(
        lkmm=other_lkmm,
        actor=None,
        kind="cash_in",
        date=D(2026, 3, 2),
        amount=1,
        memo="x",
        account_code="3101",
        token=token,
    )

    with pytest.raises(ValidationError):
        voucher_post(
            lkmm=lkmm,
            actor=None,
            kind="cash_in",
            date=D(2026, 3, 2),
            amount=1,
            memo="x",
            account_code="3101",
            token=token,
        )
    assert JournalEntry.objects.filter(lkmm=lkmm).count() == 0


def test_journal_numbers_continue_across_vouchers_and_loan_events(lkmm, march):
    assert list(JournalEntry.objects.filter(lkmm=lkmm).order_by("number").values_list("number", "kind")) == [
        (1, "cash_in"),
        (2, "cash_in"),
        (3, "transfer"),
        (4, "disbursement"),
        (5, "repayment"),
        (6, "cash_out"),
        (7, "cash_out"),
    ]


# --- voucher page --------------------------------------------------------------------------------


def voucher_url(code="semenggu", kind=None):
    url = reverse("ledger:voucher_create", args=[code])
    return f"{url}?kind={kind}" if kind else url


def form_data(**overrides):
    return {
        "date": "2026-03-02",
        "cash_account_code": "1101",
        "account_code": "3101",
        "amount": "10.000.000",
        "memo": "Hibah modal Pemkot Jember",
        "token": str(uuid.uuid4()),
        **overrides,
    }


def test_voucher_page_shows_the_kinds_the_balances_and_a_fresh_token(pengelola_client, lkmm):
    voucher(lkmm, "cash_in", 750_000, "3101", today() - days(3))

    response = pengelola_client.get(voucher_url(kind="cash_out"))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["token"]
    # Savings are owed to named members: they go through the savings pages, never a voucher.
    assert [code for code, _ in form.fields["account_code"].choices] == ["5201"]
    assert [code for code, _ in form.fields["cash_account_code"].choices] == ["1101", "1102"]
    assert form.fields["account_code"].label == "Untuk"
    html = response.content.decode()
    assert 'href="?kind=cash_in"' in html and 'href="?kind=transfer"' in html
    assert f"Saldo Kas per {today():%d/%m/%Y}" in html and "Rp 750.000" in html
    assert "5201 Beban operasional" in html


def test_recording_a_cash_in_on_the_page(pengelola_client, pengelola, lkmm):
    response = pengelola_client.post(voucher_url(kind="cash_in"), form_data())

    entry = JournalEntry.objects.get(lkmm=lkmm)
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:entry_detail", args=["semenggu", entry.number])
    entry.refresh_from_db()
    assert (entry.kind, entry.date, entry.memo, entry.created_by) == (
        "cash_in",
        D(2026, 3, 2),
        "Hibah modal Pemkot Jember",
        pengelola.user,
    )
    assert lines_of(entry) == {"1101": (10_000_000, 0), "3101": (0, 10_000_000)}
    assert AuditLog.objects.filter(action="voucher.cash_in", object_id=entry.pk).exists()
    page = pengelola_client.get(response["Location"])
    assert "Kas masuk J-00001 dicatat." in [str(m) for m in page.context["messages"]]
    assert "BUKTI KAS MASUK" in page.content.decode()


def test_a_ketua_records_a_transfer(ketua_client, lkmm):
    voucher(lkmm, "cash_in", 2_000_000, "3101", D(2026, 3, 1))

    response = ketua_client.post(
        voucher_url(kind="transfer"), form_data(account_code="1102", amount="1.500.000", memo="Setor ke BRI")
    )

    assert response.status_code == 302
    entry = JournalEntry.objects.get(lkmm=lkmm, number=2)
    assert entry.kind == "transfer"
    assert lines_of(entry) == {"1102": (1_500_000, 0), "1101": (0, 1_500_000)}


def test_resubmitting_the_voucher_form_records_one_voucher(pengelola_client, lkmm):
    data = form_data()

    first = pengelola_client.post(voucher_url(), data)
    second = pengelola_client.post(voucher_url(), data)

    assert first["Location"] == second["Location"]
    assert JournalEntry.objects.filter(lkmm=lkmm).count() == 1


@pytest.mark.parametrize(
    "kind, data, field, message",
    [
        (
            "cash_out",
            {"account_code": "5201", "amount": "250.001"},
            "amount",
            "Melebihi saldo. Saldo kas per 02/03/2026: Rp 250.000.",
        ),
        ("cash_in", {"amount": "0"}, "amount", "Jumlah harus lebih dari nol."),
        (
            "cash_in",
            {"amount": "sepuluh"},
            "amount",
            "Tulis jumlah dalam rupiah tanpa sen, misalnya 1.250.000.",
        ),
        ("cash_in", {"date": "2999-01-01"}, "date", "Tanggal ini tidak boleh di masa depan."),
        (
            "cash_in",
            {"account_code": "1201"},
            "account_code",
            "Akun 1201 tidak dapat dipakai untuk kas masuk. Pilih salah satu: 3101 Modal hibah Pemkot, "
            "3102 Dana bergulir.",
        ),
        (
            "transfer",
            {"account_code": "1101"},
            "account_code",
            "Rekening tujuan harus berbeda dari rekening asal.",
        ),
        ("cash_in", {"cash_account_code": "3101"}, "cash_account_code", "Pilih kas atau bank."),
        ("cash_in", {"memo": ""}, "memo", "Bidang ini tidak boleh kosong."),
    ],
)
def test_bad_voucher_input_is_shown_next_to_the_field(pengelola_client, lkmm, kind, data, field, message):
    voucher(lkmm, "cash_in", 250_000, "3101", D(2026, 3, 1))
    before = snapshot()

    response = pengelola_client.post(voucher_url(kind=kind), form_data(**data))

    assert response.status_code == 200
    assert error_next_to(response.content.decode(), field, message), response.context["form"].errors
    assert snapshot() == before


def test_unknown_voucher_kind_is_not_found(pengelola_client, lkmm):
    assert pengelola_client.get(voucher_url(kind="opening")).status_code == 404


def test_dinas_may_not_record_vouchers(dinas_client, lkmm):
    before = snapshot()

    assert dinas_client.get(voucher_url()).status_code == 403
    assert dinas_client.post(voucher_url(), form_data()).status_code == 403
    assert snapshot() == before


def test_vouchers_of_another_lkmm_are_not_found(pengelola_client, lkmm, other_lkmm):
    before = snapshot()

    assert pengelola_client.get(voucher_url("wonosari")).status_code == 404
    assert pengelola_client.post(voucher_url("wonosari"), form_data()).status_code == 404
    assert snapshot() == before


def test_anonymous_voucher_page_sends_to_login(client, lkmm):
    response = client.post(voucher_url(), form_data())

    assert response.status_code == 302
    assert response["Location"] == login_url(voucher_url())
    assert JournalEntry.objects.count() == 0


# --- entry page (bukti) --------------------------------------------------------------------------


def entry_url(number, code="semenggu"):
    return reverse("ledger:entry_detail", args=[code, number])


@pytest.mark.parametrize(
    "number, title, texts",
    [
        (2, "BUKTI KAS MASUK", ["Hibah modal Pemkot Jember", "Rp 10.000.000", "3101 Modal hibah Pemkot"]),
        (3, "BUKTI PEMINDAHBUKUAN", ["Setor ke bank", "Rp 4.000.000", "1102 Bank"]),
        (6, "BUKTI KAS KELUAR", ["ATK dan fotokopi", "Rp 150.000", "5201 Beban operasional"]),
        (
            5,
            "BUKTI JURNAL",
            ["Angsuran P-00001 Siti Aminah, K-000001", "Rp 124.154", "4101 Pendapatan bunga"],
        ),
    ],
)
def test_entry_page_is_a_printable_bukti(pengelola_client, march, number, title, texts):
    response = pengelola_client.get(entry_url(number))

    assert response.status_code == 200
    assert response.context["entry"].number == number
    html = response.content.decode()
    assert title in html and f"J-{number:05d}" in html
    assert all(text in html for text in texts)


def test_dinas_reads_an_entry_but_staff_of_another_lkmm_do_not(dinas_client, march, other_lkmm):
    assert dinas_client.get(entry_url(2)).status_code == 200
    assert dinas_client.get(entry_url(99)).status_code == 404
    assert dinas_client.get(entry_url(1, "wonosari")).status_code == 404


def test_entry_page_of_another_lkmm_is_not_found(client, lkmm, other_lkmm):
    from tests.conftest import _login
    from tests.factories import StaffFactory

    voucher(lkmm, "cash_in", 1_000, "3101", D(2026, 3, 1))
    _login(client, StaffFactory(user__username="pengelola.wonosari", lkmm=other_lkmm))

    assert client.get(entry_url(1)).status_code == 404


def test_anonymous_entry_page_sends_to_login(client, march):
    response = client.get(entry_url(1))

    assert response["Location"] == login_url(entry_url(1))


# --- cash book -----------------------------------------------------------------------------------


def book_url(code="semenggu", **params):
    url = reverse("ledger:cash_book", args=[code])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_cash_book_of_march_with_its_running_balance(pengelola_client, march):
    response = pengelola_client.get(book_url(start="2026-03-01", end="2026-03-31"))

    assert response.status_code == 200
    book = response.context["book"]
    assert (book.account.code, book.start, book.end, book.opening) == (
        "1101",
        D(2026, 3, 1),
        D(2026, 3, 31),
        300_000,
    )
    assert [(line.entry.number, line.debit, line.credit, line.balance) for line in book.rows] == [
        (2, 10_000_000, 0, 10_300_000),
        (3, 0, 4_000_000, 6_300_000),
        (4, 0, 1_200_000, 5_100_000),
        (5, 124_154, 0, 5_224_154),
        (6, 0, 150_000, 5_074_154),
    ]
    assert (book.debit_total, book.credit_total, book.closing) == (10_124_154, 5_350_000, 5_074_154)
    assert [[a.code for a in line.counter_accounts] for line in book.rows] == [
        ["3101"],
        ["1102"],
        ["1201"],
        ["1201", "4101"],
        ["5201"],
    ]
    html = response.content.decode()
    assert "Rp 5.224.154" in html and "Rp 10.124.154" in html and "Rp 5.350.000" in html
    assert "Angsuran P-00001 Siti Aminah, K-000001" in html and "Pendapatan bunga (jasa) pinjaman" in html
    assert "02/03/2026" in html and "Konsumsi rapat" not in html  # 02/04 is outside the range
    assert f'href="{entry_url(4)}"' in html


def test_bank_book(pengelola_client, march):
    response = pengelola_client.get(book_url(account="1102", start="2026-03-01", end="2026-04-30"))

    book = response.context["book"]
    assert book.account.code == "1102"
    assert [(line.entry.number, line.debit, line.balance) for line in book.rows] == [
        (3, 4_000_000, 4_000_000)
    ]
    assert (book.opening, book.closing) == (0, 4_000_000)
    assert "Buku bank" in response.content.decode()


def test_the_closing_balance_carries_into_the_next_period(pengelola_client, march):
    response = pengelola_client.get(book_url(start="2026-04-01", end="2026-04-30"))

    book = response.context["book"]
    assert book.opening == 5_074_154
    assert [(line.entry.number, line.credit, line.balance) for line in book.rows] == [(7, 50_000, 5_024_154)]
    assert book.closing == 5_024_154


def test_cash_book_defaults_to_this_month(pengelola_client, lkmm):
    voucher(lkmm, "cash_in", 1_000_000, "3101", today() - days(40))  # always before the 1st
    voucher(lkmm, "cash_out", 100_000, "5201", today())

    response = pengelola_client.get(book_url())

    book = response.context["book"]
    assert (book.start, book.end) == (today().replace(day=1), today())
    assert book.opening == 1_000_000
    assert [(line.credit, line.balance) for line in book.rows] == [(100_000, 900_000)]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"start": "2026-03-10", "end": "2026-03-01"}, "Tanggal akhir tidak boleh sebelum tanggal awal."),
        (
            {"account": "1201"},
            "Masukkan pilihan yang valid. 1201 bukan salah satu dari pilihan yang tersedia.",
        ),
        ({"start": "kemarin"}, "Masukkan tanggal yang valid."),
    ],
)
def test_bad_cash_book_filters_show_an_error_and_this_month(pengelola_client, lkmm, params, message):
    response = pengelola_client.get(book_url(**params))

    assert response.status_code == 200
    book = response.context["book"]
    assert (book.account.code, book.start, book.end) == ("1101", today().replace(day=1), today())
    assert escape(message) in response.content.decode()


def test_empty_cash_book(pengelola_client, lkmm):
    response = pengelola_client.get(book_url())

    assert response.context["book"].closing == 0
    assert "Tidak ada transaksi pada periode ini." in response.content.decode()


@pytest.mark.parametrize("code", ["semenggu", "wonosari"])
def test_dinas_reads_every_cash_book(dinas_client, march, other_lkmm, code):
    voucher(other_lkmm, "cash_in", 777_000, "3102", D(2026, 3, 3))

    response = dinas_client.get(book_url(code, start="2026-03-01", end="2026-03-31"))

    assert response.status_code == 200
    expected = {"semenggu": 5_074_154, "wonosari": 777_000}[code]
    assert response.context["book"].closing == expected
    assert "Bukti kas" not in response.content.decode()  # Dinas does not record


def test_cash_book_of_another_lkmm_is_not_found(pengelola_client, lkmm, other_lkmm):
    assert pengelola_client.get(book_url("wonosari")).status_code == 404


def test_anonymous_cash_book_sends_to_login(client, lkmm):
    assert client.get(book_url())["Location"] == login_url(book_url())


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_cash_book_query_count_does_not_grow_with_entries(
    pengelola_client, pengelola, lkmm, django_assert_max_num_queries
):
    voucher(lkmm, "cash_in", 5_000_000, "3101", today())
    url = book_url(start=today().isoformat(), end=today().isoformat())
    baseline = _count(pengelola_client, url)
    loan = make_active_loan(member=MemberFactory(lkmm=lkmm), disbursed_on=today())
    for _ in range(10):
        voucher(lkmm, "cash_out", 1_000, "5201", today())
    loan_services.repayment_record(loan=loan, amount=10_000, paid_on=today(), actor=pengelola.user)

    # session, user, staff, LKMM, account, opening balance, lines with their entries, the entries' other
    # lines with their accounts, and the staff's LKMM for the page header (base.html)
    with django_assert_max_num_queries(baseline):
        response = pengelola_client.get(url)

    assert baseline <= 9
    assert len(response.context["book"].rows) == 13


# --- trial balance at a date ---------------------------------------------------------------------


def tb_url(code="semenggu", **params):
    url = reverse("ledger:trial_balance", args=[code])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def balances(response):
    return {a.code: (a.debit_total, a.credit_total, a.balance) for a in response.context["accounts"]}


def test_trial_balance_as_of_a_date(pengelola_client, march):
    response = pengelola_client.get(tb_url(at="2026-03-04"))

    assert response.context["at"] == D(2026, 3, 4)
    rows = balances(response)
    assert rows["1101"] == (10_300_000, 4_000_000, 6_300_000)
    assert rows["1102"] == (4_000_000, 0, 4_000_000)
    assert rows["3101"] == (0, 10_000_000, 10_000_000)
    assert rows["3102"] == (0, 300_000, 300_000)
    assert rows["1201"] == (0, 0, 0)
    assert response.context["debit_sum"] == response.context["credit_sum"] == 14_300_000
    assert [e.number for e in response.context["entries"]] == [3, 2, 1]
    assert "Per 04/03/2026" in response.content.decode()


def test_trial_balance_defaults_to_today(pengelola_client, march):
    response = pengelola_client.get(tb_url())

    assert response.context["at"] == today()
    rows = balances(response)
    assert rows["1101"] == (10_424_154, 5_400_000, 5_024_154)
    assert rows["5201"] == (200_000, 0, 200_000)
    assert rows["1201"] == (1_200_000, 120_000, 1_080_000)
    assert len(response.context["entries"]) == 7


def test_a_bad_date_shows_an_error_and_today(pengelola_client, march):
    response = pengelola_client.get(tb_url(at="31-31-2026"))

    assert response.status_code == 200
    assert response.context["at"] == today()
    assert "Masukkan tanggal yang valid." in response.content.decode()


def test_trial_balance_links_to_the_books_and_the_voucher_page(pengelola_client, march):
    html = pengelola_client.get(tb_url(at="2026-03-04")).content.decode()

    assert f'href="{book_url()}"' in html
    assert f'href="{book_url()}?account=1102"' in html
    assert f'href="{voucher_url()}"' in html
    assert f'href="{book_url()}?account=1101&amp;start=2026-03-01&amp;end=2026-03-04"' in html
    assert f'href="{entry_url(3)}"' in html


def test_dinas_trial_balance_has_no_voucher_link(dinas_client, march):
    html = dinas_client.get(tb_url()).content.decode()

    assert f'href="{book_url()}"' in html
    assert voucher_url() not in html


def test_trial_balance_query_count_with_a_date(pengelola_client, lkmm, march, django_assert_max_num_queries):
    baseline = _count(pengelola_client, tb_url(at="2026-03-04"))

    # session, user, staff, LKMM, balances, accounts, the staff's LKMM (base.html), entries, their lines,
    # the lines' accounts
    with django_assert_max_num_queries(baseline):
        pengelola_client.get(tb_url())

    assert baseline <= 10
