"""The book commands (issue 10): import_book's exit status and stderr, export_portfolio's exact form,
create_lkmm --policy, and a round trip through every kind of event (waiver, reversal, early payoff,
write-off, recovery, restructure)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from institutions.models import Lkmm
from institutions.services import lkmm_create
from ledger.checks import CHECKS
from ledger.models import AccountCode, EntryKind
from ledger.services import entry_post
from loans import services as loan_services
from loans.models import Loan
from risk import services as risk_services
from risk.models import QualityPolicy
from tests.factories import LoanProductFactory, MemberFactory, jember, ketua_of, make_active_loan
from tests.test_books_import import LOANS, MEMBERS, REPAYMENTS, write

pytestmark = pytest.mark.django_db
D = datetime.date


def run(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err, **options)
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, out.getvalue(), err.getvalue()


def test_import_book_ok_and_dry_run(tmp_path, lkmm):
    folder = write(tmp_path, members=MEMBERS, loans=LOANS, repayments=REPAYMENTS)
    code, out, _err = run("import_book", str(folder), lkmm=lkmm.code, dry_run=True)
    assert code == 0 and out.startswith("Would import 2 members, 2 loans, 4 repayments")
    assert not Loan.objects.filter(lkmm=lkmm).exists()
    code, out, _err = run("import_book", str(folder), lkmm=lkmm.code)
    assert code == 0 and out.startswith("Imported 2 members, 2 loans")
    assert Loan.objects.filter(lkmm=lkmm).count() == 2


def test_import_book_problems_on_stderr(tmp_path, lkmm):
    loans = [*LOANS, "A-3,3509011205800001,abc,flat,1.5,weekly,10,2025-02-03"]
    folder = write(tmp_path, members=MEMBERS, loans=loans, repayments=[*REPAYMENTS, "A-1,2099-01-01,5,,,"])
    code, _out, err = run("import_book", str(folder), lkmm=lkmm.code)
    assert code == 1
    lines = err.splitlines()
    assert "loans:4:principal: Bukan jumlah rupiah (tulis angka saja, misalnya 1250000)." in lines
    assert "repayments:6:paid_on: Tanggal tidak boleh di masa depan." in lines
    assert not Loan.objects.filter(lkmm=lkmm).exists()


def test_create_lkmm_policy():
    jember()  # the one Dinas, so create_lkmm needs no --dinas
    code, _out, _err = run(
        "create_lkmm",
        code="baru",
        name="LKMM Baru",
        desa="Baru",
        kecamatan="K",
        founded="2020-01-01",
        policy="bank-5",
    )
    assert code == 0 and Lkmm.objects.get(code="baru").quality_policy.code == "bank-5"
    code, _out, _err = run(
        "create_lkmm", code="lama", name="LKMM Lama", desa="Lama", kecamatan="K", founded="2020-01-01"
    )
    assert code == 0 and Lkmm.objects.get(code="lama").quality_policy.code == "lkm-2015"
    code, _out, _err = run(
        "create_lkmm", code="salah", name="X", desa="X", kecamatan="K", founded="2020-01-01", policy="nope"
    )
    assert code == 1 and not Lkmm.objects.filter(code="salah").exists()


def book_with_every_event(lkmm):
    ketua = ketua_of(lkmm)
    entry_post(
        kind=EntryKind.CASH_IN,
        lkmm=lkmm,
        date=D(2025, 12, 1),
        actor=ketua,
        memo="Hibah",
        lines=[(AccountCode.KAS, 50_000_000, 0), (AccountCode.MODAL_HIBAH, 0, 50_000_000)],
    )
    weekly = LoanProductFactory(lkmm=lkmm, late_fee=2_000, rounding_unit=100)
    early = LoanProductFactory(
        lkmm=lkmm, frequency="monthly", installment_count=6, waive_interest_on_payoff=True, rounding_unit=1000
    )
    members = [MemberFactory(lkmm=lkmm) for _ in range(6)]
    waived = make_active_loan(member=members[0], product=weekly, disbursed_on=D(2026, 1, 5))
    loan_services.repayment_record(loan=waived, amount=50_000, paid_on=D(2026, 1, 20), actor=ketua)
    loan_services.late_fees_waive(loan=waived, actor=ketua, on=D(2026, 2, 2), reason="Sakit")
    loan_services.repayment_record(loan=waived, amount=300_000, paid_on=D(2026, 2, 3), actor=ketua)
    reversed_loan = make_active_loan(member=members[1], product=weekly, disbursed_on=D(2026, 1, 5))
    wrong = loan_services.repayment_record(
        loan=reversed_loan, amount=124_200, paid_on=D(2026, 1, 12), actor=ketua
    )
    loan_services.repayment_record(loan=reversed_loan, amount=124_200, paid_on=D(2026, 1, 19), actor=ketua)
    loan_services.repayment_reverse(repayment=wrong, actor=ketua, on=D(2026, 1, 22), reason="Salah catat")
    loan_services.repayment_record(loan=reversed_loan, amount=130_000, paid_on=D(2026, 1, 26), actor=ketua)
    paid_early = make_active_loan(member=members[2], product=early, disbursed_on=D(2026, 1, 5))
    payoff = loan_services.loan_position(loan=paid_early, at=D(2026, 3, 10))["early_payoff"]
    loan_services.repayment_record(loan=paid_early, amount=payoff, paid_on=D(2026, 3, 10), actor=ketua)
    written = make_active_loan(member=members[3], product=weekly, disbursed_on=D(2026, 1, 5))
    loan_services.repayment_record(loan=written, amount=124_200, paid_on=D(2026, 1, 12), actor=ketua)
    risk_services.loan_write_off(loan=written, actor=ketua, on=D(2026, 5, 4), reason="Pindah")
    risk_services.recovery_record(loan=written, actor=ketua, amount=100_000, received_on=D(2026, 6, 1))
    old = make_active_loan(member=members[4], product=weekly, disbursed_on=D(2026, 1, 5))
    loan_services.repayment_record(loan=old, amount=124_200, paid_on=D(2026, 1, 12), actor=ketua)
    new = loan_services.loan_restructure(
        loan=old, actor=ketua, on=D(2026, 3, 2), product=early, reason="Gagal panen"
    )
    loan_services.repayment_record(loan=new, amount=200_000, paid_on=D(2026, 4, 2), actor=ketua)
    plain = make_active_loan(member=members[5], product=weekly, disbursed_on=D(2026, 6, 1))
    loan_services.repayment_record(loan=plain, amount=124_200, paid_on=D(2026, 6, 8), actor=ketua)
    risk_services.reserve_allocate(lkmm=lkmm, actor=ketua, on=D(2026, 6, 30))


def portfolio(at, code, summary=False):
    code_, out, _err = run("export_portfolio", as_of=at.isoformat(), lkmm=code, summary=summary)
    assert code_ == 0
    return [line.split(",", 1)[1] for line in out.splitlines()]


def test_round_trip_every_event(tmp_path, lkmm):
    book_with_every_event(lkmm)
    code, _out, err = run("export_book", str(tmp_path / "book.xlsx"), lkmm=lkmm.code)
    assert code == 0, err
    copy = lkmm_create(
        code="salinan",
        name="Salinan",
        desa="S",
        kecamatan="K",
        founded_on=D(2020, 1, 1),
        quality_policy=lkmm.quality_policy,
        default_rounding_unit=lkmm.default_rounding_unit,
    )
    code, _out, err = run("import_book", str(tmp_path / "book.xlsx"), lkmm=copy.code)
    assert code == 0, err
    dates = [D(2026, 1, 1) + datetime.timedelta(days=n) for n in range(0, 340, 3)]
    dates += [D(2026, 1, 21), D(2026, 1, 22), D(2026, 1, 23), D(2026, 3, 31), D(2026, 6, 30)]
    for at in dates:
        assert portfolio(at, copy.code) == portfolio(at, lkmm.code), at
        assert portfolio(at, copy.code, True) == portfolio(at, lkmm.code, True), at
    assert len(portfolio(D(2026, 6, 30), lkmm.code)) >= 4
    assert Loan.objects.get(lkmm=copy, loan_ref="P-00006").restructured_from.loan_ref == "P-00005"
    problems = [p for check in CHECKS for p in check(Lkmm.objects.filter(pk=copy.pk))]
    assert problems == []


def test_export_portfolio_form(tmp_path, lkmm):
    policy = QualityPolicy.objects.get(code="lkm-2015")
    assert lkmm.quality_policy == policy
    loan = make_active_loan(
        member=MemberFactory(lkmm=lkmm), product=LoanProductFactory(lkmm=lkmm), disbursed_on=D(2026, 1, 5)
    )
    code, out, _err = run("export_portfolio", as_of="2026-03-01", lkmm=lkmm.code)
    assert code == 0
    header, row = out.splitlines()
    assert header == (
        "lkmm,loan_ref,nik,principal,outstanding_principal,overdue_principal,overdue_interest,late_fees_due,"
        "days_past_due,class_code,reserve_rate_pct,required_reserve,restructured"
    )
    # Nothing paid; installments due 12/01 .. 23/02 (7 of 10) are overdue; 48 days past due: Diragukan.
    principal_part = 120_000
    assert row == (
        f"{lkmm.code},{loan.code},{loan.member.nik},1200000,1200000,{7 * principal_part},{7 * 4_154},0,48,D,"
        "50.00,600000,0"
    )
    assert not out.startswith("\ufeff")
    code, out, _err = run(
        "export_portfolio", as_of="2026-03-01", summary=True, output=str(tmp_path / "s.csv")
    )
    text = (tmp_path / "s.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == (
        "lkmm,loans,outstanding_principal,par1_pct,par30_pct,par90_pct,npl_pct,required_reserve,reserve_held"
    )
    assert text.splitlines()[1] == f"{lkmm.code},1,1200000,100.00,100.00,0.00,100.00,600000,0"
    assert Decimal("50.00")
