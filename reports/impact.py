"""What the loans did for families (dampak), for one LKMM or every LKMM the user sees, each figure with
the definition the page prints beside it. Counts, sums and averages are aggregated in SQL. A median is
read in SQL too, portably (SQLite has no percentile_cont): the set is counted, then the one or two middle
values are read with ORDER BY ... LIMIT 2 OFFSET (n - 1) / 2, so no query returns more than two rows.
A fixed number of queries (nine) whatever the number of LKMMs, members or loans."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, ExtractYear

from loans.models import DISBURSED_STATUSES, Loan, LoanStatus
from members.models import Gender, IncomeRecord, Member, MemberStatus

# Members who were admitted (and may since have left or been blocked): their income was recorded at
# admission, and their loans count. Applicants and the rejected are not members.
ADMITTED = (MemberStatus.AKTIF, MemberStatus.KELUAR, MemberStatus.DIBLOKIR)
# Monthly net income bands (rupiah): [low, high), the last open-ended.
INCOME_BANDS = (
    (None, 500_000),
    (500_000, 1_000_000),
    (1_000_000, 2_000_000),
    (2_000_000, 3_000_000),
    (3_000_000, 5_000_000),
    (5_000_000, None),
)
PAID_OFF_AT_LEAST = 3


def _percent(part, whole):
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _whole(value):
    """Half up to the whole rupiah (DOMAIN.md), for averages and the mean of two middle values."""
    if value is None:
        return None
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def median(queryset, field, count):
    """The median of `field` over `queryset` (of `count` rows, already counted): the middle value, or the
    mean of the two middle ones rounded half up. One query of at most two rows; None for an empty set."""
    if not count:
        return None
    middle = list(queryset.order_by(field).values_list(field, flat=True)[(count - 1) // 2 : count // 2 + 1])
    return _whole(Decimal(sum(middle)) / len(middle))


def _band_filter(field, low, high):
    condition = Q()
    if low is not None:
        condition &= Q(**{f"{field}__gte": low})
    if high is not None:
        condition &= Q(**{f"{field}__lt": high})
    return condition


def income(members):
    """Monthly net income at admission against the member's latest follow-up (members.IncomeRecord, the
    latest by date), over the admitted members who have both: how many, the median of each, and how many
    fall in each band at admission and at the latest follow-up. Three queries."""
    latest = IncomeRecord.objects.filter(member=OuterRef("pk")).order_by("-recorded_on", "-pk")
    followed = (
        members.filter(net_income_at_admission__isnull=False)
        .annotate(latest_income=Subquery(latest.values("net_income")[:1]))
        .filter(latest_income__isnull=False)
    )
    aggregates = {
        "n": Count("pk"),
        "rose": Count("pk", filter=Q(latest_income__gt=F("net_income_at_admission"))),
    }
    for i, (low, high) in enumerate(INCOME_BANDS):
        aggregates[f"admission_{i}"] = Count("pk", filter=_band_filter("net_income_at_admission", low, high))
        aggregates[f"latest_{i}"] = Count("pk", filter=_band_filter("latest_income", low, high))
    totals = followed.aggregate(**aggregates)
    n = totals["n"]
    return {
        "members": n,
        "rose": totals["rose"],
        "rose_share": _percent(totals["rose"], n),
        "median_admission": median(followed, "net_income_at_admission", n),
        "median_latest": median(followed, "latest_income", n),
        "bands": [
            {"low": low, "high": high, "admission": totals[f"admission_{i}"], "latest": totals[f"latest_{i}"]}
            for i, (low, high) in enumerate(INCOME_BANDS)
        ],
    }


def impact(*, lkmms):
    """Every impact figure of the LKMMs `lkmms` (a queryset of Lkmm, read as a subquery)."""
    ids = lkmms.values("pk")
    admitted = Member.objects.filter(lkmm__in=ids, status__in=ADMITTED)
    members = admitted.aggregate(
        admitted=Count("pk"),
        active=Count("pk", filter=Q(status=MemberStatus.AKTIF)),
        dtsen=Count("pk", filter=Q(status=MemberStatus.AKTIF, dtsen_listed=True)),
        women=Count("pk", filter=Q(status=MemberStatus.AKTIF, gender=Gender.FEMALE)),
    )
    # New loans: disbursed (money went out), not the new loan of a restructure, which moved principal
    # that was already out.
    loans = Loan.objects.filter(lkmm__in=ids, status__in=DISBURSED_STATUSES, restructured_from__isnull=True)
    loan_totals = loans.aggregate(
        n=Count("pk"),
        amount=Coalesce(Sum("principal"), 0),
        average=Avg("principal"),
        women_n=Count("pk", filter=Q(member__gender=Gender.FEMALE)),
        women_amount=Coalesce(Sum("principal", filter=Q(member__gender=Gender.FEMALE)), 0),
    )
    by_year = list(
        loans.annotate(year=ExtractYear("disbursed_on"))
        .order_by()
        .values("year")
        .annotate(loans=Count("pk"), borrowers=Count("member", distinct=True), amount=Sum("principal"))
        .order_by("year")
    )
    joined = dict(
        admitted.annotate(year=ExtractYear("joined_on"))
        .order_by()
        .values("year")
        .annotate(n=Count("pk"))
        .values_list("year", "n")
    )
    for row in by_year:
        row["members"] = sum(n for year, n in joined.items() if year <= row["year"])
        row["per_borrower"] = _ratio(row["loans"], row["borrowers"])
        row["per_member"] = _ratio(row["loans"], row["members"])
    paid_off = (
        Loan.objects.filter(lkmm__in=ids, status=LoanStatus.LUNAS)
        .order_by()
        .values("member")
        .annotate(n=Count("pk"))
        .filter(n__gte=PAID_OFF_AT_LEAST)
        .count()
    )
    return {
        "members": members,
        "dtsen_share": _percent(members["dtsen"], members["active"]),
        "women_share": _percent(members["women"], members["active"]),
        "income": income(admitted),
        "loans": {
            **loan_totals,
            "average": _whole(loan_totals["average"]),
            "median": median(loans, "principal", loan_totals["n"]),
            "women_share": _percent(loan_totals["women_n"], loan_totals["n"]),
            "women_amount_share": _percent(loan_totals["women_amount"], loan_totals["amount"]),
        },
        "by_year": by_year,
        "paid_off_3": paid_off,
        "paid_off_3_share": _percent(paid_off, members["admitted"]),
    }


def _ratio(part, whole):
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
