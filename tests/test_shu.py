"""The year's surplus (SHU): rules, the year-end close under four eyes, the preview of every member's share
(DOMAIN.md's worked example end to end), the rapat anggota's decision carried out, a left member's share
held and collected, dana sosial spending, the pages and their downloads (issue 13 item 5)."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from institutions.decisions import request_decide
from institutions.models import AuditLog, Lkmm, RequestKind
from ledger.checks import CHECKS
from ledger.models import Account, AccountCode, EntryKind, JournalEntry
from ledger.services import capital_source_record, entry_post
from ledger.statements import MONTH, YEAR, Period, statements_for
from loans.services import repayment_record
from members.models import MemberStatus, MemberStatusChange
from risk.services import month_close
from savings.models import SavingsAccount, SavingsKind
from savings.services import savings_deposit
from shu import division, selectors, services
from shu.models import FundSpending, Settlement, ShuRule, ShuShare, ShuYear
from tests.factories import (
    LkmmFactory,
    LoanProductFactory,
    MemberFactory,
    StaffFactory,
    ketua_of,
    login,
    make_active_loan,
    make_approver,
)

YEAR_ = 2025
PERCENTS = {"reserve": 40, "jasa_simpanan": 20, "jasa_pinjaman": 20, "dana_sosial": 10, "pengurus": 10}
# DOMAIN.md's worked example: average savings and interest paid of members A-E.
SAVINGS = {"A": 1_000_000, "B": 700_000, "C": 300_000, "D": 0, "E": 1_000_000}
INTEREST = {"A": 300_000, "B": 0, "C": 150_000, "D": 450_000, "E": 100_000}
TOTALS = {"A": 1_266_666, "B": 466_666, "C": 500_000, "D": 900_000, "E": 866_666}


def _row(statement, code):
    for section in statement.sections:
        for row in section.rows:
            if row.code == code:
                return row
    raise KeyError(code)


def _problems(lkmm):
    lkmms = Lkmm.objects.filter(pk=lkmm.pk)
    return [problem for check in CHECKS for problem in check(lkmms)]


def build(*, lkmm=None, income=9_000_000, members=SAVINGS, interest=INTEREST):
    """An LKMM whose 2025 matches DOMAIN.md's example: members' savings deposited on 2 January (so the
    12 month-end balances average to them), loans at 1% flat a month over 10 months whose interest
    (0.1 x principal) is paid installment by installment in 2025, other income of `income` (the year's
    surplus is then income + 1.000.000), the rule 40/20/20/10/10 and December closed."""
    lkmm = lkmm or LkmmFactory()
    ketua = ketua_of(lkmm)
    capital_source_record(
        lkmm=lkmm,
        actor=ketua,
        kind="hibah",
        received_on=datetime.date(2024, 12, 1),
        source_name="APBD Jember 2024",
        amount=50_000_000,
    )
    product = LoanProductFactory(
        lkmm=lkmm,
        frequency="monthly",
        installment_count=10,
        rate_per_month=Decimal("1"),
        max_amount=10_000_000,
    )
    people = {}
    for name in members:
        member = MemberFactory(lkmm=lkmm, full_name=f"Anggota {name}")
        people[name] = member
        if members[name]:
            savings_deposit(
                member=member,
                kind=SavingsKind.SUKARELA,
                amount=members[name],
                on=datetime.date(YEAR_, 1, 2),
                actor=ketua,
            )
        if interest.get(name):
            loan = make_active_loan(
                member=member,
                product=product,
                principal=interest[name] * 10,
                disbursed_on=datetime.date(YEAR_, 1, 2),
                actor=ketua,
            )
            for installment in loan.installments.order_by("seq"):
                repayment_record(
                    loan=loan,
                    amount=installment.principal + installment.interest,
                    paid_on=installment.due_date,
                    actor=ketua,
                )
    if income:
        entry_post(
            lkmm=lkmm,
            date=datetime.date(YEAR_, 6, 30),
            memo="Pendapatan lain",
            lines=[(AccountCode.KAS, income, 0), (AccountCode.PENDAPATAN_ADMINISTRASI, 0, income)],
            kind=EntryKind.CASH_IN,
        )
    services.rule_set(lkmm=lkmm, actor=ketua, from_year=YEAR_, **PERCENTS)
    month_close(lkmm=lkmm, actor=ketua, month=datetime.date(YEAR_, 12, 1))
    return lkmm, ketua, people


def test_division_of_domains_worked_example():
    """The pure arithmetic, with the sums of 12 month-end balances as the weights (12 x the averages)."""
    pools, shares, reserve = division.divide(
        10_000_000, PERCENTS, {k: 12 * v for k, v in SAVINGS.items()}, INTEREST
    )
    assert pools == {
        "reserve": 4_000_000,
        "jasa_simpanan": 2_000_000,
        "jasa_pinjaman": 2_000_000,
        "dana_sosial": 1_000_000,
        "pengurus": 1_000_000,
    }
    assert {k: v[0] for k, v in shares.items()} == {
        "A": 666_666,
        "B": 466_666,
        "C": 200_000,
        "D": 0,
        "E": 666_666,
    }
    assert {k: v[1] for k, v in shares.items()} == {
        "A": 600_000,
        "B": 0,
        "C": 300_000,
        "D": 900_000,
        "E": 200_000,
    }
    assert {k: sum(v) for k, v in shares.items()} == TOTALS
    assert reserve == 4_000_002


@pytest.mark.parametrize(
    "surplus,percents,expected",
    [
        (
            10,
            PERCENTS,
            {"reserve": 4, "jasa_simpanan": 2, "jasa_pinjaman": 2, "dana_sosial": 1, "pengurus": 1},
        ),
        # 33% of 101 is 33.33: each pool rounded down, the 2 rupiah left join the reserve.
        (
            101,
            {"reserve": 1, "jasa_simpanan": 33, "jasa_pinjaman": 33, "dana_sosial": 33, "pengurus": 0},
            {"reserve": 2, "jasa_simpanan": 33, "jasa_pinjaman": 33, "dana_sosial": 33, "pengurus": 0},
        ),
        (-5, PERCENTS, dict.fromkeys(PERCENTS, 0)),
    ],
)
def test_pools_round_down_and_the_remainder_joins_the_reserve(surplus, percents, expected):
    pools = division.pools_of(surplus, percents)
    assert pools == expected
    assert sum(pools.values()) == max(surplus, 0)


def test_a_pool_nobody_has_a_weight_in_goes_to_the_reserve():
    assert division.split(1_000, {"A": 0, "B": 0}) == ({"A": 0, "B": 0}, 1_000)


@pytest.mark.django_db
def test_shu_domain_worked_example():
    lkmm, ketua, people = build()
    preview = selectors.preview(lkmm=lkmm, year=YEAR_)
    assert preview.result == 10_000_000
    assert preview.pools == {
        "reserve": 4_000_000,
        "jasa_simpanan": 2_000_000,
        "jasa_pinjaman": 2_000_000,
        "dana_sosial": 1_000_000,
        "pengurus": 1_000_000,
    }
    by_name = {row.member.full_name[-1]: row for row in preview.rows}
    assert {k: r.average_savings for k, r in by_name.items()} == SAVINGS
    assert {k: r.interest_paid for k, r in by_name.items()} == INTEREST
    assert {k: r.jasa_simpanan for k, r in by_name.items()} == {
        "A": 666_666,
        "B": 466_666,
        "C": 200_000,
        "D": 0,
        "E": 666_666,
    }
    assert {k: r.jasa_pinjaman for k, r in by_name.items()} == {
        "A": 600_000,
        "B": 0,
        "C": 300_000,
        "D": 900_000,
        "E": 200_000,
    }
    assert {k: r.total for k, r in by_name.items()} == TOTALS
    assert preview.remainder_simpanan == 2 and preview.remainder_pinjaman == 0
    assert preview.reserve_total == 4_000_002

    # Tutup tahun: the year's income and expense into SHU tahun berjalan on 31/12, then on 1/1 into SHU
    # tahun lalu belum dibagi; the statements keep their figures and identities.
    before = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(YEAR, YEAR_, 1))
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    assert shu_year.result == 10_000_000 and shu_year.rule.percents == PERCENTS
    assert shu_year.pools == preview.pools
    assert shu_year.closing_entry.date == datetime.date(YEAR_, 12, 31)
    assert shu_year.carry_entry.date == datetime.date(YEAR_ + 1, 1, 1)
    assert AuditLog.objects.filter(action="shu.year_close", object_id=shu_year.pk).exists()
    balances = dict(Account.objects.filter(lkmm=lkmm).values_list("code", "balance_derived"))
    assert balances[AccountCode.PENDAPATAN_BUNGA] == 0 and balances[AccountCode.PENDAPATAN_ADMINISTRASI] == 0
    assert balances[AccountCode.SHU_TAHUN_BERJALAN] == 0
    assert balances[AccountCode.SHU_BELUM_DIBAGI] == -10_000_000
    after = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(YEAR, YEAR_, 1))
    assert after.laba_rugi.totals == before.laba_rugi.totals
    assert after.laba_rugi.totals[0][1] == 10_000_000
    assert _row(after.neraca, AccountCode.SHU_TAHUN_BERJALAN).current == 10_000_000
    assert after.neraca.totals[0][1] == after.neraca.totals[1][1]
    january = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(MONTH, YEAR_ + 1, 1))
    assert _row(january.neraca, AccountCode.SHU_TAHUN_BERJALAN).current == january.laba_rugi.totals[0][1] == 0
    assert _row(january.neraca, AccountCode.SHU_BELUM_DIBAGI).current == 10_000_000
    assert january.neraca.totals[0][1] == january.neraca.totals[1][1]
    assert _problems(lkmm) == []

    # The rapat anggota decides: shares to sukarela savings.
    sukarela_before = dict(
        SavingsAccount.objects.filter(lkmm=lkmm, kind=SavingsKind.SUKARELA).values_list(
            "member_id", "balance_derived"
        )
    )
    decided_on = datetime.date(YEAR_ + 1, 2, 10)
    services.shu_distribute(
        shu_year=shu_year,
        actor=ketua,
        decided_on=decided_on,
        decision="sukarela",
        minutes_no="BA-01/RAT/2026",
    )
    shu_year.refresh_from_db()
    assert shu_year.distributed and shu_year.reserve_total == 4_000_002
    shares = {
        s.member.full_name[-1]: s for s in ShuShare.objects.filter(shu_year=shu_year).select_related("member")
    }
    assert {k: s.total for k, s in shares.items()} == TOTALS
    for name, member in people.items():
        account = SavingsAccount.objects.get(member=member, kind=SavingsKind.SUKARELA)
        assert account.balance_derived == sukarela_before.get(member.pk, 0) + TOTALS[name]
        assert shares[name].settlement == Settlement.SUKARELA
        assert shares[name].movement.receipt_no > 0 and shares[name].movement.on == decided_on
    balances = dict(Account.objects.filter(lkmm=lkmm).values_list("code", "balance_derived"))
    assert balances[AccountCode.SHU_BELUM_DIBAGI] == 0
    assert balances[AccountCode.CADANGAN_UMUM] == -4_000_002
    assert balances[AccountCode.DANA_SOSIAL] == -1_000_000
    assert balances[AccountCode.DANA_PENGURUS] == -1_000_000
    assert balances[AccountCode.UTANG_SHU] == 0
    assert AuditLog.objects.filter(action="shu.distribute", object_id=shu_year.pk).exists()
    assert AuditLog.objects.filter(action="savings.credit").count() == 5
    february = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(MONTH, YEAR_ + 1, 2))
    assert february.neraca.totals[0][1] == february.neraca.totals[1][1]
    assert _row(february.neraca, AccountCode.DANA_SOSIAL).current == 1_000_000
    assert _row(february.neraca, AccountCode.CADANGAN_UMUM).current == 4_000_002
    assert _problems(lkmm) == []
    # A share credited to savings is not reversed as if it were cash.
    from savings.services import savings_reverse

    with pytest.raises(ValidationError, match="SHU"):
        savings_reverse(movement=shares["A"].movement, actor=ketua, on=decided_on, reason="salah")
    # The stored preview reads the same as the computed one.
    stored = selectors.preview(lkmm=lkmm, year=YEAR_)
    assert {r.member.full_name[-1]: r.total for r in stored.rows} == TOTALS
    assert stored.reserve_total == 4_000_002
    # Distributed once.
    with pytest.raises(ValidationError):
        services.shu_distribute(
            shu_year=shu_year, actor=ketua, decided_on=decided_on, decision="tunai", minutes_no="BA-02"
        )


@pytest.mark.django_db
def test_a_closed_year_refuses_back_dated_entries_and_its_december_stays_closed():
    lkmm, ketua, _people = build(members={"A": 100_000}, interest={})
    services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    with pytest.raises(ValidationError, match="Tahun 2025 sudah ditutup"):
        entry_post(
            lkmm=lkmm,
            date=datetime.date(YEAR_, 3, 3),
            memo="x",
            lines=[(AccountCode.KAS, 5, 0), (AccountCode.PENDAPATAN_ADMINISTRASI, 0, 5)],
            kind=EntryKind.CASH_IN,
        )
    from ledger.models import PeriodClose
    from risk.services import month_reopen

    with pytest.raises(ValidationError, match="tutup tahun"):
        month_reopen(
            close=PeriodClose.objects.get(lkmm=lkmm, month=datetime.date(YEAR_, 12, 1)),
            actor=ketua,
            reason="x",
        )


@pytest.mark.django_db
def test_a_loss_gives_no_shu_and_is_carried_in_shu_ditahan():
    lkmm, ketua, people = build(members={"A": 500_000}, interest={}, income=0)
    entry_post(
        lkmm=lkmm,
        date=datetime.date(YEAR_, 5, 5),
        memo="Beban",
        lines=[(AccountCode.BEBAN_OPERASIONAL, 300_000, 0), (AccountCode.KAS, 0, 300_000)],
        kind=EntryKind.CASH_OUT,
    )
    preview = selectors.preview(lkmm=lkmm, year=YEAR_)
    assert preview.result == -300_000
    assert preview.members_total == 0 and set(preview.pools.values()) == {0}
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    assert shu_year.result == -300_000 and shu_year.rule is None
    balances = dict(Account.objects.filter(lkmm=lkmm).values_list("code", "balance_derived"))
    assert balances[AccountCode.SHU_DITAHAN] == 300_000  # a debit: the loss carried
    assert balances[AccountCode.BEBAN_OPERASIONAL] == 0
    year = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(YEAR, YEAR_, 1))
    assert (
        year.laba_rugi.totals[0][1] == -300_000 == _row(year.neraca, AccountCode.SHU_TAHUN_BERJALAN).current
    )
    january = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(MONTH, YEAR_ + 1, 1))
    assert _row(january.neraca, AccountCode.SHU_DITAHAN).current == -300_000
    assert _row(january.neraca, AccountCode.SHU_TAHUN_BERJALAN).current == 0
    assert january.neraca.totals[0][1] == january.neraca.totals[1][1]
    with pytest.raises(ValidationError, match="tidak menghasilkan SHU"):
        services.shu_distribute(
            shu_year=shu_year,
            actor=ketua,
            decided_on=datetime.date(YEAR_ + 1, 2, 1),
            decision="tunai",
            minutes_no="1",
        )
    assert not ShuShare.objects.exists()
    assert _problems(lkmm) == []


@pytest.mark.django_db
def test_the_year_is_closed_only_after_decembers_month_end_close():
    lkmm = LkmmFactory()
    ketua = ketua_of(lkmm)
    services.rule_set(lkmm=lkmm, actor=ketua, from_year=YEAR_, **PERCENTS)
    with pytest.raises(ValidationError, match="Tutup buku Desember 2025 dulu"):
        services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    month_close(lkmm=lkmm, actor=ketua, month=datetime.date(YEAR_, 11, 1))
    with pytest.raises(ValidationError):
        services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    assert not ShuYear.objects.exists()
    # Closed once only.
    month_close(lkmm=lkmm, actor=ketua, month=datetime.date(YEAR_, 12, 1))
    services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    with pytest.raises(ValidationError, match="sudah ditutup"):
        services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)


@pytest.mark.django_db
def test_year_close_under_four_eyes_is_a_request_and_another_approvers_decision(client):
    lkmm, ketua, _people = build(members={"A": 200_000}, interest={"A": 50_000})
    approver = make_approver(lkmm)
    lkmm.four_eyes = True
    lkmm.save(update_fields=["four_eyes"])
    # The ketua cannot close at once.
    with pytest.raises(ValidationError, match="empat mata"):
        services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    login(client, ketua)
    response = client.post(reverse("shu:close", args=[lkmm.code]), {"year": YEAR_})
    assert response.status_code == 302
    assert not ShuYear.objects.exists()
    request = lkmm.requests.get(kind=RequestKind.YEAR_CLOSE)
    assert request.target == f"year:{YEAR_}" and request.payload["year"] == YEAR_
    # It waits in the inbox; its page names the year (not as rupiah).
    login(client, approver)
    assert "Tutup tahun 2025" in client.get(reverse("requests:list")).content.decode()
    detail = client.get(reverse("requests:detail", args=[request.pk])).content.decode()
    assert "2025" in detail and "Rp 2.025" not in detail and "Rp2.025" not in detail
    # The requester cannot decide their own request.
    with pytest.raises(ValidationError, match="empat mata"):
        request_decide(request=request, actor=ketua, approve=True)
    assert not ShuYear.objects.exists()
    request_decide(request=request, actor=approver, approve=True)
    shu_year = ShuYear.objects.get(lkmm=lkmm, year=YEAR_)
    assert shu_year.closed_by == approver and shu_year.requested_by == ketua
    assert shu_year.result == 9_050_000


@pytest.mark.django_db
def test_a_pengelola_cannot_close_the_year(client):
    lkmm, ketua, _people = build(members={"A": 200_000}, interest={})
    pengelola = StaffFactory(lkmm=lkmm).user
    with pytest.raises(PermissionDenied):
        services.year_close(lkmm=lkmm, year=YEAR_, actor=pengelola)
    login(client, pengelola)
    assert client.post(reverse("shu:close", args=[lkmm.code]), {"year": YEAR_}).status_code == 403
    assert client.get(reverse("shu:rules", args=[lkmm.code])).status_code == 403
    assert client.get(reverse("shu:close", args=[lkmm.code])).status_code == 405
    assert not ShuYear.objects.exists()


@pytest.mark.django_db
def test_a_left_members_share_is_held_as_a_payable_until_collected():
    lkmm, ketua, people = build(members={"A": 1_000_000, "B": 1_000_000}, interest={})
    gone = people["B"]
    # B left in 2026 (after the year): still a member all of 2025, her savings returned.
    from savings.services import savings_return_all

    savings_return_all(member=gone, on=datetime.date(YEAR_ + 1, 1, 5), actor=ketua)
    type(gone).objects.filter(pk=gone.pk).update(status=MemberStatus.KELUAR)
    MemberStatusChange.objects.create(member=gone, from_status="aktif", to_status="keluar", by=ketua)
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    services.shu_distribute(
        shu_year=shu_year,
        actor=ketua,
        decided_on=datetime.date(YEAR_ + 1, 2, 1),
        decision="tunai",
        minutes_no="BA-7",
    )
    share_a = ShuShare.objects.get(member=people["A"])
    share_b = ShuShare.objects.get(member=gone)
    # Surplus 9.000.000; jasa simpanan 1.800.000 split equally, no interest: the jasa pinjaman pool
    # (1.800.000) goes to the reserve.
    assert share_a.total == share_b.total == 900_000
    assert share_a.settlement == Settlement.TUNAI and share_a.collected_on == datetime.date(YEAR_ + 1, 2, 1)
    assert share_b.settlement == Settlement.UTANG and share_b.waiting
    assert Account.objects.get(lkmm=lkmm, code=AccountCode.UTANG_SHU).balance_derived == -900_000
    assert _problems(lkmm) == []
    february = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(MONTH, YEAR_ + 1, 2))
    paid = {row.label: row.current for row in february.arus_kas.sections[1].rows}
    assert paid["Pembayaran SHU kepada anggota dan pengurus"] == -900_000
    kas = Account.objects.get(lkmm=lkmm, code=AccountCode.KAS).balance_derived
    services.share_collect(share=share_b, actor=ketua, on=datetime.date(YEAR_ + 1, 3, 1))
    share_b.refresh_from_db()
    assert share_b.collected_on == datetime.date(YEAR_ + 1, 3, 1) and not share_b.waiting
    assert share_b.collection_entry.lines.get(account__code=AccountCode.KAS).credit == 900_000
    assert Account.objects.get(lkmm=lkmm, code=AccountCode.UTANG_SHU).balance_derived == 0
    assert Account.objects.get(lkmm=lkmm, code=AccountCode.KAS).balance_derived == kas - 900_000
    assert AuditLog.objects.filter(action="shu.collect", object_id=share_b.pk).exists()
    with pytest.raises(ValidationError, match="tidak menunggu"):
        services.share_collect(share=share_b, actor=ketua, on=datetime.date(YEAR_ + 1, 3, 2))
    assert _problems(lkmm) == []
    # check_books sees a share marked held that the books paid out.
    ShuShare.objects.filter(pk=share_b.pk).update(collected_on=None)
    assert _problems(lkmm) == [f"[{lkmm.code}] SHU held for members Rp 900.000, account 2303 Rp 0"]


def _distributed(**kwargs):
    lkmm, ketua, people = build(**kwargs)
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    services.shu_distribute(
        shu_year=shu_year,
        actor=ketua,
        decided_on=datetime.date(YEAR_ + 1, 2, 1),
        decision="sukarela",
        minutes_no="1",
    )
    return lkmm, ketua, people


@pytest.mark.django_db
def test_dana_sosial_spending_above_the_fund_is_refused_and_nothing_is_saved():
    lkmm, ketua, _people = _distributed(members={"A": 100_000}, interest={})
    # Surplus 9.000.000: dana sosial 900.000.
    entries = JournalEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.sosial_spend(
            lkmm=lkmm,
            actor=ketua,
            on=datetime.date(YEAR_ + 1, 3, 1),
            purpose="posyandu",
            description="Makanan tambahan balita",
            amount=900_001,
        )
    assert "amount" in refused.value.error_dict
    assert JournalEntry.objects.count() == entries and not FundSpending.objects.exists()
    # Before the sharing, the fund held nothing.
    with pytest.raises(ValidationError):
        services.sosial_spend(
            lkmm=lkmm,
            actor=ketua,
            on=datetime.date(YEAR_ + 1, 1, 20),
            purpose="paud",
            description="x",
            amount=1,
        )
    spending = services.sosial_spend(
        lkmm=lkmm,
        actor=ketua,
        on=datetime.date(YEAR_ + 1, 3, 1),
        purpose="posyandu",
        description="Makanan tambahan balita",
        amount=250_000,
    )
    assert selectors.fund_balance(lkmm=lkmm) == 650_000
    assert spending.entry.lines.get(account__code=AccountCode.DANA_SOSIAL).debit == 250_000
    assert AuditLog.objects.filter(action="shu.fund_spend", object_id=spending.pk).exists()
    services.sosial_reverse(
        spending=spending, actor=ketua, on=datetime.date(YEAR_ + 1, 3, 2), reason="Salah catat"
    )
    spending.refresh_from_db()
    assert spending.reversed_on == datetime.date(YEAR_ + 1, 3, 2) and spending.reversal_entry is not None
    assert selectors.fund_balance(lkmm=lkmm) == 900_000
    # The board is paid its share from dana pengurus (900.000), never more.
    with pytest.raises(ValidationError, match="dana pengurus"):
        services.sosial_spend(
            lkmm=lkmm,
            actor=ketua,
            on=datetime.date(YEAR_ + 1, 3, 1),
            purpose="pengurus",
            description="Jasa pengurus 2025",
            amount=900_001,
            fund="pengurus",
        )
    paid = services.sosial_spend(
        lkmm=lkmm,
        actor=ketua,
        on=datetime.date(YEAR_ + 1, 3, 1),
        purpose="pengurus",
        description="Jasa pengurus 2025",
        amount=900_000,
        fund="pengurus",
    )
    assert paid.entry.lines.get(account__code=AccountCode.DANA_PENGURUS).debit == 900_000
    assert selectors.fund_balance(lkmm=lkmm, code=AccountCode.DANA_PENGURUS) == 0
    with pytest.raises(ValidationError):
        services.sosial_reverse(
            spending=spending, actor=ketua, on=datetime.date(YEAR_ + 1, 3, 2), reason="lagi"
        )
    assert _problems(lkmm) == []


@pytest.mark.django_db
def test_rules_are_versioned_and_validated(client):
    lkmm = LkmmFactory()
    ketua = ketua_of(lkmm)
    login(client, ketua)
    url = reverse("shu:rules", args=[lkmm.code])
    data = {"from_year": 2026, "reserve": 40, "jasa_simpanan": 20, "jasa_pinjaman": 20, "dana_sosial": 10}
    response = client.post(url, {**data, "pengurus": 20})
    assert response.status_code == 200 and "harus 100" in response.content.decode()
    response = client.post(url, {**data, "reserve": 140, "pengurus": 10})
    assert response.status_code == 200 and "lebih dari 100" in response.content.decode()
    response = client.post(url, {**data, "from_year": "٢٠٢٦", "pengurus": 10})
    assert response.status_code == 200 and "0-9" in response.content.decode()
    assert not ShuRule.objects.exists()
    assert client.post(url, {**data, "pengurus": 10}).status_code == 302
    assert client.post(url, {**data, "reserve": 30, "pengurus": 20}).status_code == 302
    rules = list(ShuRule.objects.filter(lkmm=lkmm).order_by("version"))
    assert [(r.version, r.reserve, r.pengurus) for r in rules] == [(1, 40, 10), (2, 30, 20)]
    assert selectors.rule_in_force(lkmm=lkmm, year=2026) == rules[1]
    assert selectors.rule_in_force(lkmm=lkmm, year=2025) is None
    assert AuditLog.objects.filter(action="shu.rule").count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        ShuRule.objects.filter(pk=rules[0].pk).update(reserve=41)


def _page_queries(client, lkmm, year):
    url = reverse("shu:year", args=[lkmm.code, year])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_shu_page_reads_a_fixed_number_of_queries(client):
    small, ketua_small, _ = build(members={"A": 100_000, "B": 50_000}, interest={"A": 10_000})
    big, ketua_big, _ = build(
        members={k: 100_000 + k * 1_000 for k in range(8)}, interest={0: 10_000, 1: 20_000, 2: 30_000}
    )
    login(client, ketua_small)
    small_count = _page_queries(client, small, YEAR_)
    login(client, ketua_big)
    assert _page_queries(client, big, YEAR_) == small_count
    # Distributed: the stored shares.
    for lkmm, ketua in ((small, ketua_small), (big, ketua_big)):
        shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
        services.shu_distribute(
            shu_year=shu_year,
            actor=ketua,
            decided_on=datetime.date(YEAR_ + 1, 2, 1),
            decision="sukarela",
            minutes_no="1",
        )
    login(client, ketua_small)
    small_count = _page_queries(client, small, YEAR_)
    login(client, ketua_big)
    assert _page_queries(client, big, YEAR_) == small_count


@pytest.mark.django_db
def test_shu_pages_downloads_and_scope(client):
    lkmm, ketua, people = build(members={"A": 600_000, "B": 300_000}, interest={"A": 60_000})
    other = LkmmFactory()
    login(client, ketua)
    response = client.get(reverse("shu:home"))
    assert response.status_code == 302 and response.url == reverse("shu:year", args=[lkmm.code, 2025])
    page = client.get(reverse("shu:year", args=[lkmm.code, YEAR_]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Anggota A" in text and "Tutup tahun" in text
    assert client.get(reverse("shu:year", args=[other.code, YEAR_])).status_code == 404
    assert client.get(reverse("shu:report", args=[lkmm.code, YEAR_])).status_code == 200
    slip = client.get(reverse("shu:slip", args=[lkmm.code, YEAR_, people["A"].pk]))
    assert slip.status_code == 200 and "Anggota A" in slip.content.decode()
    assert client.get(reverse("shu:slip", args=[lkmm.code, YEAR_, 999999])).status_code == 404
    preview = selectors.preview(lkmm=lkmm, year=YEAR_)
    a_total = next(r.total for r in preview.rows if r.member == people["A"])
    csv_text = client.get(reverse("shu:year", args=[lkmm.code, YEAR_]) + "?format=csv-id").content.decode(
        "utf-8-sig"
    )
    rows = list(csv.reader(io.StringIO(csv_text), delimiter=";"))
    assert any(row[1:2] == ["Anggota A"] and row[-1] == str(a_total) for row in rows)
    workbook = load_workbook(
        io.BytesIO(client.get(reverse("shu:year", args=[lkmm.code, YEAR_]) + "?format=xlsx").content)
    )
    values = [list(r) for r in workbook.active.iter_rows(values_only=True)]
    assert any(r[1] == "Anggota A" and r[-1] == a_total for r in values)
    assert client.get(reverse("shu:year", args=[lkmm.code, YEAR_]) + "?format=pdf").status_code == 404
    # Dinas: reads, changes nothing.
    dinas = StaffFactory(dinas=True)
    login(client, dinas)
    assert client.get(reverse("shu:home")).status_code == 200
    page = client.get(reverse("shu:year", args=[lkmm.code, YEAR_]))
    assert page.status_code == 200 and "Ajukan tutup tahun" not in page.content.decode()
    assert client.post(reverse("shu:close", args=[lkmm.code]), {"year": YEAR_}).status_code == 403
    assert (
        client.post(
            reverse("shu:sosial", args=[lkmm.code]),
            {"on": "2026-03-01", "purpose": "paud", "description": "x", "amount": "1"},
        ).status_code
        == 403
    )
    assert not ShuYear.objects.exists()
    client.logout()
    assert client.get(reverse("shu:year", args=[lkmm.code, YEAR_])).status_code == 302


@pytest.mark.django_db
def test_the_close_distribution_and_sosial_pages_work_end_to_end(client):
    lkmm, ketua, people = build(members={"A": 600_000, "B": 300_000}, interest={"A": 60_000})
    login(client, ketua)
    response = client.post(reverse("shu:close", args=[lkmm.code]), {"year": YEAR_})
    assert response.status_code == 302
    shu_year = ShuYear.objects.get(lkmm=lkmm, year=YEAR_)
    url = reverse("shu:distribute", args=[lkmm.code, YEAR_])
    assert client.get(url).status_code == 200
    response = client.post(url, {"decided_on": "2026-02-01", "decision": "tunai", "minutes_no": ""})
    assert response.status_code == 200 and "berita acara" in response.content.decode()
    response = client.post(url, {"decided_on": "2025-12-01", "decision": "tunai", "minutes_no": "BA-1"})
    assert response.status_code == 200
    shu_year.refresh_from_db()
    assert not shu_year.distributed
    response = client.post(url, {"decided_on": "2026-02-01", "decision": "tunai", "minutes_no": "BA-1"})
    assert response.status_code == 302
    shu_year.refresh_from_db()
    assert shu_year.distributed and shu_year.decision == "tunai" and shu_year.minutes_no == "BA-1"
    sosial = reverse("shu:sosial", args=[lkmm.code])
    fund = selectors.fund_balance(lkmm=lkmm)
    response = client.post(
        sosial,
        {
            "fund": "sosial",
            "on": "2026-03-01",
            "purpose": "posyandu",
            "description": "PMT balita",
            "amount": str(fund + 1),
        },
    )
    assert response.status_code == 200 and "Melebihi dana sosial" in response.content.decode()
    response = client.post(
        sosial,
        {
            "fund": "sosial",
            "on": "2026-03-01",
            "purpose": "posyandu",
            "description": "PMT balita",
            "amount": "100.000",
        },
    )
    assert response.status_code == 302
    spending = FundSpending.objects.get()
    assert spending.amount == 100_000
    assert client.get(sosial).status_code == 200
    response = client.post(
        reverse("shu:sosial_reverse", args=[spending.pk]), {"on": "2026-03-02", "reason": "Salah"}
    )
    assert response.status_code == 302
    spending.refresh_from_db()
    assert spending.reversed_on == datetime.date(2026, 3, 2)
    assert _problems(lkmm) == []


@pytest.mark.django_db
def test_months_after_leaving_count_zero_and_reversed_payments_pay_no_interest():
    from loans.services import repayment_reverse

    lkmm, ketua, people = build(members={"A": 1_200_000, "B": 1_200_000}, interest={"A": 60_000})
    # B left at the end of June: her balance at the six month ends after counts as zero.
    gone = people["B"]
    type(gone).objects.filter(pk=gone.pk).update(status=MemberStatus.KELUAR)
    change = MemberStatusChange.objects.create(member=gone, from_status="aktif", to_status="keluar", by=ketua)
    MemberStatusChange.objects.filter(pk=change.pk).update(
        at=datetime.datetime(YEAR_, 6, 30, 10, tzinfo=datetime.UTC)
    )
    # A's last payment reversed within the year: its interest was not paid.
    last = people["A"].loans.get().repayments.order_by("-paid_on").first()
    interest_of_last = sum(a.interest for a in last.allocations.all())
    assert interest_of_last > 0
    from ledger.models import PeriodClose

    PeriodClose.objects.filter(lkmm=lkmm).update(
        reopened_at=datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
    )
    repayment_reverse(repayment=last, actor=ketua, on=datetime.date(YEAR_, 12, 1), reason="Uang palsu")
    rows = {r.member.full_name[-1]: r for r in selectors.preview(lkmm=lkmm, year=YEAR_).rows}
    assert rows["A"].average_savings == 1_200_000
    assert rows["B"].average_savings == 600_000
    assert rows["A"].interest_paid == 60_000 - interest_of_last
    # Jasa simpanan 20% of the surplus, shared 2:1.
    pool = selectors.preview(lkmm=lkmm, year=YEAR_).pools["jasa_simpanan"]
    assert rows["A"].jasa_simpanan == pool * 2 // 3 and rows["B"].jasa_simpanan == pool // 3


@pytest.mark.django_db
def test_a_cash_payout_the_kas_cannot_cover_is_refused_and_nothing_is_saved():
    from ledger.services import voucher_post

    lkmm, ketua, _people = build(members={"A": 500_000}, interest={})
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    kas = Account.objects.get(lkmm=lkmm, code=AccountCode.KAS).balance_derived
    voucher_post(
        lkmm=lkmm,
        actor=ketua,
        kind=EntryKind.TRANSFER,
        date=datetime.date(YEAR_ + 1, 1, 10),
        amount=kas,
        memo="Setor ke bank",
        account_code=AccountCode.BANK,
        cash_account_code=AccountCode.KAS,
    )
    entries = JournalEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.shu_distribute(
            shu_year=shu_year,
            actor=ketua,
            decided_on=datetime.date(YEAR_ + 1, 2, 1),
            decision="tunai",
            minutes_no="9",
        )
    assert "decided_on" in refused.value.error_dict
    shu_year.refresh_from_db()
    assert not shu_year.distributed and not ShuShare.objects.exists()
    assert JournalEntry.objects.count() == entries
