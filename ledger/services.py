import contextlib
import contextvars
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BigIntegerField, Case, F, Max, Sum, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from institutions.models import Lkmm
from institutions.services import audit_record
from institutions.templatetags.lkmm_format import format_rupiah
from ledger.models import (
    CAPITAL_ACCOUNTS,
    Account,
    AccountCode,
    AccountKind,
    CapitalKind,
    CapitalSource,
    CashDay,
    EntryKind,
    JournalEntry,
    JournalLine,
    MonthFigures,
    PeriodClose,
)
from ledger.selectors import cash_lowest_from

STANDARD_CHART = [
    (AccountCode.KAS, "Kas", AccountKind.ASSET),
    (AccountCode.BANK, "Bank", AccountKind.ASSET),
    (AccountCode.PIUTANG, "Piutang pinjaman anggota", AccountKind.ASSET),
    (AccountCode.PIUTANG_KLIRING, "Kliring restrukturisasi pinjaman", AccountKind.ASSET),
    (AccountCode.CADANGAN, "Cadangan risiko pinjaman", AccountKind.CONTRA_ASSET),
    (AccountCode.SIMPANAN_BELUM_TERBAGI, "Simpanan lama belum terbagi ke anggota", AccountKind.LIABILITY),
    (AccountCode.SIMPANAN_POKOK, "Simpanan pokok anggota", AccountKind.LIABILITY),
    (AccountCode.SIMPANAN_WAJIB, "Simpanan wajib anggota", AccountKind.LIABILITY),
    (AccountCode.SIMPANAN_SUKARELA, "Simpanan sukarela anggota", AccountKind.LIABILITY),
    (AccountCode.PINJAMAN_BANK, "Pinjaman bank", AccountKind.LIABILITY),
    (AccountCode.DANA_SOSIAL, "Dana sosial", AccountKind.LIABILITY),
    (AccountCode.DANA_PENGURUS, "Dana pengurus", AccountKind.LIABILITY),
    (AccountCode.UTANG_SHU, "SHU anggota belum dibayarkan", AccountKind.LIABILITY),
    (AccountCode.MODAL_HIBAH, "Modal hibah Pemkot", AccountKind.EQUITY),
    (AccountCode.DANA_BERGULIR, "Dana bergulir", AccountKind.EQUITY),
    (AccountCode.CADANGAN_UMUM, "Cadangan umum", AccountKind.EQUITY),
    (AccountCode.SHU_DITAHAN, "SHU ditahan", AccountKind.EQUITY),
    (AccountCode.SHU_TAHUN_BERJALAN, "SHU tahun berjalan", AccountKind.EQUITY),
    (AccountCode.SHU_BELUM_DIBAGI, "SHU tahun lalu belum dibagi", AccountKind.EQUITY),
    (AccountCode.PENDAPATAN_BUNGA, "Pendapatan bunga (jasa) pinjaman", AccountKind.INCOME),
    (AccountCode.PENDAPATAN_ADMINISTRASI, "Pendapatan administrasi", AccountKind.INCOME),
    (AccountCode.PENDAPATAN_DENDA, "Pendapatan denda", AccountKind.INCOME),
    (AccountCode.BEBAN_PENYISIHAN, "Beban penyisihan pinjaman", AccountKind.EXPENSE),
    (AccountCode.BEBAN_OPERASIONAL, "Beban operasional", AccountKind.EXPENSE),
]


class UnbalancedEntry(ValueError):
    """A programming error: services build entries, users never type debits and credits directly."""


def chart_ensure(*, lkmm):
    """Create the standard chart of accounts for an LKMM (idempotent)."""
    existing = set(Account.objects.filter(lkmm=lkmm).values_list("code", flat=True))
    Account.objects.bulk_create(
        Account(lkmm=lkmm, code=code, name=name, kind=kind)
        for code, name, kind in STANDARD_CHART
        if code not in existing
    )


def next_receipt_no(*, lkmm):
    """The next number of the LKMM's one kuitansi sequence, shared by repayments and savings movements
    (check_books checks it has no gaps). The caller holds the LKMM's row lock, which serialises it."""
    from django.apps import apps
    from django.db.models import IntegerField, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce, Greatest

    def highest(label):
        numbers = (
            apps.get_model(label)
            .objects.filter(lkmm=OuterRef("pk"))
            .order_by("-receipt_no")
            .values("receipt_no")[:1]
        )
        return Coalesce(Subquery(numbers, output_field=IntegerField()), Value(0))

    # One query, each side read from its (lkmm, receipt_no) unique index.
    return (
        Lkmm.objects.filter(pk=lkmm.pk)
        .annotate(n=Greatest(highest("loans.Repayment"), highest("savings.SavingsMovement")))
        .values_list("n", flat=True)
        .get()
        + 1
    )


def refuse_if_closed(*, lkmm, date):
    """Every money event posts through entry_post, so this one check keeps closed months as reported,
    and a closed year (shu.services.year_close) as it was divided. One query."""
    from django.apps import apps
    from django.db.models import Exists, OuterRef

    closes = PeriodClose.objects.filter(
        lkmm=OuterRef("pk"), month=date.replace(day=1), reopened_at__isnull=True
    )
    years = apps.get_model("shu", "ShuYear").objects.filter(lkmm=OuterRef("pk"), year__gte=date.year)
    found = Lkmm.objects.filter(pk=lkmm.pk).values_list(Exists(closes), Exists(years)).first() or (
        False,
        False,
    )
    if found[0]:
        raise ValidationError(
            _(
                "Bulan %(month)s sudah ditutup (tutup buku): transaksi bertanggal di bulan itu "
                "tidak dapat dicatat."
            )
            % {"month": date.strftime("%m/%Y")}
        )
    if found[1]:
        raise ValidationError(
            _(
                "Tahun %(year)s sudah ditutup (tutup tahun): transaksi bertanggal di tahun itu "
                "tidak dapat dicatat."
            )
            % {"year": date.year}
        )


def month_figures_forget(*, lkmm, date):
    """An event dated into a month that has ended changes that month's figures and every later month's:
    drop the stored ones (they are computed again when next read). Events of the current month, the
    usual case, cost nothing here."""
    if date < timezone.localdate().replace(day=1):
        # Under the LKMM's row lock, so figures being stored for that month (risk.selectors
        # month_figures holds the same lock) are either complete before this runs or see the event.
        list(Lkmm.objects.select_for_update().filter(pk=lkmm.pk).values("pk"))
        # A closed month's row holds what its close reported and stays (only the year-end close posts
        # into a closed month, and it moves no portfolio figure).
        closed = PeriodClose.objects.filter(lkmm=lkmm, reopened_at__isnull=True).values("month")
        stored = MonthFigures.objects.filter(lkmm=lkmm, month__gte=date.replace(day=1))
        stored.exclude(month__in=closed).delete()


def entry_post(
    *, lkmm, date, memo, lines, kind, actor=None, source=None, loan=None, token=None, into_closed=False
):
    """Post a balanced journal entry. `lines` is a list of (account code, debit, credit).

    Zero lines are dropped (a repayment with no interest part has no income line). The caller's
    transaction makes the entry and the event it records one unit. On PostgreSQL the database checks
    again at commit that the entry balances (ledger migration 0004).

    `into_closed`: only the year-end close (shu.services.year_close) posts into a closed month: it moves
    the year's result between the income, expense and SHU accounts, which changes no figure the closed
    months reported (the statements keep the laba rugi and the SHU lines as they were).

    The one-entry case of entries_post (atomic itself).
    """
    spec = {"date": date, "memo": memo, "lines": lines, "kind": kind, "source": source, "loan": loan}
    return entries_post(lkmm=lkmm, actor=actor, entries=[{**spec, "token": token}], into_closed=into_closed)[
        0
    ]


def _clean_lines(memo, lines):
    lines = [(code, int(debit), int(credit)) for code, debit, credit in lines if debit or credit]
    debits = sum(d for _, d, _ in lines)
    credits = sum(c for _, _, c in lines)
    if not lines or debits != credits:
        raise UnbalancedEntry(f"Entry {memo!r} does not balance: debit {debits}, credit {credits}")
    return lines


@transaction.atomic
def entries_post(*, lkmm, actor, entries, into_closed=False):
    """Post several balanced journal entries of one LKMM at once, numbered consecutively in the order
    given; returns them. Each of `entries` is a dict of entry_post's arguments: date, memo, lines, kind
    and optionally source, loan, token.

    A number of queries that does not grow with the entries (the collection sheet posts a meeting's
    lines in one go): the LKMM's lock, the closed-month check per date, the accounts, the highest
    number, the entries, their lines, the accounts' kept balances and the kept kas days (one statement).
    """
    entries = [{**spec, "lines": _clean_lines(spec["memo"], spec["lines"])} for spec in entries]
    if not entries:
        return []
    # Numbers are sequential per LKMM; the LKMM row lock serialises concurrent posters (and closes).
    Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    dates = sorted({spec["date"] for spec in entries})
    if not into_closed:
        for date in dates:
            refuse_if_closed(lkmm=lkmm, date=date)
    # Forgetting from the earliest date forgets every later month too.
    month_figures_forget(lkmm=lkmm, date=dates[0])
    codes = {code for spec in entries for code, _, _ in spec["lines"]}
    accounts = {a.code: a for a in Account.objects.filter(lkmm=lkmm, code__in=codes)}
    if len(accounts) < len(codes):
        chart_ensure(lkmm=lkmm)
        accounts = {a.code: a for a in Account.objects.filter(lkmm=lkmm)}
    number = JournalEntry.objects.filter(lkmm=lkmm).aggregate(n=Max("number"))["n"] or 0
    created_by = actor if actor is not None and actor.is_authenticated else None
    rows = JournalEntry.objects.bulk_create(
        JournalEntry(
            lkmm=lkmm,
            number=number + index,
            kind=spec["kind"],
            loan=spec.get("loan"),
            date=spec["date"],
            memo=spec["memo"][:200],
            created_by=created_by,
            source_type=spec["source"]._meta.label_lower if spec.get("source") is not None else "",
            source_id=spec["source"].pk if spec.get("source") is not None else None,
            token=spec.get("token"),
        )
        for index, spec in enumerate(entries, start=1)
    )
    JournalLine.objects.bulk_create(
        JournalLine(entry=entry, account=accounts[code], debit=debit, credit=credit)
        for entry, spec in zip(rows, entries, strict=True)
        for code, debit, credit in spec["lines"]
    )
    deltas = defaultdict(int)
    kas_days = defaultdict(int)
    for spec in entries:
        for code, debit, credit in spec["lines"]:
            deltas[accounts[code].pk] += debit - credit
            if code == AccountCode.KAS:
                kas_days[spec["date"]] += debit - credit
    Account.objects.filter(pk__in=list(deltas)).update(
        balance_derived=F("balance_derived")
        + Case(
            *(When(pk=pk, then=Value(delta)) for pk, delta in deltas.items()),
            default=Value(0),
            output_field=BigIntegerField(),
        )
    )
    if lkmm.pk not in _cash_days_deferred.get():
        _cash_days_add(lkmm=lkmm, deltas={date: delta for date, delta in kas_days.items() if delta})
    return rows


# LKMMs whose kept kas days are rebuilt once at the end of a bulk write (cash_days_deferred) instead of
# entry by entry: importing years of history writes one row per entry otherwise, where the rebuild is
# one statement.
_cash_days_deferred = contextvars.ContextVar("cash_days_deferred", default=frozenset())


@contextlib.contextmanager
def cash_days_deferred(*, lkmm):
    """Within the block, entries of `lkmm` leave its kept kas days alone; on leaving it they are rebuilt
    from the lines (cash_days_refresh), in the caller's transaction. Nothing inside the block may read
    them (cash_lowest_from for kas, cash_over_limit): the book import's savings and the demo's seeding
    do not."""
    token = _cash_days_deferred.set(_cash_days_deferred.get() | {lkmm.pk})
    try:
        yield
    finally:
        _cash_days_deferred.reset(token)
    cash_days_refresh(lkmm=lkmm)


# One row per LKMM and day, whatever the day: the net movement is added to the day's row (or the row is
# created), so a back-dated entry touches its own day only. The same statement on SQLite and PostgreSQL.
CASH_DAYS_ADD_SQL = """
    INSERT INTO ledger_cashday (lkmm_id, date, net) VALUES {values}
    ON CONFLICT (lkmm_id, date) DO UPDATE SET net = ledger_cashday.net + excluded.net
"""


def _cash_days_add(*, lkmm, deltas):
    """Add {date: net kas movement} to the LKMM's kept kas days (CashDay): one statement, one row per
    date. The caller holds the LKMM's row lock."""
    from django.db import connection

    if not deltas:
        return
    values = ", ".join(["(%s, %s, %s)"] * len(deltas))
    params = [value for date, delta in sorted(deltas.items()) for value in (lkmm.pk, date, delta)]
    with connection.cursor() as cursor:
        cursor.execute(CASH_DAYS_ADD_SQL.format(values=values), params)  # nosec B608  # placeholders only


CASH_DAYS_SQL = """
    INSERT INTO ledger_cashday (lkmm_id, date, net)
    SELECT a.lkmm_id, e.date, SUM(l.debit) - SUM(l.credit)
    FROM ledger_journalline l
    JOIN ledger_journalentry e ON e.id = l.entry_id
    JOIN ledger_account a ON a.id = l.account_id
    WHERE a.code = %s {where}
    GROUP BY a.lkmm_id, e.date
"""


def cash_days_refresh(*, lkmm=None):
    """Rebuild the kept net kas movement per day (CashDay) from the lines, for one LKMM or every one:
    after lines were written in bulk (the book import, the benchmark's generator). One statement."""
    from django.db import connection

    rows = CashDay.objects.all() if lkmm is None else CashDay.objects.filter(lkmm=lkmm)
    rows.delete()
    where, params = "", [AccountCode.KAS]
    if lkmm is not None:
        where, params = "AND a.lkmm_id = %s", [AccountCode.KAS, lkmm.pk]
    with connection.cursor() as cursor:
        cursor.execute(CASH_DAYS_SQL.format(where=where), params)  # nosec B608  # constant SQL


def account_balances_refresh(*, lkmm):
    """Set each of the LKMM's accounts' kept balance from its lines: after lines were written in bulk
    (the book import), and by the migration that introduced the column."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce

    sums = (
        JournalLine.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(s=Sum("debit") - Sum("credit"))
        .values("s")
    )
    Account.objects.filter(lkmm=lkmm).update(
        balance_derived=Coalesce(Subquery(sums, output_field=BigIntegerField()), Value(0))
    )


CASH_ACCOUNTS = (AccountCode.KAS, AccountCode.BANK)

# Which account a manual voucher may put opposite kas or bank, per kind of voucher. This is data: to
# allow another account, add its code here (it must be in the LKMM's chart). Loan money never goes
# through vouchers: loan events post their own entries (loans.services), and neither do savings, which are
# owed to named members (savings.services).
VOUCHER_ACCOUNTS = {
    # Dr kas/bank, Cr the source of the money.
    EntryKind.CASH_IN: (AccountCode.MODAL_HIBAH, AccountCode.DANA_BERGULIR),
    # Dr what the money was spent on, Cr kas/bank.
    EntryKind.CASH_OUT: (AccountCode.BEBAN_OPERASIONAL,),
    # Dr the receiving account, Cr the paying one.
    EntryKind.TRANSFER: CASH_ACCOUNTS,
}


def memo_in_books_language(text, **values):
    """Journal memos are stored, so they are written in the books' language, not the user's."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(text) % values


def _voucher_errors(*, lkmm, kind, date, amount, memo, account_code, cash_account_code):
    errors = {}
    if kind not in VOUCHER_ACCOUNTS:
        errors["kind"] = _("Jenis bukti tidak dikenal.")
        return errors
    if amount is None or amount <= 0:
        errors["amount"] = _("Jumlah harus lebih dari nol.")
    if date > timezone.localdate():
        errors["date"] = _("Tanggal tidak boleh di masa depan.")
    if not (memo or "").strip():
        errors["memo"] = _("Tulis keterangan: untuk apa atau dari siapa uang ini.")
    if cash_account_code not in CASH_ACCOUNTS:
        errors["cash_account_code"] = _("Pilih kas atau bank.")
    allowed = VOUCHER_ACCOUNTS[kind]
    if account_code not in allowed:
        names = dict(Account.objects.filter(lkmm=lkmm, code__in=allowed).values_list("code", "name"))
        errors["account_code"] = _(
            "Akun %(code)s tidak dapat dipakai untuk %(kind)s. Pilih salah satu: %(allowed)s."
        ) % {
            "code": account_code or "-",
            "kind": EntryKind(kind).label.lower(),
            "allowed": ", ".join(f"{code} {names.get(code, '')}".strip() for code in allowed),
        }
    elif kind == EntryKind.TRANSFER and account_code == cash_account_code:
        errors["account_code"] = _("Rekening tujuan harus berbeda dari rekening asal.")
    return errors


@transaction.atomic
def voucher_post(
    *, lkmm, actor, kind, date, amount, memo, account_code, cash_account_code=AccountCode.KAS, token=None
):
    """Record a manual voucher (bukti kas): kas masuk, kas keluar or pemindahbukuan kas <-> bank.

    - kas masuk: Dr `cash_account_code`, Cr `account_code` (a grant, revolving fund or savings);
    - kas keluar: Dr `account_code` (an expense, a savings withdrawal), Cr `cash_account_code`;
    - pemindahbukuan: Dr `account_code` (the receiving one), Cr `cash_account_code` (the paying one).

    Money going out may not exceed what kas or bank holds, on the voucher's date or on any later date
    (a back-dated payment must not turn a later balance negative). A resubmitted form (same token)
    returns the voucher already recorded.
    """
    errors = _voucher_errors(
        lkmm=lkmm,
        kind=kind,
        date=date,
        amount=amount,
        memo=memo,
        account_code=account_code,
        cash_account_code=cash_account_code,
    )
    if errors:
        raise ValidationError(errors)
    # The LKMM row lock serialises vouchers, so two cash payments cannot both pass the balance check.
    lkmm = Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    if token is not None:
        existing = JournalEntry.objects.filter(token=token).first()
        if existing is not None:
            if existing.lkmm_id != lkmm.pk:
                raise ValidationError(_("Formulir ini sudah dipakai untuk LKMM lain; muat ulang halaman."))
            return existing
    if kind == EntryKind.CASH_IN:
        lines = [(cash_account_code, amount, 0), (account_code, 0, amount)]
    else:
        on, available = cash_lowest_from(lkmm=lkmm, code=cash_account_code, on=date)
        if amount > available:
            label = _("kas") if cash_account_code == AccountCode.KAS else _("bank")
            raise ValidationError(
                {
                    "amount": _("Melebihi saldo. Saldo %(account)s per %(date)s: %(balance)s.")
                    % {"account": label, "date": on.strftime("%d/%m/%Y"), "balance": format_rupiah(available)}
                }
            )
        lines = [(account_code, amount, 0), (cash_account_code, 0, amount)]
    entry = entry_post(
        lkmm=lkmm,
        date=date,
        memo=memo.strip(),
        lines=lines,
        kind=kind,
        actor=actor,
        token=token,
    )
    audit_record(
        actor=actor,
        action=f"voucher.{kind}",
        obj=entry,
        lkmm=lkmm,
        data={
            "number": entry.number,
            "date": date.isoformat(),
            "amount": amount,
            "debit": lines[0][0],
            "credit": lines[1][0],
        },
    )
    return entry


@transaction.atomic
def capital_source_record(
    *,
    lkmm,
    actor,
    kind,
    received_on,
    source_name,
    amount,
    cash_account_code=AccountCode.KAS,
    owed_back=0,
    note="",
):
    """Record capital put into the LKMM (a grant, a revolving fund, a bank loan) with its journal entry:
    Dr kas or bank, Cr modal hibah, dana bergulir or pinjaman bank. The ketua (or an approver) records it;
    the Dinas only reads it."""
    from institutions.access import check_decider

    check_decider(actor, lkmm=lkmm, what=_("sumber modal"))
    owed_back = owed_back or 0
    errors = {}
    if kind not in CAPITAL_ACCOUNTS:
        errors["kind"] = _("Jenis sumber modal tidak dikenal.")
    if received_on > timezone.localdate():
        errors["received_on"] = _("Tanggal tidak boleh di masa depan.")
    if not (source_name or "").strip():
        errors["source_name"] = _("Tulis sumbernya, misalnya APBD Kabupaten Jember 2026.")
    if amount is None or amount <= 0:
        errors["amount"] = _("Jumlah harus lebih dari nol.")
    if cash_account_code not in CASH_ACCOUNTS:
        errors["cash_account_code"] = _("Pilih kas atau bank.")
    if kind == CapitalKind.PINJAMAN_BANK and amount and owed_back < amount:
        errors["owed_back"] = _("Pinjaman bank: yang harus dikembalikan sedikitnya sebesar jumlah diterima.")
    if kind != CapitalKind.PINJAMAN_BANK and owed_back:
        errors["owed_back"] = _("Hibah dan dana bergulir tidak dikembalikan: isi 0.")
    if errors:
        raise ValidationError(errors)
    source_name = source_name.strip()
    entry = entry_post(
        lkmm=lkmm,
        date=received_on,
        memo=memo_in_books_language(
            "%(kind)s dari %(source)s", kind=CapitalKind(kind).label, source=source_name
        ),
        lines=[(cash_account_code, amount, 0), (CAPITAL_ACCOUNTS[kind], 0, amount)],
        kind=EntryKind.CASH_IN,
        actor=actor,
    )
    source = CapitalSource(
        lkmm=lkmm,
        received_on=received_on,
        kind=kind,
        source_name=source_name,
        amount=amount,
        owed_back=owed_back,
        entry=entry,
        note=(note or "").strip(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    source.full_clean()
    source.save()
    audit_record(
        actor=actor,
        action="capital.record",
        obj=source,
        lkmm=lkmm,
        data={
            "kind": kind,
            "received_on": received_on.isoformat(),
            "amount": amount,
            "owed_back": owed_back,
            "entry": entry.number,
        },
    )
    return source
