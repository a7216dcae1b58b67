"""manage.py print_figures: the arithmetic engine's regression oracle, always computed."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from ledger.models import PeriodClose
from loans.services import repayment_record
from risk.services import month_close
from tests.factories import LoanProductFactory, MemberFactory, ketua_of, make_active_loan

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def book(lkmm, other_lkmm):
    """lkm-2015 (weekly: L <= 28 days past due, D 29-56 at 50% with KSP weight 75%). Two Rp1.200.000 loans
    at 1,5% flat over 10 weeks (Rp124.154 a week) disbursed 01/01/2026, first due 08/01:
    - P-00001, late fee Rp2.500, paid its first installment on 08/01 and nothing since;
    - P-00002 paid off (Rp1.241.540) on 05/01.
    Wonosari has no loans."""
    late = make_active_loan(
        member=MemberFactory(lkmm=lkmm), product=LoanProductFactory(lkmm=lkmm, late_fee=2_500)
    )
    repayment_record(loan=late, amount=124_154, paid_on=D(2026, 1, 8), actor=None)
    paid = make_active_loan(member=MemberFactory(lkmm=lkmm), product=LoanProductFactory(lkmm=lkmm))
    repayment_record(loan=paid, amount=1_241_540, paid_on=D(2026, 1, 5), actor=None)
    return late, paid


def run(*args):
    out = io.StringIO()
    call_command("print_figures", *args, stdout=out)
    return out.getvalue()


def section(output, heading):
    """The lines under `heading`, up to the next heading."""
    lines = output.splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    return lines[start:end]


def test_every_lkmm_at_every_month_end_since_its_first_loan_and_today(book):
    output = run("--today", "2026-03-10")
    assert [line for line in output.splitlines() if line.startswith("#")] == [
        "# LKMM semenggu LKMM Semenggu policy=lkm-2015",
        "## semenggu 2026-01-31 month-end",
        "## semenggu 2026-02-28 month-end",
        "## semenggu 2026-03-10 today",
        "# LKMM wonosari LKMM Wonosari policy=lkm-2015",
        "## wonosari 2026-03-10 today",
    ]
    # 28/02: installments 2-8 (15/01 to 26/02) unpaid: 7 x 124.154 overdue, 7 late fees, 44 days past due
    # (class D, 50%); the paid-off loan is out of the portfolio.
    assert section(output, "## semenggu 2026-02-28 month-end") == [
        "portfolio coverage 0.00",
        "portfolio held 0",
        "portfolio ksp_coverage 0.00",
        "portfolio ksp_problem 810000",
        "portfolio loans 1",
        "portfolio npl 1080000",
        "portfolio npl_ratio 100.00",
        "portfolio outstanding 1080000",
        "portfolio overdue 869078",
        "portfolio par1 1080000",
        "portfolio par1_ratio 100.00",
        "portfolio par30 1080000",
        "portfolio par30_ratio 100.00",
        "portfolio par90 0",
        "portfolio par90_ratio 0.00",
        "portfolio past_due_loans 1",
        "portfolio required 540000",
        "class D loans=1 outstanding=1080000 required=540000",
        "loan P-00001 status=aktif outstanding=1080000 overdue_amount=869078 overdue_fees=17500 dpd=44 "
        "class=D rate=50.00 reserve=540000",
        "loan P-00002 status=lunas outstanding=0 overdue_amount=0 overdue_fees=0 dpd=0 class=- rate=- "
        "reserve=0",
    ]
    january = section(output, "## semenggu 2026-01-31 month-end")
    assert "class L loans=1 outstanding=1080000 required=0" in january
    assert (
        "loan P-00001 status=aktif outstanding=1080000 overdue_amount=372462 overdue_fees=7500 dpd=16 "
        "class=L rate=0.00 reserve=0"
    ) in january
    today = section(output, "## semenggu 2026-03-10 today")
    assert "portfolio overdue 993232" in today
    assert "portfolio npl_ratio -" in section(output, "## wonosari 2026-03-10 today")


def test_one_lkmm_and_computed_even_for_a_closed_month(book):
    late, _paid = book
    close = month_close(lkmm=late.lkmm, actor=ketua_of(late.lkmm), month=D(2026, 1, 1))
    PeriodClose.objects.filter(pk=close.pk).update(summary={**close.summary, "required": 999})
    output = run("--lkmm", "semenggu", "--today", "2026-02-01")
    assert "wonosari" not in output
    assert "portfolio required 0" in section(output, "## semenggu 2026-01-31 month-end")
    assert run("--lkmm", "semenggu", "--today", "2026-02-01") == output  # deterministic
    with pytest.raises(CommandError, match="nowhere"):
        run("--lkmm", "nowhere")
