"""Loan quality, reserve and portfolio measures for any date and any set of LKMMs, in the database.

Every figure comes from risk.figures: one SQL statement over the loans' standing at the date (the kept
standing from today on, the versioned allocation before), joined to the policy's classes as bands.
The required reserve and the KSP weighted sum are sums of whole rupiah, each loan rounded on its own
(DOMAIN.md "Required reserve (PPAP)"), so every total is the sum of the rows printed under it.
"""

import datetime
import functools
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import BigIntegerField, Count, F, IntegerField, Max, OuterRef, Subquery, Sum
from django.db.models.functions import Cast, Coalesce, Round

from institutions.models import Lkmm
from ledger.models import MONTH_FLOW_FIELDS, Account, AccountCode, JournalLine
from loans.models import DISBURSED_STATUSES, Loan
from risk import figures as figures_sql
from risk.models import QualityClass


def rupiah_of_percent(percent):
    """round_half_up(percent% x outstanding) of each loan, in integer SQL that SQLite and PostgreSQL
    evaluate alike: the percent (two decimals) as a whole number of hundredths (ROUNDed, as SQLite
    multiplies 1.15 x 100 in floating point to 114.99999999999999), then (outstanding x hundredths +
    5000) / 10000, an integer division of non-negative integers, which is exactly half up. risk.figures
    writes the same expression in its SQL."""
    hundredths = Cast(Round(F(percent) * 100), IntegerField())
    return (Cast("outstanding", BigIntegerField()) * hundredths + 5000) / 10000


def loans_at(at, *, lkmms=None, past_due_only=False, queryset=None):
    """The portfolio at `at`: the loans (from `queryset`, all by default) disbursed by then with principal
    outstanding at `at`, ordered by loan number, each carrying its figures from risk.figures
    (outstanding, oldest_overdue_on and days_past_due, overdue_amount, overdue_fees, quality_class_id,
    reserve_rate, non_performing, ksp_weight, required_reserve). `past_due_only`: only the loans with an
    installment past due, most days past due first. Two queries whatever the number of loans."""
    figures = figures_sql.loan_figures(at, lkmms=lkmms, past_due_only=past_due_only)
    loans = (queryset if queryset is not None else Loan.objects.all()).filter(
        status__in=DISBURSED_STATUSES, disbursed_on__lte=at
    )
    if lkmms is not None:
        loans = loans.filter(lkmm__in=lkmms)
    if past_due_only:
        loans = loans.filter(pk__in=list(figures))
    result = []
    for loan in loans.order_by("number", "pk"):
        figure = figures.get(loan.pk)
        if figure is None:
            continue
        loan.standing_at = at
        for name in figures_sql.LoanFigures._fields:
            # days_past_due is Loan's property, from standing_at and oldest_overdue_on.
            if name not in ("loan_id", "lkmm_id", "required", "days_past_due"):
                setattr(loan, name, getattr(figure, name))
        loan.required_reserve = figure.required
        result.append(loan)
    if past_due_only:
        result.sort(key=lambda loan: loan.oldest_overdue_on)
    return result


def _percent(part, whole):
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def reserves_held(*, lkmms, at):
    """{lkmm id: balance of its cadangan risiko account (a credit balance) at `at`}, one small indexed sum
    per account: a join from every journal line would make the planner scan all of them, as it cannot
    know that the reserve accounts have few lines."""
    lines = (
        JournalLine.objects.filter(account=OuterRef("pk"), entry__date__lte=at)
        .values("account")
        .annotate(balance=Sum("credit") - Sum("debit"))
        .values("balance")
    )
    return dict(
        Account.objects.filter(lkmm__in=lkmms, code=AccountCode.CADANGAN)
        .annotate(balance=Coalesce(Subquery(lines), 0))
        .values_list("lkmm", "balance")
    )


def reserve_held(*, lkmms, at):
    """Balance of the cadangan risiko accounts of `lkmms` together (a credit balance) at `at`."""
    return sum(reserves_held(lkmms=lkmms, at=at).values())


def _finish(figures, held):
    """Ratios from the parts."""
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


def portfolio(*, lkmms, at, loan_figures=None):
    """Portfolio measures for a set of LKMMs together at `at` (DOMAIN.md "Ratios"), with their parts.
    `loan_figures`: those LKMMs' loan figures at `at` (risk.figures.loan_figures), when the caller has
    them already."""
    if loan_figures is None:
        totals = figures_sql.totals(at, lkmms=lkmms)
    else:
        totals = figures_sql.summarize(loan_figures.values())
    return _finish(totals, reserve_held(lkmms=lkmms, at=at))


def active_members(*, lkmms):
    """{lkmm id: number of active members now}."""
    from members.models import Member, MemberStatus

    return dict(
        Member.objects.filter(lkmm__in=lkmms, status=MemberStatus.AKTIF)
        .values("lkmm")
        .annotate(n=Count("*"))  # from the (lkmm, status) index alone
        .values_list("lkmm", "n")
    )


def portfolio_by_lkmm(*, lkmms, at):
    """{lkmm id: portfolio measures} for each LKMM, in three queries whatever the number of LKMMs."""
    lkmms = list(lkmms)
    rows = figures_sql.totals_by_lkmm(at, lkmms=lkmms)
    held = reserves_held(lkmms=lkmms, at=at)
    members = active_members(lkmms=lkmms)
    empty = dict.fromkeys(figures_sql.AGGREGATE_KEYS, 0)
    return {
        lkmm.pk: {
            **_finish({**empty, **rows.get(lkmm.pk, {})}, held.get(lkmm.pk, 0)),
            "members": members.get(lkmm.pk, 0),
        }
        for lkmm in lkmms
    }


def npl_by_lkmm(*, lkmms, at):
    """{lkmm id: {outstanding, npl, npl_ratio}} for each LKMM: portfolio_by_lkmm's first figures, for a
    page that shows only these (the Dinas home's "today" beside each LKMM). One query."""
    rows = figures_sql.outstanding_by_lkmm(at, lkmms=lkmms)
    result = {}
    for lkmm in lkmms:
        row = rows.get(lkmm.pk, {"outstanding": 0, "npl": 0})
        result[lkmm.pk] = {**row, "npl_ratio": _percent(row["npl"], row["outstanding"])}
    return result


def by_class(*, lkmms, at):
    """Kolektibilitas: per quality class, the number of loans, their outstanding and required reserve."""
    rows = figures_sql.totals_by_class(at, lkmms=lkmms)
    classes = {c.pk: c for c in QualityClass.objects.filter(pk__in=[r["quality_class_id"] for r in rows])}
    result = [
        {
            "quality_class": classes.get(row["quality_class_id"]),
            "loans": row["loans"],
            "outstanding": row["outstanding"],
            "required": row["required"],
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
    return {**_from_json(close.summary), "closed": close}


def stored_portfolio(*, lkmm, at):
    """The figures stored when the month ending on `at` was closed, or None (then compute them)."""
    from ledger.models import PeriodClose

    if (at + datetime.timedelta(days=1)).day != 1:
        return None
    close = PeriodClose.objects.filter(lkmm=lkmm, month=at.replace(day=1), reopened_at__isnull=True).first()
    return stored_summary(close) if close is not None else None


@functools.lru_cache(maxsize=512)
def month_end(month):
    """The last day of `month`'s month (pure, and called per row by the Dinas home: cached)."""
    return (month.replace(day=1) + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


RATIO_KEYS = ("npl_ratio", "par1_ratio", "par30_ratio", "par90_ratio", "coverage", "ksp_coverage")


def _from_json(figures):
    """Figures stored as JSON (PeriodClose.summary) as the code reads them: ratios as Decimals, the
    last activity as a date."""
    result = dict(figures)
    for key in RATIO_KEYS:
        value = result.get(key)
        if value is not None:
            result[key] = Decimal(value)
    if result.get("last_activity") is not None:
        result["last_activity"] = _as_date(result["last_activity"])
    return result


def stored_month(values):
    """The figures of one stored month row (ledger.MonthFigures, as a dict of its fields): the portfolio
    with its ratios, and the month's flows once kept."""
    figures = _finish({key: values[key] for key in figures_sql.AGGREGATE_KEYS}, values["held"])
    if values["flows_kept"]:
        figures.update({key: values[key] for key in FLOW_FIGURES})
    return figures


def month_figures_keep(*, lkmm_id, month, figures):
    """Store `figures` (portfolio figures at the end of `month`) as the month's row, the month's flows
    left as they are (risk.services.month_close keeps the figures it reported)."""
    from ledger.models import MONTH_PORTFOLIO_FIELDS, MonthFigures

    MonthFigures.objects.update_or_create(
        lkmm_id=lkmm_id, month=month, defaults={key: figures[key] for key in MONTH_PORTFOLIO_FIELDS}
    )


def month_figures(*, lkmms, month):
    """{lkmm id: portfolio figures at the end of `month`} (a month that has ended) for every LKMM, read
    from the stored rows (ledger.MonthFigures): a closed month's row holds the figures its close
    reported (marked "closed": the PeriodClose), any other is "provisional" (the month may still change
    until it is closed). Missing ones are computed in one statement for all of them and stored (a closed
    month's from its PeriodClose.summary); the month's flows are added to rows that lack them. A few
    queries whatever the number of LKMMs."""
    from ledger.models import MONTH_FLOW_FIELDS, MONTH_PORTFOLIO_FIELDS, MonthFigures, PeriodClose

    month = month.replace(day=1)
    lkmms = list(lkmms)
    ids = [lkmm.pk for lkmm in lkmms]
    closes = {
        close.lkmm_id: close
        for close in PeriodClose.objects.filter(lkmm__in=ids, month=month, reopened_at__isnull=True).defer(
            "summary"
        )
    }
    fields = ["lkmm_id", *MONTH_PORTFOLIO_FIELDS, "flows_kept", *MONTH_FLOW_FIELDS, "last_activity"]
    result = {
        values["lkmm_id"]: {
            **stored_month(values),
            "closed": closes.get(values["lkmm_id"]),
            "provisional": values["lkmm_id"] not in closes,
        }
        for values in MonthFigures.objects.filter(lkmm__in=ids, month=month).values(*fields)
    }
    missing = [lkmm for lkmm in lkmms if lkmm.pk not in result]
    if missing:
        # Computed and stored on the primary, with the LKMMs' rows locked as every money event locks
        # them (entry_post, and month_figures_forget for waivers): an event dated into the month either
        # commits before and is counted, or waits and then drops what was stored. Never from a replica,
        # which may lag.
        with transaction.atomic():
            list(Lkmm.objects.select_for_update().filter(pk__in=[lkmm.pk for lkmm in missing]).values("pk"))
            reported = {
                close.lkmm_id: _from_json(close.summary)
                for close in PeriodClose.objects.filter(
                    pk__in=[close.pk for close in closes.values() if close.lkmm_id not in result]
                ).only("lkmm_id", "summary")
            }
            open_ones = [lkmm for lkmm in missing if lkmm.pk not in reported]
            computed = portfolio_by_lkmm(lkmms=open_ones, at=month_end(month)) if open_ones else {}
            computed.update(reported)
            MonthFigures.objects.bulk_create(
                [
                    MonthFigures(
                        lkmm_id=pk, month=month, **{key: figures[key] for key in MONTH_PORTFOLIO_FIELDS}
                    )
                    for pk, figures in computed.items()
                ],
                ignore_conflicts=True,
            )
        for pk, figures in computed.items():
            figures = {key: figures[key] for key in MONTH_PORTFOLIO_FIELDS}
            result[pk] = {
                **_finish({key: figures[key] for key in figures_sql.AGGREGATE_KEYS}, figures["held"]),
                "closed": closes.get(pk),
                "provisional": pk not in closes,
            }
    _with_month_flows(result, month)
    return result


# What happened in a month, kept with its stored figures (they change only with entries dated in or
# before the month, which drop the stored rows: ledger.services.month_figures_forget).
FLOW_FIGURES = (*MONTH_FLOW_FIELDS, "last_activity")
# Recorded activity: payments, disbursements and vouchers (kas masuk/keluar, pemindahbukuan).
ACTIVITY_KINDS = ["repayment", "disbursement", "cash_in", "cash_out", "transfer"]


def _grouped(queryset, lkmm_field, value):
    return dict(queryset.values(lkmm_field).annotate(v=value).values_list(lkmm_field, "v"))


def month_flows(*, ids, month, upto=None):
    """{lkmm id: FLOW_FIGURES} for `month` (a first day) up to `upto` (its end by default). Nine
    queries whatever the number of LKMMs; two of them read the loans' history, and one counts every
    member, which is why these are computed once and kept with the month's figures (month_figures).

    - members: active members who had joined by the end, counted when the figures are kept (members'
      exits carry no date, so one who left before that counts as gone already);
    - borrowers: members with principal outstanding at the end;
    - disbursed: principal of the loans disbursed in the month (a restructure moves a balance, it is not
      a disbursement);
    - collected: payments received in the month that still count at the end;
    - received, due, overdue_at_start: the repayment rate's parts (DOMAIN.md; as repayment_rate);
    - last_activity: the date of the latest payment, disbursement or voucher recorded by the end;
    - savings, savers: what the members' savings accounts hold at the end, and how many members have
      savings (savings.selectors.savings_totals).
    """
    from ledger.models import JournalEntry
    from loans.models import Allocation, Installment, Repayment
    from members.models import Member, MemberStatus
    from savings.selectors import savings_totals

    start = month.replace(day=1)
    end = upto or month_end(start)
    members = _grouped(
        Member.objects.filter(lkmm__in=ids, status=MemberStatus.AKTIF, joined_on__lte=end), "lkmm", Count("*")
    )
    borrowers = figures_sql.borrowers_by_lkmm(end, lkmms=ids)
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
    overdue = {pk: row["overdue"] for pk, row in figures_sql.totals_by_lkmm(start, lkmms=ids).items()}
    last = _grouped(
        JournalEntry.objects.filter(lkmm__in=ids, kind__in=ACTIVITY_KINDS, date__lte=end), "lkmm", Max("date")
    )
    saved = savings_totals(lkmm_ids=ids, at=end)
    return {
        pk: {
            "savings": saved.get(pk, {}).get("total", 0),
            "savers": saved.get(pk, {}).get("savers", 0),
            "members": members.get(pk, 0),
            "borrowers": borrowers.get(pk, 0),
            "disbursed": disbursed.get(pk) or 0,
            "collected": collected.get(pk) or 0,
            "received": received.get(pk) or 0,
            "due": due.get(pk) or 0,
            "overdue_at_start": overdue.get(pk) or 0,
            "last_activity": _as_date(last.get(pk)),
        }
        for pk in ids
    }


def _as_date(value):
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _with_month_flows(result, month):
    """Add FLOW_FIGURES to the month figures that lack them (their rows were stored before the month's
    flows were computed), and keep them in the stored rows so the next read needs no history."""
    from ledger.models import MonthFigures

    lacking = [pk for pk, figures in result.items() if any(key not in figures for key in FLOW_FIGURES)]
    if not lacking:
        return
    flows = month_flows(ids=lacking, month=month)
    for pk in lacking:
        result[pk].update(flows[pk])
    with transaction.atomic():
        list(Lkmm.objects.select_for_update().filter(pk__in=lacking).values("pk"))
        rows = list(MonthFigures.objects.filter(lkmm__in=lacking, month=month))
        for row in rows:
            for key, value in flows[row.lkmm_id].items():
                setattr(row, key, value)
            row.flows_kept = True
        MonthFigures.objects.bulk_update(rows, [*FLOW_FIGURES, "flows_kept"])


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
    overdue = figures_sql.totals(start, lkmms=lkmms)["overdue"]
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
        figures_sql.totals(start, lkmms=lkmms)["outstanding"]
        + figures_sql.totals(end, lkmms=lkmms)["outstanding"]
    ) / 2
    return {
        "written_off": written_off,
        "average_outstanding": int(average),
        "ratio": _percent(written_off, average),
    }
