"""What waits for someone at an LKMM: the decision inbox (DOMAIN.md "Authority and four eyes").

Four lists: member applications, loan applications, approved loans not yet disbursed, and the requests
that four eyes creates. Their counts come first, in one query (waiting_counts), and only a list that has
something in it is read, in one query however long the LKMM's history: an LKMM with nothing waiting, the
usual case, reads its home's box in one query instead of four. The home page shows the first few of each;
`/keputusan/` shows them all. The ketua's bottom bar shows the total (navigation.waiting_decisions).
"""

from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from institutions.models import DecisionRequest, Lkmm

HOME_SHOWN = 5


@dataclass
class Inbox:
    members: list = field(default_factory=list)
    loans: list = field(default_factory=list)
    to_disburse: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    @property
    def total(self):
        return sum(self.counts.values())


def _waiting():
    """{list name: every LKMM's waiting items of it}, the lists in the order the inbox shows them."""
    from loans.models import Loan, LoanStatus
    from members.models import Member, MemberStatus

    return {
        "members": Member.objects.filter(status=MemberStatus.PENDAFTAR),
        "loans": Loan.objects.filter(status=LoanStatus.DIAJUKAN),
        "to_disburse": Loan.objects.filter(status=LoanStatus.DISETUJUI),
        "requests": DecisionRequest.objects.waiting(),
    }


def _count(queryset):
    return Coalesce(
        Subquery(
            queryset.filter(lkmm=OuterRef("pk"))
            .order_by()
            .values("lkmm")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def waiting_counts(lkmm_id):
    """{list name: how many wait} at the LKMM, in one query."""
    # Prefixed: the LKMM has relations named like the lists.
    sums = {f"waiting_{name}": _count(queryset) for name, queryset in _waiting().items()}
    row = Lkmm.objects.filter(pk=lkmm_id).annotate(**sums).values(*sums).first() or dict.fromkeys(sums, 0)
    return {alias.removeprefix("waiting_"): n for alias, n in row.items()}


def inbox(*, lkmm, limit=None):
    """The LKMM's waiting items, oldest first, at most `limit` of each (all when None), with full counts."""
    counts = waiting_counts(lkmm.pk)
    waiting = {name: queryset.filter(lkmm=lkmm) for name, queryset in _waiting().items()}
    lists = {
        "members": waiting["members"]
        .annotate(submitted_at=Max("applications__submitted_at"))
        .order_by("submitted_at", "pk"),
        "loans": waiting["loans"].select_related("member", "created_by").order_by("applied_on", "pk"),
        "to_disburse": waiting["to_disburse"].select_related("member").order_by("applied_on", "pk"),
        "requests": waiting["requests"].select_related("requested_by"),
    }
    box = Inbox(counts=counts)
    for name, queryset in lists.items():
        if counts[name]:
            setattr(box, name, list(queryset if limit is None else queryset[:limit]))
    return box
