"""Loan quality, reserve and portfolio measures for any date and any set of LKMMs, in the database.

Every figure is one aggregate query over loans annotated by LoanQuerySet.with_standing (days past due
from the allocation table) and by the LKMM's quality policy, turned into SQL CASE expressions here.
The required reserve and the KSP weighted sum are sums of whole rupiah, each loan rounded on its own
(DOMAIN.md "Required reserve (PPAP)"), so every total is the sum of the rows printed under it.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Round

from ledger.models import AccountCode, JournalLine
from loans.models import DISBURSED_STATUSES, Loan
from risk.models import QualityClass

FREQUENCIES = ("daily", "weekly", "monthly")
RATE = DecimalField(max_digits=5, decimal_places=2)


def _class_conditions(at, lkmms):
    """[(class, Q)] in matching order: a loan takes the first class whose Q it satisfies."""
    classes = QualityClass.objects.filter(policy__lkmms__isnull=False)
    if lkmms is not None:
        classes = classes.filter(policy__lkmms__in=lkmms)
    conditions = []
    for quality_class in classes.distinct().order_by("policy_id", "position"):
        for frequency in FREQUENCIES:
            limit = quality_class.max_dpd(frequency)
            condition = Q(lkmm__quality_policy_id=quality_class.policy_id, frequency=frequency)
            if limit is not None:
                # DPD <= limit  <=>  nothing overdue, or the oldest unpaid due date is on or after at - limit.
                condition &= Q(oldest_overdue_on__isnull=True) | Q(
                    oldest_overdue_on__gte=at - datetime.timedelta(days=limit)
                )
            conditions.append((quality_class, condition))
    return conditions


def rupiah_of_percent(percent):
    """round_half_up(percent% x outstanding) of each loan, in integer SQL that SQLite and PostgreSQL
    evaluate alike: the percent (two decimals) as a whole number of hundredths (ROUNDed, as SQLite
    multiplies 1.15 x 100 in floating point to 114.99999999999999), then (outstanding x hundredths +
    5000) / 10000, an integer division of non-negative integers, which is exactly half up."""
    hundredths = Cast(Round(F(percent) * 100), IntegerField())
    return (Cast("outstanding", BigIntegerField()) * hundredths + 5000) / 10000


def loans_at(at, *, lkmms=None):
    """The portfolio at `at`: loans disbursed by then with principal outstanding at `at`, each annotated
    with its standing, its quality class (id, reserve rate, non-performing, KSP weight) and its required
    reserve in whole rupiah."""
    loans = Loan.objects.filter(status__in=DISBURSED_STATUSES, disbursed_on__lte=at)
    if lkmms is not None:
        loans = loans.filter(lkmm__in=lkmms)
    loans = loans.with_standing(at).filter(outstanding__gt=0)
    conditions = _class_conditions(at, lkmms)

    def case(value, output_field, default):
        return Case(
            *[When(q, then=Value(value(c))) for c, q in conditions],
            default=default,
            output_field=output_field,
        )

    return loans.annotate(
        quality_class_id=case(lambda c: c.pk, None, Value(None)),
        reserve_rate=case(lambda c: c.reserve_rate, RATE, Value(Decimal(0))),
        non_performing=case(lambda c: c.non_performing, BooleanField(), Value(False)),
        ksp_weight=case(lambda c: c.ksp_weight, RATE, Value(Decimal(0))),
    ).annotate(required_reserve=rupiah_of_percent("reserve_rate"))


def _percent(part, whole):
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def reserve_held(*, lkmms, at):
    """Balance of the cadangan risiko account (a credit balance) at `at`."""
    totals = JournalLine.objects.filter(
        account__lkmm__in=lkmms, account__code=AccountCode.CADANGAN, entry__date__lte=at
    ).aggregate(debit=Coalesce(Sum("debit"), 0), credit=Coalesce(Sum("credit"), 0))
    return totals["credit"] - totals["debit"]


def _aggregates(at):
    restructured = Q(restructured_from__isnull=False)

    def past(days):
        return Q(oldest_overdue_on__lt=at - datetime.timedelta(days=days)) | restructured

    return {
        "loans": Count("pk"),
        "total_outstanding": Coalesce(Sum("outstanding"), 0),
        "overdue": Coalesce(Sum("overdue_amount"), 0),
        "past_due_loans": Count("pk", filter=Q(oldest_overdue_on__isnull=False)),
        "npl": Coalesce(Sum("outstanding", filter=Q(non_performing=True)), 0),
        "par1": Coalesce(Sum("outstanding", filter=Q(oldest_overdue_on__isnull=False) | restructured), 0),
        "par30": Coalesce(Sum("outstanding", filter=past(30)), 0),
        "par90": Coalesce(Sum("outstanding", filter=past(90)), 0),
        "required": Coalesce(Sum("required_reserve"), 0),
        "ksp_problem": Coalesce(Sum(rupiah_of_percent("ksp_weight")), 0),
    }


def _finish(figures, held):
    """Ratios from the parts."""
    figures["outstanding"] = figures.pop("total_outstanding")
    figures["held"] = held
    total = figures["outstanding"]
    figures.update(
        npl_ratio=_percent(figures["npl"], total),
        par1_ratio=_percent(figures["par1"], total),
        par30_ratio=_percent(figures["par30"], total),
        par90_ratio=_percent(figures["par90"], total),
        coverage=_percent(held, figures["required"]),
        ksp_coverage=_percent(held, figures["ksp_problem"]),
    )
    return figures


def portfolio(*, lkmms, at):
    """Portfolio measures for a set of LKMMs together at `at` (DOMAIN.md "Ratios"), with their parts."""
    figures = loans_at(at, lkmms=lkmms).aggregate(**_aggregates(at))
    return _finish(figures, reserve_held(lkmms=lkmms, at=at))


def combine(figures):
    """The measures of several LKMMs together, from each one's figures (no further queries)."""
    keys = [
        "loans",
        "outstanding",
        "overdue",
        "past_due_loans",
        "npl",
        "par1",
        "par30",
        "par90",
        "required",
        "ksp_problem",
        "members",
    ]
    total = {key: sum(f.get(key) or 0 for f in figures) for key in keys}
    total["total_outstanding"] = total.pop("outstanding")
    held = sum(f["held"] for f in figures)
    members = total.pop("members")
    return {**_finish(total, held), "members": members}


def portfolio_by_lkmm(*, lkmms, at):
    """{lkmm id: portfolio measures} for each LKMM, in three queries whatever the number of LKMMs."""
    from members.models import Member, MemberStatus

    lkmms = list(lkmms)
    rows = {
        row.pop("lkmm"): row for row in loans_at(at, lkmms=lkmms).values("lkmm").annotate(**_aggregates(at))
    }
    held = dict(
        JournalLine.objects.filter(
            account__lkmm__in=lkmms, account__code=AccountCode.CADANGAN, entry__date__lte=at
        )
        .values("account__lkmm")
        .annotate(balance=Coalesce(Sum("credit"), 0) - Coalesce(Sum("debit"), 0))
        .values_list("account__lkmm", "balance")
    )
    members = dict(
        Member.objects.filter(lkmm__in=lkmms, status=MemberStatus.AKTIF)
        .values("lkmm")
        .annotate(n=Count("pk"))
        .values_list("lkmm", "n")
    )
    empty = dict.fromkeys(_aggregates(at), 0)
    return {
        lkmm.pk: {
            **_finish({**empty, **rows.get(lkmm.pk, {})}, held.get(lkmm.pk, 0)),
            "members": members.get(lkmm.pk, 0),
        }
        for lkmm in lkmms
    }


def by_class(*, lkmms, at):
    """Kolektibilitas: per quality class, the number of loans, their outstanding and required reserve."""
    rows = (
        loans_at(at, lkmms=lkmms)
        .values("quality_class_id")
        .annotate(loans=Count("pk"), total=Sum("outstanding"), reserve=Sum("required_reserve"))
    )
    classes = {c.pk: c for c in QualityClass.objects.filter(pk__in=[r["quality_class_id"] for r in rows])}
    result = [
        {
            "quality_class": classes.get(row["quality_class_id"]),
            "loans": row["loans"],
            "outstanding": row["total"],
            "required": row["reserve"],
        }
        for row in rows
    ]
    return sorted(
        result,
        key=lambda r: (
            (r["quality_class"].policy_id, r["quality_class"].position) if r["quality_class"] else (0, 0)
        ),
    )


def stored_summary(close):
    """The portfolio figures stored when a month was closed (ledger.PeriodClose.summary)."""
    decimals = {"npl_ratio", "par1_ratio", "par30_ratio", "par90_ratio", "coverage", "ksp_coverage"}
    summary = {
        key: (Decimal(value) if key in decimals and value is not None else value)
        for key, value in close.summary.items()
    }
    return {**summary, "closed": close}


def stored_portfolio(*, lkmm, at):
    """The figures stored when the month ending on `at` was closed, or None (then compute them)."""
    from ledger.models import PeriodClose

    if (at + datetime.timedelta(days=1)).day != 1:
        return None
    close = PeriodClose.objects.filter(lkmm=lkmm, month=at.replace(day=1), reopened_at__isnull=True).first()
    return stored_summary(close) if close is not None else None


def repayment_rate(*, lkmms, start, end):
    """DOMAIN.md: money received in [start, end] and applied to installments due in the period or
    earlier, divided by the amounts due in the period plus the amounts overdue at its start."""
    from loans.models import Allocation, Installment

    received = (
        Allocation.objects.counting_at(end)
        .filter(
            installment__loan__lkmm__in=lkmms,
            repayment__paid_on__gte=start,
            repayment__paid_on__lte=end,
            installment__due_date__lte=end,
        )
        .aggregate(s=Coalesce(Sum(F("principal") + F("interest")), 0))["s"]
    )
    due = Installment.objects.filter(
        loan__lkmm__in=lkmms, loan__status__in=DISBURSED_STATUSES, due_date__gte=start, due_date__lte=end
    ).aggregate(s=Coalesce(Sum(F("principal") + F("interest")), 0))["s"]
    overdue = (
        Loan.objects.filter(lkmm__in=lkmms, status__in=DISBURSED_STATUSES, disbursed_on__lt=start)
        .with_standing(start)
        .aggregate(s=Coalesce(Sum("overdue_amount"), 0))["s"]
    )
    return {
        "received": received,
        "due": due,
        "overdue_at_start": overdue,
        "rate": _percent(received, due + overdue),
    }


def write_off_ratio(*, lkmms, start, end):
    """Written off in [start, end] divided by the average outstanding (of the start and the end)."""
    written_off = Loan.objects.filter(
        lkmm__in=lkmms, written_off_on__gte=start, written_off_on__lte=end
    ).aggregate(s=Coalesce(Sum("written_off_principal"), 0))["s"]
    average = (
        loans_at(start, lkmms=lkmms).aggregate(s=Coalesce(Sum("outstanding"), 0))["s"]
        + loans_at(end, lkmms=lkmms).aggregate(s=Coalesce(Sum("outstanding"), 0))["s"]
    ) / 2
    return {
        "written_off": written_off,
        "average_outstanding": int(average),
        "ratio": _percent(written_off, average),
    }
