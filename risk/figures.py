"""Every loan's figures at a date, and their sums per LKMM and per class, as a few set-based SQL
statements (common table expressions) that run alike on SQLite and PostgreSQL.

Two sources give a loan's standing at `at`:
- from today on, the kept standing (loans.standing): the outstanding principal and the oldest unpaid due
  date are columns; the overdue amount and the late fees charged by `at` are one pass over the open
  installments (a partial index holds only those);
- at an earlier date, the versioned allocation: what counts at `at` per installment (payments valued on
  or before `at` and not reversed on or before it, waivers dated on or before it), exactly as
  LoanQuerySet.with_history_standing does it.
The quality class is a join to the policy's classes as bands of days past due (per installment
frequency, each class from just above the earlier classes' limits up to its own), so the statement does
not grow with the number of classes. The required reserve is rounded half up per loan in integers, so
every total is the sum of its rows (DOMAIN.md).
"""

import datetime
from collections import namedtuple
from decimal import Decimal

from django.db import connections, router
from django.utils import timezone

from ledger.models import MONTH_PORTFOLIO_FIELDS
from loans.models import DISBURSED_STATUSES

LoanFigures = namedtuple(
    "LoanFigures",
    "loan_id lkmm_id outstanding oldest_overdue_on days_past_due overdue_amount overdue_fees restructured "
    "quality_class_id reserve_rate non_performing ksp_weight required ksp_problem",
)

# The classes of every policy as bands of days past due, per installment frequency: a loan takes the
# first class (by position) whose limit is at least its days past due, i.e. the class whose band
# (above every earlier limit, up to its own) holds it. A class after one without limit never matches.
_BANDS = """
limits AS (
    SELECT id, policy_id, position, 'daily' AS frequency, max_dpd_daily AS hi FROM risk_qualityclass
    UNION ALL
    SELECT id, policy_id, position, 'weekly', max_dpd_weekly FROM risk_qualityclass
    UNION ALL
    SELECT id, policy_id, position, 'monthly', max_dpd_monthly FROM risk_qualityclass
),
bands AS (
    SELECT id, policy_id, frequency, hi,
           COALESCE(MAX(hi) OVER earlier, -1) + 1 AS lo,
           COUNT(*) OVER earlier - COUNT(hi) OVER earlier AS unbounded_before
    FROM limits
    WINDOW earlier AS (
        PARTITION BY policy_id, frequency ORDER BY position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    )
)"""

# The loans in scope: disbursed by `at`, of the LKMMs asked for.
_SCOPE = "l.status IN ({statuses}) AND l.disbursed_on <= %(at)s AND {lkmm_filter}"

_KEPT = """
scoped AS (
    SELECT l.id, l.lkmm_id, l.frequency, l.restructured_from_id, l.late_fee,
           l.principal_outstanding_derived, l.oldest_unpaid_due_derived
    FROM loans_loan l
    WHERE {scope} AND l.principal_outstanding_derived > 0
),
open_due AS (
    SELECT i.loan_id,
           CAST(SUM(i.principal + i.interest - i.interest_waived_derived - i.principal_paid_derived
               - i.interest_paid_derived) AS BIGINT) AS overdue_amount,
           CAST(SUM(CASE WHEN (i.settled_on_derived IS NULL OR i.settled_on_derived > i.due_date)
                         AND l.late_fee > i.late_fee_waived_derived + i.late_fee_paid_derived
                    THEN l.late_fee - i.late_fee_waived_derived - i.late_fee_paid_derived ELSE 0 END)
                AS BIGINT) AS overdue_fees
    FROM loans_installment i JOIN scoped l ON l.id = i.loan_id
    -- An installment still open and due before the date makes the loan's oldest unpaid due date earlier
    -- than the date too: only loans past due have such installments to read.
    WHERE i.open_derived AND i.due_date < %(at)s AND l.oldest_unpaid_due_derived < %(at)s
    GROUP BY i.loan_id
),
standing AS (
    SELECT l.id AS loan_id, l.lkmm_id, l.frequency, l.restructured_from_id,
           l.principal_outstanding_derived AS outstanding,
           CASE WHEN l.oldest_unpaid_due_derived < %(at)s THEN l.oldest_unpaid_due_derived END
               AS oldest_overdue_on,
           COALESCE(o.overdue_amount, 0) AS overdue_amount,
           COALESCE(o.overdue_fees, 0) AS overdue_fees
    FROM scoped l LEFT JOIN open_due o ON o.loan_id = l.id
)"""

_HISTORY = """
waived AS (
    SELECT w.installment_id, CAST(SUM(w.interest) AS BIGINT) AS interest,
           CAST(SUM(w.late_fee) AS BIGINT) AS late_fee
    FROM loans_waiver w
    WHERE w."on" <= %(at)s
    GROUP BY w.installment_id
),
owed AS (
    SELECT i.loan_id, i.due_date, l.late_fee,
           i.principal + i.interest - COALESCE(w.interest, 0) AS owed,
           COALESCE(w.late_fee, 0) AS fees_waived,
           CAST(COALESCE(SUM(a.principal + a.interest), 0) AS BIGINT) AS paid,
           CAST(COALESCE(SUM(CASE WHEN r.paid_on <= i.due_date THEN a.principal + a.interest END), 0)
                AS BIGINT) AS by_due,
           CAST(COALESCE(SUM(a.principal), 0) AS BIGINT) AS principal_paid,
           CAST(COALESCE(SUM(a.late_fee), 0) AS BIGINT) AS fees_paid
    FROM loans_loan l
    JOIN loans_installment i ON i.loan_id = l.id
    LEFT JOIN waived w ON w.installment_id = i.id
    LEFT JOIN (loans_allocation a JOIN loans_repayment r ON r.id = a.repayment_id AND r.paid_on <= %(at)s)
        ON a.installment_id = i.id
        AND (a.valid_from IS NULL OR a.valid_from <= %(at)s)
        AND (a.valid_to IS NULL OR a.valid_to > %(at)s)
    WHERE {scope}
    GROUP BY i.id, i.loan_id, i.due_date, l.late_fee, i.principal, i.interest, w.interest, w.late_fee
),
per_loan AS (
    SELECT loan_id,
           CAST(SUM(principal_paid) AS BIGINT) AS principal_repaid,
           MIN(CASE WHEN due_date < %(at)s AND paid < owed THEN due_date END) AS oldest_overdue_on,
           CAST(SUM(CASE WHEN due_date < %(at)s AND owed > paid THEN owed - paid ELSE 0 END) AS BIGINT)
               AS overdue_amount,
           CAST(SUM(CASE WHEN due_date < %(at)s AND by_due < owed AND late_fee > fees_waived + fees_paid
                    THEN late_fee - fees_waived - fees_paid ELSE 0 END) AS BIGINT) AS overdue_fees
    FROM owed GROUP BY loan_id
),
standing AS (
    SELECT l.id AS loan_id, l.lkmm_id, l.frequency, l.restructured_from_id,
           l.principal - COALESCE(pl.principal_repaid, 0)
             - CASE WHEN l.written_off_on <= %(at)s THEN l.written_off_principal ELSE 0 END
             - CASE WHEN l.transferred_on <= %(at)s THEN l.transferred_principal ELSE 0 END AS outstanding,
           CASE WHEN {moved} THEN NULL ELSE pl.oldest_overdue_on END AS oldest_overdue_on,
           CASE WHEN {moved} THEN 0 ELSE COALESCE(pl.overdue_amount, 0) END AS overdue_amount,
           CASE WHEN {moved} THEN 0 ELSE COALESCE(pl.overdue_fees, 0) END AS overdue_fees
    FROM loans_loan l LEFT JOIN per_loan pl ON pl.loan_id = l.id
    WHERE {scope}
)"""
_MOVED = "(l.written_off_on <= %(at)s OR l.transferred_on <= %(at)s)"

# Per loan: days past due, class, and the reserve rounded half up per loan in integers (the rate has
# two decimals: outstanding x hundredths of a percent / 10000).
_FIGURES = """
figures AS (
    SELECT s.loan_id, s.lkmm_id, s.outstanding, s.oldest_overdue_on, s.dpd, s.overdue_amount,
           s.overdue_fees, s.restructured,
           b.id AS quality_class_id,
           COALESCE(c.reserve_rate, 0) AS reserve_rate,
           COALESCE(c.non_performing, {false}) AS non_performing,
           COALESCE(c.ksp_weight, 0) AS ksp_weight,
           (s.outstanding * CAST(ROUND(COALESCE(c.reserve_rate, 0) * 100) AS INTEGER) + 5000) / 10000
               AS required,
           (s.outstanding * CAST(ROUND(COALESCE(c.ksp_weight, 0) * 100) AS INTEGER) + 5000) / 10000
               AS ksp_problem
    FROM (
        SELECT st.*, lk.quality_policy_id,
               CASE WHEN st.restructured_from_id IS NULL THEN 0 ELSE 1 END AS restructured,
               CASE WHEN st.oldest_overdue_on IS NULL THEN 0 ELSE {days_past_due} END AS dpd
        FROM standing st JOIN institutions_lkmm lk ON lk.id = st.lkmm_id
        WHERE st.outstanding > 0
    ) s
    LEFT JOIN bands b ON b.policy_id = s.quality_policy_id AND b.frequency = s.frequency
        AND b.unbounded_before = 0 AND s.dpd >= b.lo AND (b.hi IS NULL OR s.dpd <= b.hi)
    LEFT JOIN risk_qualityclass c ON c.id = b.id
)"""

_AGGREGATES = """
    COUNT(*) AS loans,
    COALESCE(CAST(SUM(outstanding) AS BIGINT), 0) AS outstanding,
    COALESCE(CAST(SUM(overdue_amount) AS BIGINT), 0) AS overdue,
    COALESCE(CAST(SUM(CASE WHEN oldest_overdue_on IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), 0)
        AS past_due_loans,
    COALESCE(CAST(SUM(CASE WHEN non_performing THEN outstanding ELSE 0 END) AS BIGINT), 0) AS npl,
    COALESCE(CAST(SUM(CASE WHEN dpd > 0 OR restructured = 1 THEN outstanding ELSE 0 END) AS BIGINT), 0)
        AS par1,
    COALESCE(CAST(SUM(CASE WHEN dpd > 30 OR restructured = 1 THEN outstanding ELSE 0 END) AS BIGINT), 0)
        AS par30,
    COALESCE(CAST(SUM(CASE WHEN dpd > 90 OR restructured = 1 THEN outstanding ELSE 0 END) AS BIGINT), 0)
        AS par90,
    COALESCE(CAST(SUM(required) AS BIGINT), 0) AS required,
    COALESCE(CAST(SUM(ksp_problem) AS BIGINT), 0) AS ksp_problem"""
# The sums above, by name: what ledger.MonthFigures keeps per month, less the reserve held (read from the
# books, not from the loans).
AGGREGATE_KEYS = tuple(field for field in MONTH_PORTFOLIO_FIELDS if field != "held")


def _connection():
    """The database the loans are read from (a replica on report pages, see lkmm.db_routers)."""
    from loans.models import Loan

    return connections[router.db_for_read(Loan)]


def _in(column, param):
    """`column` is one of the ids passed as `param`: an array parameter on PostgreSQL, a JSON list on
    SQLite, so the statement's text stays the same however many ids there are."""
    if _connection().vendor == "postgresql":
        return f"{column} = ANY(%({param})s)"
    # `column` and `param` are names written in _with(), never input; the ids are the parameter.
    return f"{column} IN (SELECT value FROM json_each(%({param})s))"  # nosec B608


def _id_list(ids):
    import json

    ids = list(ids)
    return ids if _connection().vendor == "postgresql" else json.dumps(ids)


def _dialect():
    if _connection().vendor == "postgresql":
        return {"days_past_due": "(CAST(%(at)s AS date) - st.oldest_overdue_on)", "false": "false"}
    return {
        "days_past_due": "CAST(julianday(%(at)s) - julianday(st.oldest_overdue_on) AS INTEGER)",
        "false": "0",
    }


def _with(at, lkmm_ids, source=None, loan_ids=None):
    """The WITH clause ending in `figures`, and its parameters: the loans of the LKMMs `lkmm_ids` (all
    when None), or only the loans `loan_ids`. `source`: "kept" or "history" (tests compare the two); by
    default the kept standing from today on."""
    dialect = _dialect()
    params = {"at": at}
    lkmm_filter = "1 = 1"
    if lkmm_ids is not None:
        lkmm_filter, params["lkmm_ids"] = _in("l.lkmm_id", "lkmm_ids"), _id_list(lkmm_ids)
    if loan_ids is not None:
        lkmm_filter += " AND " + _in("l.id", "loan_ids")
        params["loan_ids"] = _id_list(loan_ids)
    statuses = ", ".join(f"'{status}'" for status in DISBURSED_STATUSES)
    scope = _SCOPE.format(statuses=statuses, lkmm_filter=lkmm_filter)
    if source is None:
        source = "kept" if at >= timezone.localdate() else "history"
    source = {"kept": _KEPT, "history": _HISTORY}[source]
    sql = (
        "WITH "
        + source.format(scope=scope, moved=_MOVED)
        + ","
        + _BANDS
        + ","
        + _FIGURES.format(days_past_due=dialect["days_past_due"], false=dialect["false"])
    )
    return sql, params


def _ids(lkmms):
    if lkmms is None:
        return None
    return [getattr(lkmm, "pk", lkmm) for lkmm in lkmms]


def _rows(sql, params):
    with _connection().cursor() as cursor:
        cursor.execute(sql, params)
        columns = [col[0] for col in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _as_date(value):
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def loan_figures(at, *, lkmms=None, loans=None, past_due_only=False, source=None):
    """{loan id: LoanFigures} of every loan (of `lkmms`, or among the ids `loans`) with principal
    outstanding at `at`."""
    sql, params = _with(at, _ids(lkmms), source, loan_ids=loans)
    sql += " SELECT * FROM figures"
    if past_due_only:
        sql += " WHERE oldest_overdue_on IS NOT NULL"
    result = {}
    for row in _rows(sql, params):
        row["oldest_overdue_on"] = _as_date(row["oldest_overdue_on"])
        row["days_past_due"] = row.pop("dpd")
        row["non_performing"] = bool(row["non_performing"])
        for name in ("reserve_rate", "ksp_weight"):
            # SQLite hands decimals back as floats: two decimals, as the policy stores them.
            row[name] = Decimal(str(row[name])).quantize(Decimal("0.01"))
        row["restructured"] = bool(row["restructured"])
        result[row["loan_id"]] = LoanFigures(**{name: row[name] for name in LoanFigures._fields})
    return result


def outstanding_by_lkmm(at, *, lkmms):
    """{lkmm id: {"outstanding", "npl"}} for the LKMMs with loans outstanding at `at`: the two sums alone,
    so the database leaves out the overdue amounts that the other sums need (about half the work)."""
    sql, params = _with(at, _ids(lkmms))
    sql += """ SELECT lkmm_id, COALESCE(CAST(SUM(outstanding) AS BIGINT), 0) AS outstanding,
        COALESCE(CAST(SUM(CASE WHEN non_performing THEN outstanding ELSE 0 END) AS BIGINT), 0) AS npl
        FROM figures GROUP BY lkmm_id"""  # nosec B608  # constant SQL
    return {row.pop("lkmm_id"): row for row in _rows(sql, params)}


def totals_by_lkmm(at, *, lkmms=None):
    """{lkmm id: {AGGREGATE_KEYS: sums}} for the LKMMs with loans outstanding at `at`."""
    sql, params = _with(at, _ids(lkmms))
    sql += f" SELECT lkmm_id, {_AGGREGATES} FROM figures GROUP BY lkmm_id"  # nosec B608  # constant SQL
    return {row.pop("lkmm_id"): row for row in _rows(sql, params)}


def summarize(figures):
    """The AGGREGATE_KEYS of some loans' LoanFigures, summed as totals() sums them in SQL (for a caller
    that has the loans' figures already; the tests check that both agree)."""
    figures = list(figures)

    def total(name, where=lambda figure: True):
        return sum(getattr(figure, name) for figure in figures if where(figure))

    def past(days):
        return lambda figure: figure.days_past_due > days or figure.restructured

    return {
        "loans": len(figures),
        "outstanding": total("outstanding"),
        "overdue": total("overdue_amount"),
        "past_due_loans": sum(1 for figure in figures if figure.oldest_overdue_on is not None),
        "npl": total("outstanding", lambda figure: figure.non_performing),
        "par1": total("outstanding", past(0)),
        "par30": total("outstanding", past(30)),
        "par90": total("outstanding", past(90)),
        "required": total("required"),
        "ksp_problem": total("ksp_problem"),
    }


def totals(at, *, lkmms=None):
    """The sums of AGGREGATE_KEYS over every loan of `lkmms` outstanding at `at`."""
    sql, params = _with(at, _ids(lkmms))
    sql += f" SELECT {_AGGREGATES} FROM figures"  # nosec B608  # constant SQL; values are parameters
    return _rows(sql, params)[0]


def totals_by_class(at, *, lkmms=None):
    """[{quality_class_id, loans, outstanding, required}] per class (None: no class matched)."""
    sql, params = _with(at, _ids(lkmms))
    sql += (
        " SELECT quality_class_id, COUNT(*) AS loans, CAST(SUM(outstanding) AS BIGINT) AS outstanding,"
        " CAST(SUM(required) AS BIGINT) AS required FROM figures GROUP BY quality_class_id"
    )
    return _rows(sql, params)


def borrowers_by_lkmm(at, *, lkmms=None):
    """{lkmm id: number of members with principal outstanding at `at`} (a member with two loans counts
    once), from the same standing as totals_by_lkmm: one statement whatever the number of LKMMs."""
    sql, params = _with(at, _ids(lkmms))
    sql += (
        " SELECT f.lkmm_id, COUNT(DISTINCT l.member_id) AS borrowers"
        " FROM figures f JOIN loans_loan l ON l.id = f.loan_id GROUP BY f.lkmm_id"
    )
    return {row["lkmm_id"]: row["borrowers"] for row in _rows(sql, params)}
