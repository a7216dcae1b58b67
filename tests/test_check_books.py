"""`manage.py check_books`: clean books pass; each kind of corruption is printed and exits with 1.

Corruption goes around the services. On PostgreSQL the ledger's own rows cannot be updated (migration
ledger 0004), so the books side is corrupted by adding rows through the ORM (the balance trigger only
fires at commit, and these tests never commit), and the loans side by `.update()`.
"""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Max

from ledger.checks import _ranges, _sequence_problems
from ledger.models import Account, JournalEntry, JournalLine
from ledger.services import entry_post, voucher_post
from loans import services as loan_services
from loans.models import Allocation, Loan, Repayment
from tests.factories import MemberFactory, make_active_loan

D = datetime.date


@pytest.fixture
def books(lkmm, pengelola):
    """Semenggu: a grant, a loan of Rp 1.200.000 with two installments paid, and an expense."""
    voucher_post(
        lkmm=lkmm,
        actor=pengelola.user,
        kind="cash_in",
        date=D(2026, 2, 1),
        amount=5_000_000,
        memo="Hibah",
        account_code="3101",
    )
    loan = make_active_loan(member=MemberFactory(lkmm=lkmm), disbursed_on=D(2026, 3, 1))
    for paid_on in (D(2026, 3, 8), D(2026, 3, 15)):
        loan_services.repayment_record(loan=loan, amount=124_154, paid_on=paid_on, actor=pengelola.user)
    voucher_post(
        lkmm=lkmm,
        actor=pengelola.user,
        kind="cash_out",
        date=D(2026, 3, 20),
        amount=75_000,
        memo="ATK",
        account_code="5201",
    )
    return loan


def check(*args):
    """Run the command; return (exit status, output)."""
    out = StringIO()
    try:
        call_command("check_books", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def next_number(lkmm):
    return (JournalEntry.objects.filter(lkmm=lkmm).aggregate(n=Max("number"))["n"] or 0) + 1


@pytest.fixture
def raw_entry():
    """Writes an entry straight through the ORM, as a bug or a hand-edit might.

    On PostgreSQL an unbalanced entry fails when its transaction commits; these tests never commit, but
    Django ends each test with SET CONSTRAINTS ALL IMMEDIATE (its deferred foreign-key check), which
    would fire the balance trigger too. Marking the transaction for rollback skips that check: the rows
    are discarded either way.
    """

    def write(lkmm, lines, number=None, loan=None):
        entry = JournalEntry.objects.create(
            lkmm=lkmm,
            number=number or next_number(lkmm),
            date=D(2026, 3, 21),
            memo="Ditulis langsung",
            kind="cash_in",
            loan=loan,
        )
        for code, debit, credit in lines:
            JournalLine.objects.create(
                entry=entry, account=Account.objects.get(lkmm=lkmm, code=code), debit=debit, credit=credit
            )
        return entry

    yield write
    transaction.set_rollback(True)


def test_clean_books_pass(books, other_lkmm):
    make_active_loan(member=MemberFactory(lkmm=other_lkmm), disbursed_on=D(2026, 3, 1))

    status, output = check()

    assert status == 0
    assert output.strip().splitlines() == ["OK: 2 LKMM(s), 6 journal entries checked, no discrepancies."]
    assert check("--lkmm", "semenggu") == (0, "OK: 1 LKMM(s), 5 journal entries checked, no discrepancies.\n")


def test_empty_books_pass(lkmm):
    assert check()[0] == 0


def test_an_entry_with_one_line_is_reported(books, lkmm, raw_entry):
    entry = raw_entry(lkmm, [("1101", 100, 0)])

    status, output = check()

    assert status == 1
    assert f"[semenggu] J-{entry.number:05d} does not balance: 1 line(s), debit Rp 100, credit Rp 0" in output
    # A line written past entry_post also leaves the account's kept balance behind its lines.
    assert "[semenggu] account 1101: kept balance" in output
    # ... and the kept net kas movement of its day (ledger.CashDay) behind the day's kas lines.
    assert f"[semenggu] kas moved on {entry.date:%d/%m/%Y}: kept 0, lines 100" in output
    assert "3 discrepancies in the books." in output


def test_an_unbalanced_entry_is_reported(books, lkmm, raw_entry):
    entry = raw_entry(lkmm, [("5201", 100_000, 0), ("1101", 0, 90_000)])

    status, output = check("--lkmm", "semenggu")

    assert status == 1
    assert f"J-{entry.number:05d} does not balance: 2 line(s), debit Rp 100.000, credit Rp 90.000" in output


def test_an_entry_without_lines_is_reported(books, lkmm, raw_entry):
    entry = raw_entry(lkmm, [])

    status, output = check()

    assert status == 1
    assert f"J-{entry.number:05d} does not balance: 0 line(s), debit Rp 0, credit Rp 0" in output


def test_a_line_on_another_lkmms_account_is_reported(books, lkmm, other_lkmm, raw_entry):
    entry = raw_entry(lkmm, [("1101", 500, 0)])
    JournalLine.objects.create(
        entry=entry, account=Account.objects.get(lkmm=other_lkmm, code="3101"), credit=500
    )

    status, output = check()

    assert status == 1
    assert f"[semenggu] J-{entry.number:05d} uses account 3101 of another LKMM (wonosari)" in output


def test_a_receivable_that_differs_from_the_schedule_is_reported(books):
    # The schedule side says Rp 1.300.000 was lent; the books say Rp 1.200.000. Paid: 2 x 120.000.
    Loan.objects.filter(pk=books.pk).update(principal=1_300_000)

    status, output = check()

    assert status == 1
    assert (
        "[semenggu] P-00001 (aktif): receivable in the books Rp 960.000, "
        "outstanding principal from the schedule Rp 1.060.000"
    ) in output


def test_allocations_that_differ_from_the_books_are_reported(books):
    # Principal moved to interest on the schedule side: the payment still adds up, the receivable not.
    allocation = Allocation.objects.filter(repayment__loan=books).order_by("pk").first()
    Allocation.objects.filter(pk=allocation.pk).update(principal=100_000, interest=24_154)

    status, output = check()

    assert status == 1
    assert "receivable in the books Rp 960.000, outstanding principal from the schedule Rp 980.000" in output
    assert "K-000001" not in output


def test_a_receivable_on_a_loan_that_was_never_disbursed_is_reported(books):
    Loan.objects.filter(pk=books.pk).update(status="dibatalkan")

    status, output = check()

    assert status == 1
    assert (
        "P-00001 (dibatalkan): receivable in the books Rp 960.000, "
        "outstanding principal from the schedule Rp 0"
    ) in output


def test_a_receivable_without_a_loan_is_reported(books, lkmm):
    entry = entry_post(
        lkmm=lkmm,
        date=D(2026, 3, 22),
        memo="Piutang tanpa pinjaman",
        kind="opening",
        lines=[("1201", 50_000, 0), ("1101", 0, 50_000)],
    )

    status, output = check()

    assert status == 1
    assert f"[semenggu] J-{entry.number:05d} posts to the loans receivable (1201) without a loan" in output


def test_an_entry_on_another_lkmms_loan_is_reported(books, lkmm, other_lkmm, raw_entry):
    entry = raw_entry(other_lkmm, [("5201", 1, 0), ("1101", 0, 1)], loan=books)

    status, output = check()

    assert status == 1
    assert f"[wonosari] J-{entry.number:05d} belongs to a loan of another LKMM" in output


def test_a_payment_that_differs_from_its_allocations_is_reported(books):
    payment = Repayment.objects.get(loan=books, receipt_no=2)
    Repayment.objects.filter(pk=payment.pk).update(amount=124_155)

    status, output = check()

    assert status == 1
    assert "[semenggu] K-000002: amount Rp 124.155, allocated Rp 124.154" in output


def test_a_gap_in_receipt_numbers_is_reported(books):
    Repayment.objects.filter(loan=books, receipt_no=2).update(receipt_no=4)

    status, output = check()

    assert status == 1
    assert "[semenggu] receipt numbers missing: 2-3" in output


def test_a_gap_in_journal_numbers_is_reported(books, lkmm, raw_entry):
    raw_entry(lkmm, [("5201", 1_000, 0), ("1101", 0, 1_000)], number=next_number(lkmm) + 2)

    status, output = check()

    assert status == 1
    assert output.splitlines()[0] == "[semenggu] journal entry numbers missing: 6-7"


def test_every_discrepancy_is_printed(books, lkmm, raw_entry):
    raw_entry(lkmm, [("1101", 100, 0)], number=next_number(lkmm) + 1)
    Repayment.objects.filter(loan=books, receipt_no=2).update(amount=1)

    status, output = check()

    assert status == 1
    assert "does not balance" in output
    assert "K-000002: amount Rp 1, allocated Rp 124.154" in output
    assert "journal entry numbers missing: 6" in output
    # The kept standing still holds what the payment paid before it was tampered with.
    assert "P-00001: kept standing differs from the facts: principal_outstanding_derived" in output
    assert "account 1101: kept balance" in output
    assert "kas moved on" in output
    assert "6 discrepancies in the books." in output


def test_one_lkmm_is_checked_alone(books, lkmm, other_lkmm, raw_entry):
    raw_entry(other_lkmm, [("1101", 100, 0)])

    assert check("--lkmm", "semenggu")[0] == 0
    status, output = check("--lkmm", "wonosari")
    assert status == 1 and "[wonosari] J-00001 does not balance" in output
    assert check()[0] == 1


def test_an_unknown_lkmm_is_an_error(lkmm):
    with pytest.raises(CommandError, match="Unknown LKMM: tidak-ada"):
        call_command("check_books", "--lkmm", "tidak-ada")


def test_the_shell_sees_exit_status_1(books, lkmm, monkeypatch, capsys, raw_entry):
    from django.core.management import base

    from ledger.management.commands.check_books import Command

    # run_from_argv closes the connections when it ends: keep the test's transaction open.
    monkeypatch.setattr(base.connections, "close_all", lambda: None)
    raw_entry(lkmm, [("1101", 100, 0)])

    with pytest.raises(SystemExit) as exc:
        Command().run_from_argv(["manage.py", "check_books", "--lkmm", "semenggu"])

    assert exc.value.code == 1
    captured = capsys.readouterr()
    assert "does not balance" in captured.out
    assert "CommandError: 3 discrepancies in the books." in captured.err


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([("a", 1), ("a", 2), ("a", 3)], []),
        ([("a", 2), ("a", 3)], ["[a] numbers missing: 1"]),
        (
            [("a", 1), ("a", 2), ("a", 2), ("a", 5), ("b", 1)],
            ["[a] numbers missing: 3-4", "[a] numbers repeated: 2"],
        ),
    ],
)
def test_sequence_problems(rows, expected):
    assert list(_sequence_problems(rows, "numbers")) == expected


def test_ranges_are_compressed_and_capped():
    assert _ranges([9, 3, 4, 5, 12, 13]) == "3-5, 9, 12-13"
    assert _ranges(range(1, 100, 2)).endswith("39 (and 30 more)")


def test_a_stored_month_that_differs_from_the_books_is_reported(books, lkmm):
    from ledger.models import MonthFigures
    from risk.selectors import month_figures
    from risk.services import month_close
    from tests.factories import ketua_of

    month_figures(lkmms=[lkmm], month=D(2026, 3, 1))
    month_figures(lkmms=[lkmm], month=D(2026, 4, 1))
    assert check()[0] == 0
    march = MonthFigures.objects.get(lkmm=lkmm, month=D(2026, 3, 1))
    MonthFigures.objects.filter(pk=march.pk).update(outstanding=march.outstanding + 1)
    status, output = check()
    assert status != 0
    books_said = f"stored outstanding {march.outstanding + 1}, the books {march.outstanding}"
    assert f"[{lkmm.code}] 03/2026 {books_said}" in output
    # A closed month's row is compared with what its close reported.
    MonthFigures.objects.filter(pk=march.pk).update(outstanding=march.outstanding)
    month_close(lkmm=lkmm, actor=ketua_of(lkmm), month=D(2026, 3, 1))
    assert check()[0] == 0
    MonthFigures.objects.filter(pk=march.pk).update(npl=march.npl + 5)
    status, output = check()
    assert f"[{lkmm.code}] 03/2026 stored npl {march.npl + 5}, its close {march.npl}" in output
