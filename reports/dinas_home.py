"""The Dinas home for a chosen month (issue 11): per LKMM of the reviewer's Dinas, the month-end portfolio
(stored: ledger.PeriodClose.summary or ledger.MonthFigures, read through risk.selectors.month_figures), what
happened in the month, a health flag by the Dinas's own thresholds, and kecamatan and city totals.

Every figure comes from a fixed number of queries, each grouped by LKMM, whatever the number of LKMMs.
A printed total is always the sum of the rows under it; a total's percentages are computed from its
summed amounts (NPL = summed NPL outstanding / summed outstanding), never averaged over the rows.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Max, Sum
from django.utils import timezone

from ledger.models import EntryKind, JournalEntry
from loans.models import DISBURSED_STATUSES, Allocation, Installment, Loan, Repayment
from members.models import Member, MemberStatus
from risk import figures as figures_sql
from risk.selectors import combine, month_end, month_figures

BERMASALAH, PERHATIAN, SEHAT = "bermasalah", "perhatian", "sehat"
FLAG_ORDER = {BERMASALAH: 0, PERHATIAN: 1, SEHAT: 2}
# Recorded activity: payments, disbursements and vouchers (kas masuk/keluar, pemindahbukuan).
ACTIVITY_KINDS = [
    EntryKind.REPAYMENT,
    EntryKind.DISBURSEMENT,
    EntryKind.CASH_IN,
    EntryKind.CASH_OUT,
    EntryKind.TRANSFER,
]
QUIET_DAYS = 30  # no activity for more than this many days: perlu perhatian
CLOSE_BY_DAY = 10  # a month is closed by this day of the next month
# The month's own amounts, summed into kecamatan and city totals beside the portfolio's.
FLOW_KEYS = ("members", "borrowers", "disbursed", "collected", "received", "due", "overdue_at_start")


def percent(part, whole):
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _grouped(queryset, lkmm_field, value):
    return dict(queryset.values(lkmm_field).annotate(v=value).values_list(lkmm_field, "v"))


def month_activity(*, lkmms, month, upto=None, stored=None):
    """{lkmm id: {members, borrowers, disbursed, collected, received, due, overdue_at_start,
    last_activity}} for `month` (a first day); `upto`: the last day counted (the month's end by default;
    today for the month still running). Eight queries whatever the number of LKMMs, six when `stored`
    (the month's stored figures, risk.selectors.month_figures) holds borrowers and overdue_at_start.

    - members: active members who had joined by `upto` (members' exits carry no date, so one who left
      since counts as gone already);
    - borrowers: members with principal outstanding at `upto`;
    - disbursed: principal of the loans disbursed in the month (a restructure moves a balance, it is not
      a disbursement);
    - collected: payments received in the month that still count at `upto` (a payment reversed by then
      does not);
    - received, due, overdue_at_start: the repayment rate's parts (DOMAIN.md; as
      risk.selectors.repayment_rate computes them);
    - last_activity: the date of the latest payment, disbursement or voucher recorded by `upto`.
    """
    ids = [lkmm.pk for lkmm in lkmms]
    start = month.replace(day=1)
    end = upto or month_end(start)
    members = _grouped(
        Member.objects.filter(lkmm__in=ids, status=MemberStatus.AKTIF, joined_on__lte=end), "lkmm", Count("*")
    )
    if stored is not None and upto is None:
        # A month that has ended: kept with its stored figures (risk.selectors.month_flows).
        borrowers = {pk: stored[pk]["borrowers"] for pk in ids}
        overdue = {pk: stored[pk]["overdue_at_start"] for pk in ids}
    else:
        borrowers = figures_sql.borrowers_by_lkmm(end, lkmms=ids)
        overdue = {pk: row["overdue"] for pk, row in figures_sql.totals_by_lkmm(start, lkmms=ids).items()}
    disbursed = _grouped(
        Loan.objects.filter(
            lkmm__in=ids, disbursed_on__gte=start, disbursed_on__lte=end, restructured_from__isnull=True
        ),
        "lkmm",
        Sum("principal"),
    )
    collected = _grouped(
        Repayment.objects.counting_at(end).filter(lkmm__in=ids, paid_on__gte=start), "lkmm", Sum("amount")
    )
    received = _grouped(
        Allocation.objects.counting_at(end).filter(
            installment__loan__lkmm__in=ids,
            repayment__paid_on__gte=start,
            repayment__paid_on__lte=end,
            installment__due_date__lte=end,
        ),
        "installment__loan__lkmm",
        Sum(F("principal") + F("interest")),
    )
    due = _grouped(
        Installment.objects.filter(
            loan__lkmm__in=ids, loan__status__in=DISBURSED_STATUSES, due_date__gte=start, due_date__lte=end
        ),
        "loan__lkmm",
        Sum(F("principal") + F("interest")),
    )
    last = _grouped(
        JournalEntry.objects.filter(lkmm__in=ids, kind__in=ACTIVITY_KINDS, date__lte=end), "lkmm", Max("date")
    )
    return {
        pk: {
            "members": members.get(pk, 0),
            "borrowers": borrowers.get(pk, 0),
            "disbursed": disbursed.get(pk) or 0,
            "collected": collected.get(pk) or 0,
            "received": received.get(pk) or 0,
            "due": due.get(pk) or 0,
            "overdue_at_start": overdue.get(pk) or 0,
            "last_activity": _date(last.get(pk)),
        }
        for pk in ids
    }


def _date(value):
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def with_rates(figures):
    """The month's repayment rate from its parts (a row's or a total's)."""
    figures["repayment_rate"] = percent(figures["received"], figures["due"] + figures["overdue_at_start"])
    return figures


def close_deadline(month):
    """The last day on which `month` counts as closed in time: the 10th of the next month."""
    return (month_end(month) + datetime.timedelta(days=1)).replace(day=CLOSE_BY_DAY)


def closed_late(close, month, today):
    """Not closed by the 10th of the next month: still open after that day, or closed after it."""
    deadline = close_deadline(month)
    if close is None:
        return today > deadline
    return timezone.localtime(close.closed_at).date() > deadline


def health(figures, *, dinas, month, today):
    """(flag, reasons) of one LKMM for `month` by its Dinas's thresholds:
    bermasalah: NPL above its threshold, or the reserve covering less than its threshold of what is
    required (only when a reserve is required); perlu perhatian: PAR30 above its threshold, no payment,
    disbursement or voucher for more than 30 days before the month's end, or the month not closed by
    the 10th of the next month; otherwise sehat. A bound is not crossed at the bound itself."""
    reasons = []
    if figures["npl_ratio"] is not None and figures["npl_ratio"] > dinas.npl_threshold_pct:
        reasons.append("npl")
    if figures["required"] and (figures["coverage"] or 0) < dinas.coverage_threshold_pct:
        reasons.append("coverage")
    bad = bool(reasons)
    if figures["par30_ratio"] is not None and figures["par30_ratio"] > dinas.par30_threshold_pct:
        reasons.append("par30")
    last = figures.get("last_activity")
    if last is None or (month_end(month) - last).days > QUIET_DAYS:
        reasons.append("quiet")
    if closed_late(figures.get("closed"), month, today):
        reasons.append("close")
    if bad:
        return BERMASALAH, reasons
    return (PERHATIAN if reasons else SEHAT), reasons


def dinas_rows(*, lkmms, month, dinas, today=None):
    """The rows of the Dinas home: [{lkmm, figures, flag, reasons}] in the LKMMs' order, each row's
    figures the stored month-end portfolio plus the month's activity and repayment rate."""
    today = today or timezone.localdate()
    lkmms = list(lkmms)
    stored = month_figures(lkmms=lkmms, month=month)
    activity = month_activity(lkmms=lkmms, month=month, stored=stored)
    rows = []
    for lkmm in lkmms:
        figures = with_rates({**stored[lkmm.pk], **activity[lkmm.pk]})
        flag, reasons = health(figures, dinas=dinas, month=month, today=today)
        rows.append({"lkmm": lkmm, "figures": figures, "flag": flag, "reasons": reasons})
    return rows


def total(figures):
    """The sum of some rows' figures: every amount summed, every percentage from the summed amounts."""
    figures = list(figures)
    result = combine(figures)
    for key in FLOW_KEYS:
        result[key] = sum(f.get(key) or 0 for f in figures)
    result["provisional"] = any(f.get("provisional") for f in figures)
    return with_rates(result)


def by_kecamatan(rows):
    """[(kecamatan, number of LKMMs, totals)] by name."""
    groups = {}
    for row in rows:
        groups.setdefault(row["lkmm"].kecamatan, []).append(row["figures"])
    return [(name, len(group), total(group)) for name, group in sorted(groups.items())]
