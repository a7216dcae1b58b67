from django.db import transaction
from django.db.models import Max

from institutions.models import Lkmm
from ledger.models import Account, AccountCode, AccountKind, JournalEntry, JournalLine

STANDARD_CHART = [
    (AccountCode.KAS, "Kas", AccountKind.ASSET),
    (AccountCode.BANK, "Bank", AccountKind.ASSET),
    (AccountCode.PIUTANG, "Piutang pinjaman anggota", AccountKind.ASSET),
    (AccountCode.CADANGAN, "Cadangan risiko pinjaman", AccountKind.CONTRA_ASSET),
    (AccountCode.SIMPANAN, "Simpanan anggota", AccountKind.LIABILITY),
    (AccountCode.MODAL_HIBAH, "Modal hibah Pemkot", AccountKind.EQUITY),
    (AccountCode.DANA_BERGULIR, "Dana bergulir", AccountKind.EQUITY),
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


@transaction.atomic
def entry_post(*, lkmm, date, memo, lines, kind, actor=None, source=None, loan=None):
    """Post a balanced journal entry. `lines` is a list of (account code, debit, credit).

    Zero lines are dropped (a repayment with no interest part has no income line). The caller's
    transaction makes the entry and the event it records one unit.
    """
    lines = [(code, int(debit), int(credit)) for code, debit, credit in lines if debit or credit]
    debits = sum(d for _, d, _ in lines)
    credits = sum(c for _, _, c in lines)
    if not lines or debits != credits:
        raise UnbalancedEntry(f"Entry {memo!r} does not balance: debit {debits}, credit {credits}")
    # Numbers are sequential per LKMM; the LKMM row lock serialises concurrent posters.
    Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    accounts = {a.code: a for a in Account.objects.filter(lkmm=lkmm, code__in={c for c, _, _ in lines})}
    if len(accounts) < len({c for c, _, _ in lines}):
        chart_ensure(lkmm=lkmm)
        accounts = {a.code: a for a in Account.objects.filter(lkmm=lkmm)}
    number = (JournalEntry.objects.filter(lkmm=lkmm).aggregate(n=Max("number"))["n"] or 0) + 1
    entry = JournalEntry.objects.create(
        lkmm=lkmm,
        number=number,
        kind=kind,
        loan=loan,
        date=date,
        memo=memo[:200],
        created_by=actor if actor is not None and actor.is_authenticated else None,
        source_type=source._meta.label_lower if source is not None else "",
        source_id=source.pk if source is not None else None,
    )
    JournalLine.objects.bulk_create(
        JournalLine(entry=entry, account=accounts[code], debit=debit, credit=credit)
        for code, debit, credit in lines
    )
    return entry
