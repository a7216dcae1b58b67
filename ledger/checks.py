"""The invariants of the books, checked from the stored rows (`manage.py check_books`).

Each check takes a queryset of LKMMs and yields one line of text per discrepancy. Every check is a few
queries, whatever the number of rows.
"""

import datetime
from collections import Counter, defaultdict

from django.db.models import BigIntegerField, Case, Count, F, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce

from institutions.templatetags.lkmm_format import format_rupiah
from ledger.models import AccountCode, JournalEntry, JournalLine

# Loans that never had money out: their receivable must be zero. Any other status (aktif, lunas and
# whatever the loan engine adds, e.g. hapus buku) must show the schedule's outstanding principal.
NOT_DISBURSED = ("diajukan", "disetujui", "ditolak", "dibatalkan")


def entries_balance(lkmms):
    """Every entry has at least two lines and equal debit and credit totals; its lines use accounts of
    its own LKMM."""
    entries = (
        JournalEntry.objects.filter(lkmm__in=lkmms)
        .order_by()
        .values("lkmm__code", "number")
        .annotate(
            line_count=Count("lines"),
            debit_total=Coalesce(Sum("lines__debit"), 0),
            credit_total=Coalesce(Sum("lines__credit"), 0),
        )
        .filter(Q(line_count__lt=2) | ~Q(debit_total=F("credit_total")))
        .order_by("lkmm__code", "number")
    )
    for row in entries:
        yield (
            f"[{row['lkmm__code']}] J-{row['number']:05d} does not balance: {row['line_count']} line(s), "
            f"debit {format_rupiah(row['debit_total'])}, credit {format_rupiah(row['credit_total'])}"
        )
    foreign = (
        JournalLine.objects.filter(entry__lkmm__in=lkmms)
        .exclude(account__lkmm=F("entry__lkmm"))
        .values_list("entry__lkmm__code", "entry__number", "account__lkmm__code", "account__code")
        .order_by("entry__lkmm__code", "entry__number")
    )
    for lkmm, number, other, code in foreign:
        yield f"[{lkmm}] J-{number:05d} uses account {code} of another LKMM ({other})"


def receivables_match_schedules(lkmms):
    """Each loan's receivable in the books (account 1201, debit - credit, over the entries of that loan)
    equals its outstanding principal from the schedule.

    The expected figure is `outstanding` from `Loan.objects.with_history_standing(date.max)`, which
    reads the allocation rows, not the kept standing: principal less
    principal repaid by payments that still count (and, once the loan engine has them, less principal
    written off). Loans in NOT_DISBURSED statuses must have no receivable. Receivable lines without a
    loan, and entries whose loan belongs to another LKMM, are discrepancies too.
    """
    from loans.models import Loan

    in_books = dict(
        JournalLine.objects.filter(
            entry__lkmm__in=lkmms, account__code=AccountCode.PIUTANG, entry__loan__isnull=False
        )
        .order_by()
        .values("entry__loan")
        .annotate(net=Sum("debit") - Sum("credit"))
        .values_list("entry__loan", "net")
    )
    loans = (
        Loan.objects.filter(lkmm__in=lkmms)
        .with_history_standing(datetime.date.max)
        .order_by("lkmm__code", "number")
        .values_list("pk", "lkmm__code", "number", "status", "outstanding")
    )
    for pk, lkmm, number, status, outstanding in loans:
        expected = 0 if status in NOT_DISBURSED else outstanding
        booked = in_books.get(pk, 0)
        if booked != expected:
            yield (
                f"[{lkmm}] P-{number:05d} ({status}): receivable in the books {format_rupiah(booked)}, "
                f"outstanding principal from the schedule {format_rupiah(expected)}"
            )
    orphans = (
        JournalLine.objects.filter(
            entry__lkmm__in=lkmms, account__code=AccountCode.PIUTANG, entry__loan__isnull=True
        )
        .values_list("entry__lkmm__code", "entry__number")
        .order_by("entry__lkmm__code", "entry__number")
        .distinct()
    )
    for lkmm, number in orphans:
        yield f"[{lkmm}] J-{number:05d} posts to the loans receivable (1201) without a loan"
    strays = (
        JournalEntry.objects.filter(lkmm__in=lkmms, loan__isnull=False)
        .exclude(loan__lkmm=F("lkmm"))
        .values_list("lkmm__code", "number")
        .order_by("lkmm__code", "number")
    )
    for lkmm, number in strays:
        yield f"[{lkmm}] J-{number:05d} belongs to a loan of another LKMM"


def payments_match_allocations(lkmms):
    """Each payment's amount equals the late fees, interest and principal allocated from it.

    Kept apart so the loan engine can adapt it: it compares payments that still count (not reversed) with
    their allocations that count at date.max (`Allocation.objects.counting_at`, which picks the current
    version of versioned allocations). Reversed payments are not checked here.
    """
    from loans.models import Allocation, Repayment

    at = datetime.date.max
    allocated = (
        Allocation.objects.counting_at(at)
        .filter(repayment=OuterRef("pk"))
        .order_by()
        .values("repayment")
        .annotate(s=Sum(F("late_fee") + F("interest") + F("principal")))
        .values("s")
    )
    payments = (
        Repayment.objects.filter(lkmm__in=lkmms)
        .counting_at(at)
        .annotate(allocated=Coalesce(Subquery(allocated), 0))
        .exclude(allocated=F("amount"))
        .order_by("lkmm__code", "receipt_no")
        .values_list("lkmm__code", "receipt_no", "amount", "allocated")
    )
    for lkmm, receipt_no, amount, total in payments:
        yield f"[{lkmm}] K-{receipt_no:06d}: amount {format_rupiah(amount)}, allocated {format_rupiah(total)}"


def _ranges(numbers):
    """[3, 4, 5, 9] -> "3-5, 9" (at most 20 ranges)."""
    parts, numbers = [], sorted(numbers)
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    return ", ".join(parts[:20]) + (f" (and {len(parts) - 20} more)" if len(parts) > 20 else "")


def _sequence_problems(rows, what):
    """rows: (lkmm code, number) pairs. Numbers per LKMM must be exactly 1..N."""
    by_lkmm = defaultdict(list)
    for lkmm, number in rows:
        by_lkmm[lkmm].append(number)
    for lkmm in sorted(by_lkmm):
        numbers = by_lkmm[lkmm]
        repeated = sorted(n for n, count in Counter(numbers).items() if count > 1)
        missing = set(range(1, max(numbers) + 1)) - set(numbers)
        if missing:
            yield f"[{lkmm}] {what} missing: {_ranges(missing)}"
        if repeated:
            yield f"[{lkmm}] {what} repeated: {_ranges(repeated)}"


def receipt_numbers(lkmms):
    """Receipt numbers run 1..N per LKMM over repayments and savings movements together (one kuitansi
    sequence), with no gap (reversed ones keep theirs). A number is shared only by one member's lines of
    one collection sheet save: every row carrying it is the same member's, on the same date, and its
    savings movements are deposits; any other repeat is reported."""
    from loans.models import Repayment
    from savings.models import MovementKind, SavingsMovement

    rows = (
        Repayment.objects.filter(lkmm__in=lkmms)
        .order_by()
        .values_list("lkmm__code", "receipt_no", "loan__member_id", "paid_on")
    )
    savings = (
        SavingsMovement.objects.filter(lkmm__in=lkmms)
        .order_by()
        .values_list("lkmm__code", "receipt_no", "account__member_id", "on", "kind")
    )
    holders = defaultdict(list)  # (lkmm, number) -> [(member, date, is a deposit or a repayment)]
    for lkmm, number, member, on in rows.iterator():
        holders[lkmm, number].append((member, on, True))
    for lkmm, number, member, on, kind in savings.iterator():
        holders[lkmm, number].append((member, on, kind == MovementKind.DEPOSIT))
    yield from _sequence_problems(holders.keys(), "receipt numbers")
    shared_badly = defaultdict(list)
    for (lkmm, number), rows_of in holders.items():
        if len(rows_of) < 2:
            continue
        if len({(member, on) for member, on, _in in rows_of}) > 1 or not all(i for *_x, i in rows_of):
            shared_badly[lkmm].append(number)
    for lkmm in sorted(shared_badly):
        yield (
            f"[{lkmm}] receipt numbers shared by different members, dates or a withdrawal: "
            f"{_ranges(shared_badly[lkmm])}"
        )


def savings_match_books(lkmms):
    """Each savings account's kept balance equals the sum of its movements that count; the sum of the
    members' balances of each kind equals that kind's simpanan account in the books."""
    from savings.models import LEDGER_ACCOUNT, MovementKind, SavingsAccount, SavingsMovement

    sums = (
        SavingsMovement.objects.filter(lkmm__in=lkmms, reversed_on__isnull=True)
        .order_by()
        .values("account")
        .annotate(
            deposits=Coalesce(Sum("amount", filter=Q(kind=MovementKind.DEPOSIT)), 0),
            withdrawals=Coalesce(Sum("amount", filter=Q(kind=MovementKind.WITHDRAWAL)), 0),
        )
    )
    moved = {row["account"]: row["deposits"] - row["withdrawals"] for row in sums}
    by_kind = defaultdict(int)
    accounts = SavingsAccount.objects.filter(lkmm__in=lkmms).select_related("lkmm", "member").order_by("pk")
    for account in accounts.iterator():
        by_kind[account.lkmm.code, account.kind] += account.balance_derived
        movements = moved.get(account.pk, 0)
        if account.balance_derived != movements:
            yield (
                f"[{account.lkmm.code}] {account.member.code} {account.kind}: balance "
                f"{format_rupiah(account.balance_derived)}, movements {format_rupiah(movements)}"
            )
    books = (
        JournalLine.objects.filter(account__lkmm__in=lkmms, account__code__in=list(LEDGER_ACCOUNT.values()))
        .order_by()
        .values("account__lkmm__code", "account__code")
        .annotate(balance=Sum("credit") - Sum("debit"))
    )
    held = {(row["account__lkmm__code"], row["account__code"]): row["balance"] for row in books}
    for code in sorted({code for code, _kind in by_kind} | {code for code, _account in held}):
        for kind, account_code in LEDGER_ACCOUNT.items():
            members, ledger = by_kind.get((code, kind), 0), held.get((code, account_code), 0) or 0
            if members != ledger:
                yield (
                    f"[{code}] savings {kind}: members' balances {format_rupiah(members)}, "
                    f"account {account_code} {format_rupiah(ledger)}"
                )


def entry_numbers(lkmms):
    """Journal entry numbers run 1..N per LKMM, with no gap and no repeat."""
    rows = JournalEntry.objects.filter(lkmm__in=lkmms).order_by().values_list("lkmm__code", "number")
    yield from _sequence_problems(rows.iterator(), "journal entry numbers")


def kept_standing_matches_facts(lkmms, chunk=2000):
    """Each loan's kept standing (loans.standing: what each installment received and had waived, when it
    was settled, the outstanding principal, the oldest unpaid due date) equals the standing recomputed
    from scratch from the schedule, the payments, their reversals and the waivers. Loans are read in
    chunks of `chunk`, each with three more queries for its facts."""
    from loans import standing
    from loans.models import Loan

    loans = Loan.objects.filter(lkmm__in=lkmms, disbursed_on__isnull=False).select_related("lkmm")
    ids = list(loans.order_by("lkmm__code", "number").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        batch = loans.filter(pk__in=ids[start : start + chunk]).order_by("lkmm__code", "number")
        for loan, problem in standing.check(batch):
            yield f"[{loan.lkmm.code}] {loan.code}: kept standing differs from the facts: {problem}"


def savings_match_books_at_every_date(lkmms):
    """On every day, what the members' savings of each kind moved (deposits and withdrawals on their
    dates, reversals on theirs) equals what that kind's simpanan account moved in the books; so the sum
    of the members' balances equals the account at the end of every date, not only today. The first
    differing day of each LKMM and kind is reported."""
    from savings.models import LEDGER_ACCOUNT, MovementKind, SavingsMovement

    signed = Case(
        When(kind=MovementKind.DEPOSIT, then=F("amount")),
        default=-F("amount"),
        output_field=BigIntegerField(),
    )
    moved = defaultdict(int)
    movements = SavingsMovement.objects.filter(lkmm__in=lkmms).order_by()
    for code, kind, date, net in (
        movements.values("lkmm__code", "account__kind", "on")
        .annotate(net=Sum(signed))
        .values_list("lkmm__code", "account__kind", "on", "net")
    ):
        moved[code, kind, date] += net
    for code, kind, date, net in (
        movements.filter(reversed_on__isnull=False)
        .values("lkmm__code", "account__kind", "reversed_on")
        .annotate(net=Sum(signed))
        .values_list("lkmm__code", "account__kind", "reversed_on", "net")
    ):
        moved[code, kind, date] -= net
    kinds = {account: kind for kind, account in LEDGER_ACCOUNT.items()}
    booked = defaultdict(int)
    for code, account, date, net in (
        JournalLine.objects.filter(account__lkmm__in=lkmms, account__code__in=list(kinds))
        .order_by()
        .values("account__lkmm__code", "account__code", "entry__date")
        .annotate(net=Sum("credit") - Sum("debit"))
        .values_list("account__lkmm__code", "account__code", "entry__date", "net")
    ):
        booked[code, kinds[account], date] += net
    reported = set()
    for key in sorted(set(moved) | set(booked)):
        code, kind, date = key
        if moved.get(key, 0) != booked.get(key, 0) and (code, kind) not in reported:
            reported.add((code, kind))
            yield (
                f"[{code}] savings {kind} on {date:%d/%m/%Y}: members' movements "
                f"{format_rupiah(moved.get(key, 0))}, account {LEDGER_ACCOUNT[kind]} "
                f"{format_rupiah(booked.get(key, 0))}"
            )


def account_balances_match_lines(lkmms):
    """Each account's kept balance (Account.balance_derived) equals debit minus credit of its lines."""
    from ledger.models import Account

    sums = dict(
        JournalLine.objects.filter(account__lkmm__in=lkmms)
        .order_by()
        .values("account")
        .annotate(s=Sum("debit") - Sum("credit"))
        .values_list("account", "s")
    )
    for account in (
        Account.objects.filter(lkmm__in=lkmms).select_related("lkmm").order_by("lkmm__code", "code")
    ):
        if account.balance_derived != (sums.get(account.pk) or 0):
            yield (
                f"[{account.lkmm.code}] account {account.code}: kept balance "
                f"{format_rupiah(account.balance_derived)}, lines {format_rupiah(sums.get(account.pk) or 0)}"
            )


def shu_matches_books(lkmms):
    """Each shared year's parts add up to its SHU (reserve, dana sosial, dana pengurus and the members'
    standing shares), and the shares held for members who left and not yet collected equal the SHU
    payable. The shares of a reversed distribution count in neither (their reversal emptied 2303)."""
    from shu.models import Settlement, ShuShare, ShuYear

    years = (
        ShuYear.objects.filter(lkmm__in=lkmms, distributed_at__isnull=False)
        .select_related("lkmm")
        .annotate(members=Coalesce(Sum("shares__total", filter=Q(shares__reversal__isnull=True)), 0))
        .order_by("lkmm__code", "year")
    )
    for year in years:
        parts = year.reserve_total + year.pool_dana_sosial + year.pool_pengurus + year.members
        if parts != year.result:
            yield (
                f"[{year.lkmm.code}] SHU {year.year}: {format_rupiah(year.result)} shared as "
                f"{format_rupiah(parts)}"
            )
    held = dict(
        ShuShare.objects.filter(
            shu_year__lkmm__in=lkmms,
            settlement=Settlement.UTANG,
            collected_on__isnull=True,
            reversal__isnull=True,
        )
        .order_by()
        .values_list("shu_year__lkmm__code")
        .annotate(total=Sum("total"))
    )
    books = dict(
        JournalLine.objects.filter(account__lkmm__in=lkmms, account__code=AccountCode.UTANG_SHU)
        .order_by()
        .values_list("account__lkmm__code")
        .annotate(balance=Sum("credit") - Sum("debit"))
    )
    for code in sorted(set(held) | set(books)):
        if (held.get(code) or 0) != (books.get(code) or 0):
            yield (
                f"[{code}] SHU held for members {format_rupiah(held.get(code) or 0)}, "
                f"account {AccountCode.UTANG_SHU} {format_rupiah(books.get(code) or 0)}"
            )


def cash_days_match_lines(lkmms):
    """The kept net kas movement of each day (CashDay) equals the day's kas lines (a day without a row
    moved nothing), so the kas at the end of every day, their running sum, is right too."""
    from ledger.models import CashDay

    expected = {
        (code, date): net
        for code, date, net in JournalLine.objects.filter(
            account__lkmm__in=lkmms, account__code=AccountCode.KAS
        )
        .order_by()
        .values_list("account__lkmm__code", "entry__date")
        .annotate(net=Sum("debit") - Sum("credit"))
    }
    kept = {
        (code, date): net
        for code, date, net in CashDay.objects.filter(lkmm__in=lkmms).values_list("lkmm__code", "date", "net")
    }
    for key in sorted(set(expected) | set(kept)):
        held, moved = kept.get(key, 0), expected.get(key, 0)
        if held != moved:
            code, date = key
            yield f"[{code}] kas moved on {date:%d/%m/%Y}: kept {held}, lines {moved}"


def month_figures_match_books(lkmms):
    """Every stored month row (MonthFigures) holds the portfolio the books give at the month's end, and a
    closed month's row what its close reported: a back-dated event that failed to drop a stored month
    would show here. One statement per stored month, for all the LKMMs at once."""
    from ledger.models import MONTH_PORTFOLIO_FIELDS, MonthFigures, PeriodClose
    from risk.selectors import _from_json, month_end, portfolio_by_lkmm

    stored = defaultdict(dict)
    for row in MonthFigures.objects.filter(lkmm__in=lkmms).select_related("lkmm").order_by("month"):
        stored[row.month][row.lkmm] = row
    reported = {
        (close.lkmm_id, close.month): _from_json(close.summary)
        for close in PeriodClose.objects.filter(lkmm__in=lkmms, reopened_at__isnull=True)
    }
    for month, rows in stored.items():
        computed = portfolio_by_lkmm(lkmms=list(rows), at=month_end(month))
        for lkmm, row in sorted(rows.items(), key=lambda item: item[0].code):
            expected = reported.get((lkmm.pk, month)) or computed[lkmm.pk]
            for field in MONTH_PORTFOLIO_FIELDS:
                if getattr(row, field) != expected[field]:
                    yield (
                        f"[{lkmm.code}] {month:%m/%Y} stored {field} {getattr(row, field)}, "
                        f"{'its close' if (lkmm.pk, month) in reported else 'the books'} {expected[field]}"
                    )


CHECKS = [
    entries_balance,
    receivables_match_schedules,
    payments_match_allocations,
    kept_standing_matches_facts,
    receipt_numbers,
    entry_numbers,
    savings_match_books,
    savings_match_books_at_every_date,
    account_balances_match_lines,
    cash_days_match_lines,
    shu_matches_books,
    month_figures_match_books,
]
