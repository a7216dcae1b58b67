"""Loan quality classes at their boundaries, and DOMAIN.md's Sa-Dhan aging reference."""

import datetime
from decimal import Decimal

import pytest

from ledger.models import AccountCode
from ledger.services import entry_post
from loans.services import loan_approve, loan_disburse
from risk.models import QualityClass, QualityPolicy
from risk.selectors import by_class, loans_at, portfolio
from tests.factories import LkmmFactory, LoanProductFactory, MemberFactory, ketua_of, make_loan

D = datetime.date
pytestmark = pytest.mark.django_db
DUE = D(2025, 1, 15)


def one_installment_loan(lkmm, *, frequency, principal=100_000, due=DUE):
    product = LoanProductFactory(
        lkmm=lkmm, frequency=frequency, installment_count=1, rate_per_month=Decimal("0"), min_amount=1_000
    )
    loan = make_loan(
        member=MemberFactory(lkmm=lkmm),
        product=product,
        principal=principal,
        applied_on=due - datetime.timedelta(days=40),
    )
    loan_approve(loan=loan, actor=ketua_of(lkmm))
    return loan_disburse(loan=loan, disbursed_on=due - datetime.timedelta(days=30), actor=None, first_due=due)


def only(loans, loan):
    (found,) = [each for each in loans if each.pk == loan.pk]
    return found


def class_code_at(lkmm, loan, dpd):
    return QualityClass.objects.get(
        pk=only(loans_at(DUE + datetime.timedelta(days=dpd), lkmms=[lkmm]), loan).quality_class_id
    ).code


LKM_2015 = [
    ("daily", 4, "L"),
    ("daily", 5, "D"),
    ("daily", 8, "D"),
    ("daily", 9, "M"),
    ("weekly", 0, "L"),
    ("weekly", 28, "L"),
    ("weekly", 29, "D"),
    ("weekly", 56, "D"),
    ("weekly", 57, "M"),
    ("monthly", 90, "L"),
    ("monthly", 91, "D"),
    ("monthly", 270, "D"),
    ("monthly", 271, "M"),
]
BANK_5 = [
    (frequency, dpd, code)
    for frequency in ("daily", "weekly", "monthly")
    for dpd, code in [
        (0, "L"),
        (1, "DPK"),
        (90, "DPK"),
        (91, "KL"),
        (120, "KL"),
        (121, "D"),
        (180, "D"),
        (181, "M"),
    ]
]


@pytest.mark.parametrize(("frequency", "dpd", "code"), LKM_2015)
def test_lkm_2015_boundaries(frequency, dpd, code):
    lkmm = LkmmFactory()
    assert lkmm.quality_policy.code == "lkm-2015"
    loan = one_installment_loan(lkmm, frequency=frequency)
    assert class_code_at(lkmm, loan, dpd) == code


@pytest.mark.parametrize(("frequency", "dpd", "code"), BANK_5)
def test_bank_5_boundaries(frequency, dpd, code):
    lkmm = LkmmFactory(quality_policy=QualityPolicy.objects.get(code="bank-5"))
    loan = one_installment_loan(lkmm, frequency=frequency)
    assert class_code_at(lkmm, loan, dpd) == code


def test_built_in_policies_are_exactly_domain_md():
    rows = {
        (c.policy.code, c.code): (
            c.max_dpd_daily,
            c.max_dpd_weekly,
            c.max_dpd_monthly,
            c.reserve_rate,
            c.non_performing,
            c.ksp_weight,
        )
        for c in QualityClass.objects.select_related("policy")
    }
    assert rows[("lkm-2015", "D")] == (8, 56, 270, Decimal("50"), True, Decimal("75"))
    assert rows[("bank-5", "L")] == (0, 0, 0, Decimal("1"), False, Decimal("0"))
    assert rows[("bank-5", "KL")] == (120, 120, 120, Decimal("15"), True, Decimal("50"))
    assert rows[("bank-5", "M")][:3] == (None, None, None)


def test_sa_dhan_aging_book():
    """Outstanding 128,000 current, 17,500 (1-30 days), 10,000 (31-60), 5,000 (61-90), 3,500 (91-180),
    2,500 (181-365), 1,500 (>365); provisioning 0/10/25/50/75/90/100% entered as a policy."""
    policy = QualityPolicy.objects.create(code="sa-dhan", name="Sa-Dhan")
    for position, (code, limit, rate) in enumerate(
        [
            ("0", 0, 0),
            ("1-30", 30, 10),
            ("31-60", 60, 25),
            ("61-90", 90, 50),
            ("91-180", 180, 75),
            ("181-365", 365, 90),
            (">365", None, 100),
        ]
    ):
        QualityClass.objects.create(
            policy=policy,
            position=position,
            code=code,
            name=code,
            max_dpd_daily=limit,
            max_dpd_weekly=limit,
            max_dpd_monthly=limit,
            reserve_rate=Decimal(rate),
            non_performing=position >= 4,
        )
    lkmm = LkmmFactory(quality_policy=policy)
    at = D(2026, 6, 30)
    for principal, dpd in [
        (128_000, 0),
        (17_500, 15),
        (10_000, 45),
        (5_000, 75),
        (3_500, 120),
        (2_500, 300),
        (1_500, 400),
    ]:
        one_installment_loan(
            lkmm, frequency="monthly", principal=principal, due=at - datetime.timedelta(days=dpd)
        )
    # The reserve held: 10.000 set aside from operating income.
    entry_post(
        kind="provision",
        lkmm=lkmm,
        date=D(2026, 6, 1),
        memo="Penyisihan",
        lines=[(AccountCode.BEBAN_PENYISIHAN, 10_000, 0), (AccountCode.CADANGAN, 0, 10_000)],
    )
    figures = portfolio(lkmms=[lkmm], at=at)
    assert figures["outstanding"] == 168_000
    assert figures["par1_ratio"] == Decimal("23.81")
    assert figures["par30_ratio"] == Decimal("13.39")
    assert figures["par90_ratio"] == Decimal("4.46")
    assert figures["required"] == 13_125
    assert figures["held"] == 10_000
    assert figures["coverage"] == Decimal("76.19")
    assert figures["npl"] == 7_500
    classes = {
        row["quality_class"].code: (row["loans"], row["outstanding"], row["required"])
        for row in by_class(lkmms=[lkmm], at=at)
    }
    assert classes["0"] == (1, 128_000, 0)
    assert classes["91-180"] == (1, 3_500, 2_625)
    assert classes[">365"] == (1, 1_500, 1_500)


def test_arrears_at_a_past_date_ignore_later_payments():
    from loans.services import repayment_record

    lkmm = LkmmFactory()
    loan = one_installment_loan(lkmm, frequency="weekly")
    repayment_record(loan=loan, amount=100_000, paid_on=DUE + datetime.timedelta(days=40), actor=None)
    before = only(loans_at(DUE + datetime.timedelta(days=39), lkmms=[lkmm]), loan)
    assert (before.days_past_due, QualityClass.objects.get(pk=before.quality_class_id).code) == (39, "D")
    assert loan.pk not in [each.pk for each in loans_at(DUE + datetime.timedelta(days=40), lkmms=[lkmm])]


def test_repayment_rate_and_write_off_ratio():
    from loans.services import repayment_record
    from risk.selectors import repayment_rate, write_off_ratio
    from risk.services import loan_write_off
    from tests.factories import make_active_loan

    good = make_active_loan()  # 10 x 124.154 weekly from 08/01/2026
    lkmm = good.lkmm
    bad = make_active_loan(member=MemberFactory(lkmm=lkmm), product=good.product)
    repayment_record(loan=good, amount=124_154, paid_on=D(2026, 1, 8), actor=None)
    repayment_record(loan=good, amount=124_154, paid_on=D(2026, 1, 20), actor=None)  # installment 2, late
    # January 8-21: due 2 x 2 installments (4 x 124.154); received 2 x 124.154; nothing overdue before.
    rate = repayment_rate(lkmms=[lkmm], start=D(2026, 1, 8), end=D(2026, 1, 21))
    assert (rate["received"], rate["due"], rate["overdue_at_start"], rate["rate"]) == (
        248_308,
        4 * 124_154,
        0,
        Decimal("50.00"),
    )
    loan_write_off(loan=bad, actor=ketua_of(lkmm), on=D(2026, 3, 31), reason="tidak tertagih")
    ratio = write_off_ratio(lkmms=[lkmm], start=D(2026, 3, 1), end=D(2026, 3, 31))
    # Outstanding 1 March: good 960.000 (2 paid) + bad 1.200.000; 31 March: good 960.000.
    assert (ratio["written_off"], ratio["average_outstanding"]) == (1_200_000, 1_560_000)
    assert ratio["ratio"] == Decimal("76.92")


def test_a_built_in_policy_is_copied_for_editing():
    from risk.services import copy_policy

    original = QualityPolicy.objects.get(code="bank-5")
    copy = copy_policy(original)
    assert (copy.code, copy.built_in, copy.classes.count()) == ("bank-5-salinan-1", False, 5)
    assert copy_policy(original).code == "bank-5-salinan-2"
    assert original.classes.count() == 5
