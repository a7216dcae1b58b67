"""Portfolio figures, aggregated in the database for any set of LKMMs at a date."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from loans.models import Allocation, Installment, Loan, LoanStatus
from members.models import Member, MemberStatus


def ratio(part, whole):
    """Percentage to two decimals; None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def portfolio_by_lkmm(*, lkmms, at):
    """{lkmm_id: figures} for active loans at `at`: outstanding, overdue amount, loans past due and the
    outstanding of loans past due more than 0 and 30 days (PAR1, PAR30)."""
    cutoff30 = at - datetime.timedelta(days=30)
    rows = (
        Loan.objects.filter(lkmm__in=lkmms, status=LoanStatus.AKTIF)
        .with_standing(at)
        .values("lkmm")
        .annotate(
            loans=Count("pk"),
            outstanding_total=Sum("outstanding"),
            overdue_total=Sum("overdue_amount"),
            past_due_loans=Count("pk", filter=Q(oldest_overdue_on__isnull=False)),
            par1_outstanding=Coalesce(Sum("outstanding", filter=Q(oldest_overdue_on__isnull=False)), 0),
            par30_outstanding=Coalesce(Sum("outstanding", filter=Q(oldest_overdue_on__lt=cutoff30)), 0),
        )
    )
    members = dict(
        Member.objects.filter(lkmm__in=lkmms, status=MemberStatus.AKTIF)
        .values("lkmm")
        .annotate(n=Count("pk"))
        .values_list("lkmm", "n")
    )
    figures = {}
    for row in rows:
        row["par1"] = ratio(row["par1_outstanding"], row["outstanding_total"])
        row["par30"] = ratio(row["par30_outstanding"], row["outstanding_total"])
        figures[row["lkmm"]] = row
    empty = {
        "loans": 0,
        "outstanding_total": 0,
        "overdue_total": 0,
        "past_due_loans": 0,
        "par1_outstanding": 0,
        "par30_outstanding": 0,
        "par1": None,
        "par30": None,
    }
    return {
        lkmm.pk: {**empty, **figures.get(lkmm.pk, {}), "members": members.get(lkmm.pk, 0)} for lkmm in lkmms
    }


def installments_due_between(*, lkmm, start, end, at):
    """Installments of active loans due in [start, end] with what is still unpaid on them at `at`."""
    paid = (
        Allocation.objects.counting_at(at)
        .filter(installment=OuterRef("pk"))
        .values("installment")
        .annotate(s=Sum(F("principal") + F("interest")))
        .values("s")
    )
    return (
        Installment.objects.filter(
            loan__lkmm=lkmm, loan__status=LoanStatus.AKTIF, due_date__gte=start, due_date__lte=end
        )
        .annotate(remaining=F("principal") + F("interest") - Coalesce(Subquery(paid), 0))
        .filter(remaining__gt=0)
        .select_related("loan__member")
        .order_by("due_date", "loan__member__full_name")
    )
