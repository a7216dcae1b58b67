"""Reads that pages share. Each owns its joins and aggregates in the database."""

from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

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
