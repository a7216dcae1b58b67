"""Reads that pages share. Each owns its joins and aggregates in the database."""

from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from loans import schedule
from loans.models import Allocation, Installment


def installments_with_paid(*, loan, at):
    """The loan's installments, each annotated with what it has received by `at`."""
    counted = Allocation.objects.counting_at(at).filter(installment=OuterRef("pk")).values("installment")
    return (
        Installment.objects.filter(loan=loan)
        .annotate(
            paid_principal=Coalesce(Subquery(counted.annotate(s=Sum("principal")).values("s")), 0),
            paid_interest=Coalesce(Subquery(counted.annotate(s=Sum("interest")).values("s")), 0),
        )
        .order_by("seq")
    )


def borrower_record(*, loan, at):
    """What a decider weighs on a loan application: the member's other loans with their standing, the
    arrears on them, how their installments were paid, and who vouched for the member at admission.

    A fixed number of queries (the other loans with standing, one aggregate over their installments, the
    admission application), whatever the member's history.
    """
    from django.db.models import Count, F, Q

    from loans.models import Loan, LoanStatus
    from members.models import Decision

    others = list(
        Loan.objects.filter(member_id=loan.member_id)
        .exclude(pk=loan.pk)
        .select_related("product")
        .with_standing(at)
        .order_by("-applied_on", "-pk")
    )
    active = [other for other in others if other.status == LoanStatus.AKTIF]
    # Installments of the member's disbursed loans that fell due before `at`: paid by their due date,
    # paid late, or still unpaid.
    counts = Installment.objects.filter(
        loan__member_id=loan.member_id, loan__disbursed_on__isnull=False, due_date__lt=at
    ).aggregate(
        due=Count("pk"),
        on_time=Count("pk", filter=Q(settled_on_derived__lte=F("due_date"))),
        late=Count("pk", filter=Q(settled_on_derived__gt=F("due_date"))),
    )
    admission = (
        loan.member.applications.filter(decision=Decision.APPROVED)
        .select_related("referee_member", "referee_board")
        .order_by("-decided_at", "-pk")
        .first()
    )
    return {
        "loans": others,
        "active": len(active),
        "pending": sum(o.status in (LoanStatus.DIAJUKAN, LoanStatus.DISETUJUI) for o in others),
        "paid_off": sum(o.status == LoanStatus.LUNAS for o in others),
        "outstanding": sum(o.outstanding for o in active),
        "arrears": sum(o.overdue_amount for o in active),
        "days_past_due": max((o.days_past_due or 0 for o in active), default=0),
        "installments_due": counts["due"],
        "installments_on_time": counts["on_time"],
        "installments_late": counts["late"],
        "installments_unpaid": counts["due"] - counts["on_time"] - counts["late"],
        "referee": admission.referee if admission else None,
        "referee_member": admission.referee_member if admission else None,
    }


def product_effective_rate(product, *, on=None):
    """The equivalent effective annual rate of a product (DOMAIN.md) at its maximum amount and full term:
    the IRR of what the borrower receives (less a fee deducted at disbursement) and the installments."""
    from django.utils import timezone

    from loans.services import admin_fee_for

    lines = schedule.build_schedule(
        principal=product.max_amount,
        rate_per_month=product.rate_per_month,
        count=product.installment_count,
        frequency=product.frequency,
        method=product.interest_method,
        rounding_unit=product.rounding_unit,
        first_due=on or timezone.localdate(),
    )
    fee = admin_fee_for(product, product.max_amount) if product.admin_fee_mode == "deducted" else 0
    return schedule.effective_annual_rate(
        received=product.max_amount - fee,
        installments=[line.total for line in lines],
        frequency=product.frequency,
    )
