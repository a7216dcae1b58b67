"""What waits for someone at an LKMM: the decision inbox (DOMAIN.md "Authority and four eyes").

Four lists, each one query however long the LKMM's history: member applications, loan applications,
approved loans not yet disbursed, and the requests that four eyes creates. The home page shows the first
few of each; `/keputusan/` shows them all. The bottom bar's count is navigation.waiting_decisions.
"""

from dataclasses import dataclass, field

from django.db.models import Max

from institutions.models import DecisionRequest

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


def inbox(*, lkmm, limit=None):
    """The LKMM's waiting items, oldest first, at most `limit` of each (all when None), with full counts."""
    from loans.models import Loan, LoanStatus
    from members.models import Member, MemberStatus

    members = (
        Member.objects.filter(lkmm=lkmm, status=MemberStatus.PENDAFTAR)
        .annotate(submitted_at=Max("applications__submitted_at"))
        .order_by("submitted_at", "pk")
    )
    loans = Loan.objects.filter(lkmm=lkmm).select_related("member", "product", "created_by")
    applications = loans.filter(status=LoanStatus.DIAJUKAN).order_by("applied_on", "pk")
    to_disburse = loans.filter(status=LoanStatus.DISETUJUI).order_by("applied_on", "pk")
    requests = DecisionRequest.objects.waiting().filter(lkmm=lkmm).select_related("requested_by")

    def cut(queryset):
        return list(queryset if limit is None else queryset[:limit])

    box = Inbox(
        members=cut(members),
        loans=cut(applications),
        to_disburse=cut(to_disburse),
        requests=cut(requests),
    )
    # A list shorter than its limit is its own count; only a full one asks the database.
    for name, queryset in (
        ("members", members),
        ("loans", applications),
        ("to_disburse", to_disburse),
        ("requests", requests),
    ):
        shown = getattr(box, name)
        box.counts[name] = len(shown) if limit is None or len(shown) < limit else queryset.count()
    return box
