"""Reads of members' savings. A member has three accounts and their movements: the passbook reads them
all (one query each for accounts and movements), whatever the member's history."""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from institutions.templatetags.lkmm_format import format_rupiah, terbilang
from savings.models import MovementKind, SavingsAccount, SavingsKind, SavingsMovement


@dataclass
class PassbookLine:
    on: object
    movement: SavingsMovement
    reversal: bool
    deposit: int
    withdrawal: int
    balance: int


@dataclass
class Passbook:
    accounts: list = field(default_factory=list)

    @property
    def total(self):
        return sum(a.balance_derived for a in self.accounts)


def _lines(movements):
    """Each movement on its date and, if reversed, its reversal on the reversal date, with the running
    balance: the passbook never hides a mistake, it shows its correction."""
    events = []
    for m in movements:
        events.append((m.on, m.receipt_no, 0, m, False))
        if m.reversed_on is not None:
            events.append((m.reversed_on, m.receipt_no, 1, m, True))
    events.sort(key=lambda e: e[:3])
    balance, lines = 0, []
    for on, _no, _order, m, reversal in events:
        signed = -m.signed if reversal else m.signed
        balance += signed
        lines.append(
            PassbookLine(
                on=on,
                movement=m,
                reversal=reversal,
                deposit=signed if signed > 0 else 0,
                withdrawal=-signed if signed < 0 else 0,
                balance=balance,
            )
        )
    return lines


def passbook(*, member):
    accounts = {a.pk: a for a in SavingsAccount.objects.filter(member=member)}
    movements = SavingsMovement.objects.filter(account__member=member).select_related("recorded_by")
    by_account = {pk: [] for pk in accounts}
    for m in movements:
        by_account[m.account_id].append(m)
    order = {kind: i for i, kind in enumerate(SavingsKind)}
    book = Passbook()
    for pk, account in sorted(accounts.items(), key=lambda item: order[item[1].kind]):
        account.lines = _lines(by_account[pk])
        book.accounts.append(account)
    return book


def balance_at(*, account, movement):
    """The account's balance right after `movement`, as it stood on its date (what its receipt shows)."""
    balance = 0
    for m in account.movements.all():
        counted = m.reversed_on is None or m.reversed_on > movement.on
        if counted and (m.on, m.receipt_no) <= (movement.on, movement.receipt_no):
            balance += m.signed
    return balance


def balances_by_member(*, member_ids):
    """{member id: {kind: balance}} for the member page and lists, one query."""
    result = {}
    for row in SavingsAccount.objects.filter(member_id__in=member_ids).values(
        "member_id", "kind", "balance_derived"
    ):
        result.setdefault(row["member_id"], {})[row["kind"]] = row["balance_derived"]
    return result


def receipt_text(*, movement, balance_after):
    """The savings receipt as a WhatsApp message, in Bahasa Indonesia for the member."""
    account = movement.account
    with translation.override(settings.LANGUAGE_CODE):
        what = _("Setoran") if movement.kind == MovementKind.DEPOSIT else _("Penarikan")
        lines = [
            _("Kuitansi %(number)s - %(lkmm)s")
            % {"number": movement.receipt_code, "lkmm": movement.lkmm.name},
            _("Tanggal: %(date)s") % {"date": movement.on.strftime("%d/%m/%Y")},
            f"{what} {account.get_kind_display().lower()}: {account.member.full_name}",
            _("Jumlah: %(amount)s") % {"amount": format_rupiah(movement.amount)},
            _("Terbilang: %(words)s") % {"words": terbilang(movement.amount)},
            _("Saldo %(kind)s: %(amount)s")
            % {"kind": account.get_kind_display().lower(), "amount": format_rupiah(balance_after)},
            _("Terima kasih."),
        ]
    return "\n".join(lines)
