"""Bringing a book in (issue 10): the format reader, validation (one bad-file case each) and applying."""

import datetime

import pytest

from books import formats
from books.importer import validate
from books.recorder import apply
from ledger.checks import CHECKS
from loans.models import Loan, LoanStatus, Repayment
from members.models import Member

pytestmark = pytest.mark.django_db

MEMBERS = [
    "nik,full_name,gender,birth_date,joined_on,group",
    "3509011205800001,Budi Santoso,L,1980-05-12,2025-01-02,Mawar",
    "3509015205820002,Siti Aminah,P,12/05/1982,2025-01-02,Mawar",
]
LOANS = [
    "loan_ref,nik,principal,interest_method,monthly_rate_pct,frequency,installments,disbursed_on",
    'A-1,3509011205800001,1200000,flat,"1,5",weekly,10,2025-02-03',
    "A-2,3509015205820002,1.000.000,declining,2,monthly,10,2025-03-01",
]
REPAYMENTS = [
    "loan_ref,paid_on,amount,paid_by_nik,reversed_on,reversal_reason",
    "A-1,2025-02-10,124200,,,",
    "A-1,2025-02-17,124200,3509015205820002,,",
    "A-2,2025-04-01,120000,,2025-04-03,Salah catat",
    "A-2,2025-04-04,120000,,,",
]


def write(folder, **sheets):
    for name, lines in sheets.items():
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def plan_of(tmp_path, lkmm, **changes):
    sheets = {"members": MEMBERS, "loans": LOANS, "repayments": REPAYMENTS, **changes}
    sheets = {k: v for k, v in sheets.items() if v is not None}
    return validate(formats.read_book(write(tmp_path, **sheets)), lkmm=lkmm, today=datetime.date(2026, 1, 1))


def errors(plan):
    return [str(p) for p in plan.errors]


def test_clean_book_validates(tmp_path, lkmm):
    plan = plan_of(tmp_path, lkmm)
    assert errors(plan) == []
    assert plan.summary()["loans"] == 2
    assert plan.summary()["repayments"] == 4


def test_values():
    assert formats.amount("1.250.000") == 1_250_000
    assert formats.amount(1250000.0) == 1_250_000
    assert formats.rate("1,5") == formats.rate("1.5")
    assert formats.date("31/03/2024") == datetime.date(2024, 3, 31)
    assert formats.date(datetime.datetime(2024, 3, 31)) == datetime.date(2024, 3, 31)
    with pytest.raises(formats.Bad):
        formats.date("2024-02-30")


def test_semicolon_and_bom(tmp_path, lkmm):
    (tmp_path / "members.csv").write_text("\ufeff" + "\n".join(m.replace(",", ";") for m in MEMBERS), "utf-8")
    write(tmp_path, loans=LOANS)
    plan = validate(formats.read_book(tmp_path), lkmm=lkmm, today=datetime.date(2026, 1, 1))
    assert errors(plan) == []


@pytest.mark.parametrize(
    ("sheet", "index", "line", "expected"),
    [
        ("members", 0, "nik,full_name,gender,birth_date", "members:1:joined_on: Kolom wajib tidak ada."),
        (
            "members",
            0,
            "nik,full_name,gender,birth_date,joined_on,group,warna",
            "members:1:warna: Kolom tidak dikenal.",
        ),
        ("members", 1, "3509011305800001,Budi,L,1980-05-12,2025-01-02,", "members:2:birth_date:"),
        ("members", 2, "3509011205800001,Siti,L,1980-05-12,2025-01-02,", "members:3:nik: NIK ini sudah ada"),
        ("loans", 1, "A-1,3509011205800009,1200000,flat,1.5,weekly,10,2025-02-03", "loans:2:nik:"),
        ("loans", 2, "A-1,3509015205820002,1000000,flat,1.5,weekly,10,2025-02-03", "loans:3:loan_ref:"),
        ("repayments", 1, "B-9,2025-02-10,124200,,,", "repayments:2:loan_ref:"),
        ("repayments", 1, "A-1,2025-02-01,124200,,,", "repayments:2:paid_on:"),
        ("repayments", 1, "A-1,2025-02-10,9999999,,,", "repayments:2:amount: Melebihi sisa pinjaman"),
        ("loans", 1, "A-1,3509011205800001,100,flat,1.5,weekly,10,2025-02-03", "loans:2:principal:"),
        ("repayments", 1, "A-1,2025-13-10,124200,,,", "repayments:2:paid_on: Bukan tanggal"),
        ("repayments", 1, "A-1,2025-02-10,-5,,,", "repayments:2:amount: Harus lebih dari nol."),
        ("repayments", 1, "A-1,2025-02-10,0,,,", "repayments:2:amount: Harus lebih dari nol."),
    ],
)
def test_bad_file_refused(tmp_path, lkmm, sheet, index, line, expected):
    sheets = {"members": list(MEMBERS), "loans": list(LOANS), "repayments": list(REPAYMENTS)}
    sheets[sheet][index] = line
    plan = plan_of(tmp_path, lkmm, **sheets)
    assert not plan.ok
    assert any(e.startswith(expected) for e in errors(plan)), errors(plan)


def test_missing_sheet(tmp_path, lkmm):
    plan = plan_of(tmp_path, lkmm, loans=None)
    assert "loans::: Lembar wajib tidak ada." in errors(plan)


def test_date_in_closed_month(tmp_path, lkmm, ketua):
    from ledger.models import PeriodClose

    PeriodClose.objects.create(lkmm=lkmm, month=datetime.date(2025, 2, 1), closed_by=ketua.user, summary={})
    plan = plan_of(tmp_path, lkmm)
    assert any(e.startswith("loans:2:disbursed_on: Bulan 02/2025 sudah ditutup") for e in errors(plan))


def test_restructure_without_new_loan(tmp_path, lkmm):
    events = ["loan_ref,on,kind,amount,new_loan_ref,reason", "A-1,2025-03-03,restructure,,,Gagal panen"]
    plan = plan_of(tmp_path, lkmm, events=events)
    assert any(e.startswith("events:2:new_loan_ref:") for e in errors(plan)), errors(plan)


def test_apply_records_history(tmp_path, lkmm, ketua):
    plan = plan_of(tmp_path, lkmm)
    assert plan.ok, errors(plan)
    apply(plan, actor=ketua.user)
    assert Member.objects.filter(lkmm=lkmm).count() == 2
    a1 = Loan.objects.get(lkmm=lkmm, loan_ref="A-1")
    assert a1.status == LoanStatus.AKTIF and a1.purpose == "impor"
    assert a1.principal_outstanding_derived == 1_200_000 - 2 * 120_046
    a2 = Loan.objects.get(lkmm=lkmm, loan_ref="A-2")
    assert a2.principal_outstanding_derived == 900_000
    reversed_one = Repayment.objects.get(loan=a2, reversed_on__isnull=False)
    assert reversed_one.reversed_on == datetime.date(2025, 4, 3)
    assert (
        Repayment.objects.get(loan=a1, paid_on=datetime.date(2025, 2, 17)).paid_by.full_name == "Siti Aminah"
    )
    problems = [p for check in CHECKS for p in check(type(lkmm).objects.filter(pk=lkmm.pk))]
    assert problems == []


def test_a_loan_ref_may_not_be_the_code_of_a_loan_made_in_the_app(tmp_path, lkmm):
    from tests.factories import MemberFactory, make_loan

    made = make_loan(member=MemberFactory(lkmm=lkmm))
    loans = [LOANS[0], LOANS[1].replace("A-1,", f"{made.code},", 1), LOANS[2]]
    repayments = [line.replace("A-1,", f"{made.code},", 1) for line in REPAYMENTS]
    plan = plan_of(tmp_path, lkmm, loans=loans, repayments=repayments)
    assert "loans:2:loan_ref: loan_ref ini sudah ada di LKMM ini." in errors(plan)
