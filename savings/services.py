"""Writes of members' savings. Each is one transaction with its journal entry and audit row.

Deposits are recorded by the LKMM's staff; withdrawals are decisions (DOMAIN.md: "withdrawals need the
ketua (four eyes where on)"), and so are reversals. Rules per kind (DOMAIN.md "Savings"): pokok is paid
once at joining and returned only on leaving; wajib is locked while the member has a loan outstanding;
sukarela may be withdrawn whenever the LKMM has the cash. A balance is never below zero, at any date.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from institutions.access import check_decider
from institutions.models import Lkmm
from institutions.services import audit_record, audit_row
from institutions.templatetags.lkmm_format import format_rupiah
from ledger.models import AccountCode, EntryKind
from ledger.selectors import cash_lowest_from
from ledger.services import entry_post, memo_in_books_language, next_receipt_no
from savings.models import (
    LEDGER_ACCOUNT,
    MovementKind,
    SavingsAccount,
    SavingsKind,
    SavingsMovement,
    SavingsProduct,
    WajibFrequency,
)

# What a new LKMM's savings products ask until its ketua sets its own (Jember's LKMMs: pokok
# Rp10.000 once, wajib Rp5.000 a week, sukarela any amount).
DEFAULT_AMOUNTS = {SavingsKind.POKOK: 10_000, SavingsKind.WAJIB: 5_000, SavingsKind.SUKARELA: 0}


def _d(date):
    return date.strftime("%d/%m/%Y")


def products_ensure(*, lkmm):
    """The LKMM's three savings products, made with the default amounts where missing."""
    existing = {p.kind: p for p in SavingsProduct.objects.filter(lkmm=lkmm)}
    for kind in SavingsKind:
        if kind not in existing:
            existing[kind] = SavingsProduct.objects.create(lkmm=lkmm, kind=kind, amount=DEFAULT_AMOUNTS[kind])
    return existing


@transaction.atomic
def product_update(*, product, actor, amount, frequency=None):
    """The ketua (or a named approver) sets a kind's amount, and for wajib how often it falls due; the
    change is audited with before/after. `frequency` None keeps the product's."""
    check_decider(actor, lkmm=product.lkmm, what=_("produk simpanan"))
    if amount < 0:
        raise ValidationError({"amount": _("Jumlah tidak boleh negatif.")})
    frequency = frequency or product.frequency
    if frequency not in WajibFrequency.values:
        raise ValidationError({"frequency": _("Pilih frekuensi yang tersedia.")})
    if product.kind != SavingsKind.WAJIB and frequency != product.frequency:
        raise ValidationError({"frequency": _("Frekuensi hanya berlaku untuk simpanan wajib.")})
    before = {"amount": product.amount, "frequency": product.frequency}
    product.amount, product.frequency = amount, frequency
    product.save(update_fields=["amount", "frequency"])
    data = {"kind": product.kind, "before": before["amount"], "after": amount}
    if frequency != before["frequency"]:
        data.update(frequency_before=before["frequency"], frequency_after=frequency)
    audit_record(actor=actor, action="savings.product", obj=product, lkmm=product.lkmm, data=data)
    return product


def accounts_open(*, member, on=None):
    """Open the member's three savings accounts (idempotent): at admission, and for members admitted
    before savings existed (savings migration 0002)."""
    on = on or member.joined_on
    existing = set(SavingsAccount.objects.filter(member=member).values_list("kind", flat=True))
    SavingsAccount.objects.bulk_create(
        SavingsAccount(lkmm_id=member.lkmm_id, member=member, kind=kind, opened_on=on)
        for kind in SavingsKind
        if kind not in existing
    )


def _check_recorder(actor, lkmm):
    staff = getattr(actor, "staff", None)
    if staff is None or not staff.records or staff.lkmm_id != lkmm.pk:
        raise PermissionDenied(_("Hanya pengurus LKMM ini yang dapat mencatat simpanan."))


def _check_date(on, *, account, field="on"):
    if on > timezone.localdate():
        raise ValidationError({field: _("Tanggal tidak boleh di masa depan.")})
    if on < account.opened_on:
        raise ValidationError(
            {field: _("Tanggal tidak boleh sebelum rekening dibuka (%(d)s).") % {"d": _d(account.opened_on)}}
        )


def _lowest_balance_from(account, on, *, without=None):
    """The lowest end-of-day balance of `account` on `on` or any later day, over the movements that
    count (leaving out `without`). A withdrawal or a reversal may not take any such day below zero."""
    moves = [m for m in account.movements.counting().order_by("on") if m.pk != getattr(without, "pk", None)]
    balance = sum(m.signed for m in moves if m.on <= on)
    lowest = balance
    for movement in (m for m in moves if m.on > on):
        balance += movement.signed
        lowest = min(lowest, balance)
    return lowest


def _entry(*, movement, account, reverse=False):
    """entries_post's spec of the movement's entry: a deposit is Dr kas / Cr simpanan, a withdrawal the
    opposite; a reversal posts the opposite of the movement on its reversal date."""
    inflow = (movement.kind == MovementKind.DEPOSIT) != reverse
    amount = movement.amount
    liability = LEDGER_ACCOUNT[account.kind]
    if inflow:
        lines = [(AccountCode.KAS, amount, 0), (liability, 0, amount)]
    else:
        lines = [(liability, amount, 0), (AccountCode.KAS, 0, amount)]
    text = (
        gettext_noop("Pembatalan %(kind)s %(member)s, %(receipt)s")
        if reverse
        else gettext_noop("%(kind)s %(member)s, %(receipt)s")
    )
    memo = memo_in_books_language(
        text,
        kind=f"{movement.get_kind_display()} {account.get_kind_display().lower()}",
        member=account.member.full_name,
        receipt=movement.receipt_code,
    )
    return {
        "date": movement.reversed_on if reverse else movement.on,
        "memo": memo,
        "lines": lines,
        "kind": EntryKind.SAVINGS,
        "source": movement,
    }


def _post(*, movement, account, actor, reverse=False):
    """Post the movement's journal entry (_entry)."""
    entry_post(lkmm=account.lkmm, actor=actor, **_entry(movement=movement, account=account, reverse=reverse))


def _locked_account(account):
    return SavingsAccount.objects.select_for_update().select_related("member", "lkmm").get(pk=account.pk)


def account_of(*, member, kind):
    """The member's account of `kind`, opened first if the member has none yet (call inside a write)."""
    accounts_open(member=member)
    return SavingsAccount.objects.get(member=member, kind=kind)


def _deposit_refusal(*, account, amount, on, product):
    """Refuse a deposit the member's status, the amount, the date or the product does not allow."""
    from members.models import MemberStatus

    if account.member.status != MemberStatus.AKTIF:
        raise ValidationError(_("Hanya anggota aktif yang dapat menyetor simpanan."))
    if amount <= 0:
        raise ValidationError({"amount": _("Jumlah setoran harus lebih dari nol.")})
    _check_date(on, account=account)
    if account.kind == SavingsKind.POKOK and account.balance_derived + amount > product.amount:
        raise ValidationError(
            {
                "amount": _("Simpanan pokok %(amount)s dibayar sekali; yang belum dibayar %(left)s.")
                % {
                    "amount": format_rupiah(product.amount),
                    "left": format_rupiah(max(product.amount - account.balance_derived, 0)),
                }
            }
        )
    if account.kind == SavingsKind.SUKARELA and amount < product.amount:
        raise ValidationError(
            {
                "amount": _("Setoran sukarela paling sedikit %(amount)s.")
                % {"amount": format_rupiah(product.amount)}
            }
        )


def _deposit(*, lkmm, account, amount, on, actor, receipt_no, token=None, note=""):
    """The deposit's movement, not saved yet."""
    return SavingsMovement(
        lkmm=lkmm,
        account=account,
        kind=MovementKind.DEPOSIT,
        amount=amount,
        on=on,
        note=note,
        recorded_by=actor,
        receipt_no=receipt_no,
        **({"token": token} if token is not None else {}),
    )


def _deposit_audit(*, movement, account, actor):
    return {
        "actor": actor,
        "action": "savings.deposit",
        "obj": movement,
        "lkmm": movement.lkmm,
        "data": {
            "account": account.pk,
            "kind": account.kind,
            "amount": movement.amount,
            "on": movement.on.isoformat(),
        },
    }


@transaction.atomic
def savings_deposit(*, member, kind, amount, on, actor, token=None, note="", receipt_no=None):
    """Record a deposit with its kuitansi. A resubmitted form (same token) returns the deposit already
    recorded. `receipt_no`: a kuitansi number already taken in this transaction for the same member and
    date (the collection sheet's one receipt per member); by default the next of the LKMM's sequence.
    The collection sheet records its deposits in bulk with the same helpers (deposits_record)."""
    lkmm = Lkmm.objects.select_for_update().get(pk=member.lkmm_id)
    _check_recorder(actor, lkmm)
    account = _locked_account(account_of(member=member, kind=kind))
    if token is not None:
        existing = SavingsMovement.objects.filter(token=token).first()
        if existing is not None:
            if existing.account_id != account.pk:
                raise ValidationError(
                    _("Formulir ini sudah dipakai untuk rekening lain; muat ulang halaman.")
                )
            return existing
    product = products_ensure(lkmm=lkmm)[account.kind]
    _deposit_refusal(account=account, amount=amount, on=on, product=product)
    movement = _deposit(
        lkmm=lkmm,
        account=account,
        amount=amount,
        on=on,
        actor=actor,
        receipt_no=receipt_no or next_receipt_no(lkmm=lkmm),
        token=token,
        note=note,
    )
    movement.save()
    _post(movement=movement, account=account, actor=actor)
    account.balance_derived += amount
    account.save(update_fields=["balance_derived"])
    audit_record(**_deposit_audit(movement=movement, account=account, actor=actor))
    return movement


# --- the collection sheet's deposits, in bulk (loans.collection) -------------------------------------


def deposits_accounts(*, lkmm, actor, wanted):
    """The accounts of the sheet's deposits, locked, with their members: {(member id, kind): account}
    for `wanted`, a set of (member id, kind), in one query, and the LKMM's products (one more). A
    missing account is left out (savings_deposit opens it). Refuses an actor who may not record."""
    _check_recorder(actor, lkmm)
    member_ids = {member_id for member_id, _kind in wanted}
    kinds = {kind for _member_id, kind in wanted}
    accounts = {
        (account.member_id, account.kind): account
        for account in SavingsAccount.objects.select_for_update()
        .filter(lkmm=lkmm, member__in=member_ids, kind__in=kinds)
        .select_related("member")
        .order_by("pk")
    }
    return {key: accounts[key] for key in wanted if key in accounts}, products_ensure(lkmm=lkmm)


def deposit_plan(*, lkmm, account, product, amount, on, actor, receipt_no, token):
    """The unsaved movement of a deposit savings_deposit would record into `account` (locked, from
    deposits_accounts), or its ValidationError."""
    _deposit_refusal(account=account, amount=amount, on=on, product=product)
    return _deposit(
        lkmm=lkmm, account=account, amount=amount, on=on, actor=actor, receipt_no=receipt_no, token=token
    )


def deposits_save(movements):
    """Save planned deposits (deposit_plan) and their accounts' kept balances, two queries whatever their
    number. Their entries and audit rows are the caller's to post (deposit_entry, deposit_audit_row)."""
    SavingsMovement.objects.bulk_create(movements)
    accounts = {}
    for movement in movements:
        movement.account.balance_derived += movement.amount
        accounts[movement.account.pk] = movement.account
    if accounts:
        SavingsAccount.objects.bulk_update(list(accounts.values()), ["balance_derived"])


def deposit_entry(movement):
    return _entry(movement=movement, account=movement.account)


def deposit_audit_row(movement, *, actor):
    return audit_row(**_deposit_audit(movement=movement, account=movement.account, actor=actor))


def withdrawal_refusal(account, *, leaving=False):
    """Why this kind of savings cannot be withdrawn now, or "" (shown in place of the form). A member
    who leaves gets everything back once no loan is outstanding."""
    from loans.models import Loan, LoanStatus

    if leaving:
        if Loan.objects.filter(member_id=account.member_id, status=LoanStatus.AKTIF).exists():
            return _("Anggota masih punya pinjaman berjalan: lunasi dulu sebelum simpanan dikembalikan.")
        return ""
    if account.kind == SavingsKind.POKOK:
        return _("Simpanan pokok dikembalikan hanya saat anggota keluar.")
    if (
        account.kind == SavingsKind.WAJIB
        and Loan.objects.filter(member_id=account.member_id, status=LoanStatus.AKTIF).exists()
    ):
        return _("Simpanan wajib terkunci selama anggota masih punya pinjaman berjalan.")
    return ""


@transaction.atomic
def savings_withdraw(*, account, amount, on, actor, note="", requested_by=None, leaving=False):
    """Pay savings out: a decision of the ketua or a named approver (four eyes: a request)."""
    lkmm = Lkmm.objects.select_for_update().get(pk=account.lkmm_id)
    account = _locked_account(account)
    check_decider(actor, lkmm=lkmm, what=_("penarikan simpanan"), requested_by=requested_by, at_once=True)
    if refusal := withdrawal_refusal(account, leaving=leaving):
        raise ValidationError(refusal)
    if amount <= 0:
        raise ValidationError({"amount": _("Jumlah penarikan harus lebih dari nol.")})
    _check_date(on, account=account)
    available = _lowest_balance_from(account, on)
    if amount > available:
        raise ValidationError(
            {
                "amount": _("Melebihi saldo yang dapat ditarik per %(d)s: %(amount)s.")
                % {"d": _d(on), "amount": format_rupiah(max(available, 0))}
            }
        )
    when, cash = cash_lowest_from(lkmm=lkmm, code=AccountCode.KAS, on=on)
    if amount > cash:
        raise ValidationError(
            {
                "amount": _("Kas tidak cukup: saldo kas %(d)s hanya %(amount)s.")
                % {"d": _d(when), "amount": format_rupiah(max(cash, 0))}
            }
        )
    movement = SavingsMovement.objects.create(
        lkmm=lkmm,
        account=account,
        kind=MovementKind.WITHDRAWAL,
        amount=amount,
        on=on,
        note=note,
        recorded_by=requested_by or actor,
        receipt_no=next_receipt_no(lkmm=lkmm),
    )
    _post(movement=movement, account=account, actor=actor)
    account.balance_derived -= amount
    account.save(update_fields=["balance_derived"])
    audit_record(
        actor=actor,
        action="savings.withdraw",
        obj=movement,
        lkmm=lkmm,
        data={"account": account.pk, "kind": account.kind, "amount": amount, "on": on.isoformat()},
    )
    return movement


@transaction.atomic
def savings_reverse(*, movement, actor, on, reason, requested_by=None):
    """Reverse a mistaken deposit or withdrawal from date `on`; both rows remain (never edit or delete).
    A decision, like a repayment's reversal; its recorder may not decide it under four eyes."""
    movement = SavingsMovement.objects.select_related("account").get(pk=movement.pk)
    lkmm = Lkmm.objects.select_for_update().get(pk=movement.lkmm_id)
    account = _locked_account(movement.account)
    movement = SavingsMovement.objects.select_for_update().get(pk=movement.pk)
    check_decider(
        actor,
        lkmm=lkmm,
        what=_("pembatalan mutasi simpanan"),
        recorded_by=[movement.recorded_by_id],
        requested_by=requested_by,
        at_once=True,
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tulis alasan pembatalan.")})
    if movement.reversed_on is not None:
        raise ValidationError(_("Mutasi ini sudah dibatalkan."))
    from shu.models import ShuShare

    if ShuShare.objects.filter(movement=movement).exists():
        # Its entry credited the savings from the SHU payable, not from kas: undoing it is not a cash
        # reversal (the rapat anggota's decision stands; a correction is a withdrawal).
        raise ValidationError(_("SHU yang sudah ditambahkan ke simpanan tidak dapat dibatalkan di sini."))
    if on < movement.on:
        raise ValidationError(
            {
                "on": _("Tanggal pembatalan tidak boleh sebelum tanggal mutasi (%(d)s).")
                % {"d": _d(movement.on)}
            }
        )
    if on > timezone.localdate():
        raise ValidationError({"on": _("Tanggal pembatalan tidak boleh di masa depan.")})
    if movement.kind == MovementKind.DEPOSIT:
        # The deposit's money leaves the savings and the kas from `on`.
        if _lowest_balance_from(account, on, without=movement) < 0:
            raise ValidationError(_("Setoran ini sudah ditarik kembali: batalkan dulu penarikan sesudahnya."))
        when, cash = cash_lowest_from(lkmm=lkmm, code=AccountCode.KAS, on=on)
        if movement.amount > cash:
            raise ValidationError(
                _("Kas tidak cukup untuk membatalkan setoran: saldo kas %(d)s hanya %(amount)s.")
                % {"d": _d(when), "amount": format_rupiah(max(cash, 0))}
            )
    _record_reversal(movement=movement, account=account, lkmm=lkmm, actor=actor, on=on, reason=reason)
    return movement


def _record_reversal(*, movement, account, lkmm, actor, on, reason, action="savings.reverse"):
    movement.reversed_on = on
    movement.reversed_by = actor
    movement.reversed_at = timezone.now()
    movement.reversal_reason = reason
    movement.save(update_fields=["reversed_on", "reversed_by", "reversed_at", "reversal_reason"])
    _post(movement=movement, account=account, actor=actor, reverse=True)
    account.balance_derived -= movement.signed
    account.save(update_fields=["balance_derived"])
    audit_record(
        actor=actor,
        action=action,
        obj=movement,
        lkmm=lkmm,
        reason=reason,
        data={"account": account.pk, "amount": movement.amount, "on": on.isoformat()},
    )


@transaction.atomic
def savings_return_all(*, member, on, actor, requested_by=None):
    """A leaving member's savings paid back, every kind in full (DOMAIN.md: after debts are settled).
    One decision; one kuitansi per kind with a balance."""
    movements = []
    for account in SavingsAccount.objects.filter(member=member, balance_derived__gt=0).order_by("kind"):
        movements.append(
            savings_withdraw(
                account=account,
                amount=account.balance_derived,
                on=on,
                actor=actor,
                note=_("Pengembalian simpanan anggota keluar"),
                requested_by=requested_by,
                leaving=True,
            )
        )
    if not movements:
        raise ValidationError(_("Anggota ini tidak punya saldo simpanan."))
    return movements


# --- history brought in from an LKMM's existing books (books.recorder) -----------------------------------


@transaction.atomic
def savings_movement_import(*, member, kind, movement_kind, amount, on, actor, note=""):
    """Record a deposit or a withdrawal from the LKMM's past books: a historical fact, not a decision,
    so none of the decision flow nor the product and locking rules apply (the book already shows the
    money moved). What stays: its kuitansi from the one sequence, its journal entry, the kept balance,
    the audit row, no date in the future or before the account was opened, and no balance below zero.
    The importer validates the same beforehand (books.importer), this refuses again."""
    lkmm = Lkmm.objects.select_for_update().get(pk=member.lkmm_id)
    account = _locked_account(account_of(member=member, kind=kind))
    if amount <= 0:
        raise ValidationError({"amount": _("Jumlah harus lebih dari nol.")})
    _check_date(on, account=account)
    if movement_kind == MovementKind.WITHDRAWAL:
        available = _lowest_balance_from(account, on)
        if amount > available:
            raise ValidationError(
                {
                    "amount": _("Melebihi saldo yang dapat ditarik per %(d)s: %(amount)s.")
                    % {"d": _d(on), "amount": format_rupiah(max(available, 0))}
                }
            )
    movement = SavingsMovement.objects.create(
        lkmm=lkmm,
        account=account,
        kind=movement_kind,
        amount=amount,
        on=on,
        note=note,
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
        receipt_no=next_receipt_no(lkmm=lkmm),
    )
    _post(movement=movement, account=account, actor=actor)
    account.balance_derived += movement.signed
    account.save(update_fields=["balance_derived"])
    audit_record(
        actor=actor,
        action="savings.import",
        obj=movement,
        lkmm=lkmm,
        data={
            "account": account.pk,
            "kind": account.kind,
            "movement": movement_kind,
            "amount": amount,
            "on": on.isoformat(),
        },
    )
    return movement


@transaction.atomic
def savings_reverse_import(*, movement, on, reason, actor):
    """A reversal from the LKMM's past books (a fact, as savings_movement_import): no decision, but
    never before the movement, in the future, nor taking the balance below zero."""
    lkmm = Lkmm.objects.select_for_update().get(pk=movement.lkmm_id)
    account = _locked_account(movement.account)
    movement = SavingsMovement.objects.select_for_update().get(pk=movement.pk)
    if movement.reversed_on is not None:
        raise ValidationError(_("Mutasi ini sudah dibatalkan."))
    if on < movement.on or on > timezone.localdate():
        raise ValidationError(
            {
                "on": _("Tanggal pembatalan harus antara tanggal mutasi (%(d)s) dan hari ini.")
                % {"d": _d(movement.on)}
            }
        )
    if movement.kind == MovementKind.DEPOSIT and _lowest_balance_from(account, on, without=movement) < 0:
        raise ValidationError(_("Setoran ini sudah ditarik kembali: batalkan dulu penarikan sesudahnya."))
    _record_reversal(
        movement=movement,
        account=account,
        lkmm=lkmm,
        actor=actor,
        on=on,
        reason=reason or _("Dibatalkan (impor)"),
        action="savings.import_reverse",
    )
    return movement


@transaction.atomic
def savings_credit(*, member, kind, amount, on, actor, from_code, memo, note=""):
    """Credit a member's savings from another account of the books rather than from cash (their SHU
    share, shu.services): a deposit movement with its kuitansi, so the passbook, its receipt and
    check_books treat it as any deposit, posted Dr `from_code` / Cr the simpanan account. The caller
    decides who may do it and checks the member is still a member."""
    lkmm = Lkmm.objects.select_for_update().get(pk=member.lkmm_id)
    account = _locked_account(account_of(member=member, kind=kind))
    if amount <= 0:
        raise ValidationError({"amount": _("Jumlah harus lebih dari nol.")})
    _check_date(on, account=account)
    movement = SavingsMovement.objects.create(
        lkmm=lkmm,
        account=account,
        kind=MovementKind.DEPOSIT,
        amount=amount,
        on=on,
        note=note[:200],
        recorded_by=actor,
        receipt_no=next_receipt_no(lkmm=lkmm),
    )
    entry_post(
        lkmm=lkmm,
        date=on,
        memo=f"{memo} {account.member.full_name}, {movement.receipt_code}",
        lines=[(from_code, amount, 0), (LEDGER_ACCOUNT[account.kind], 0, amount)],
        kind=EntryKind.SAVINGS,
        actor=actor,
        source=movement,
    )
    account.balance_derived += amount
    account.save(update_fields=["balance_derived"])
    audit_record(
        actor=actor,
        action="savings.credit",
        obj=movement,
        lkmm=lkmm,
        data={
            "account": account.pk,
            "kind": account.kind,
            "amount": amount,
            "on": on.isoformat(),
            "from": from_code,
        },
    )
    return movement


@transaction.atomic
def savings_credit_reverse(*, movement, actor, on, to_code, reason, memo):
    """Reverse a credit from another account of the books (savings_credit: an SHU share credited to
    sukarela) from date `on`: the movement stays, marked reversed, and Dr the simpanan account / Cr
    `to_code` is posted on `on`. Refused when the member's savings no longer hold the amount on `on` or
    any later day (it was withdrawn since). The caller decides who may do it (shu.services.shu_reverse)."""
    movement = SavingsMovement.objects.select_related("account").get(pk=movement.pk)
    lkmm = Lkmm.objects.select_for_update().get(pk=movement.lkmm_id)
    account = _locked_account(movement.account)
    movement = SavingsMovement.objects.select_for_update().get(pk=movement.pk)
    if movement.reversed_on is not None:
        raise ValidationError(_("Mutasi %(receipt)s sudah dibatalkan.") % {"receipt": movement.receipt_code})
    if movement.kind != MovementKind.DEPOSIT:
        raise ValidationError(_("Hanya setoran yang dapat dibatalkan di sini."))
    if on < movement.on:
        raise ValidationError(
            {
                "on": _("Tanggal pembatalan tidak boleh sebelum tanggal mutasi (%(d)s).")
                % {"d": _d(movement.on)}
            }
        )
    if on > timezone.localdate():
        raise ValidationError({"on": _("Tanggal pembatalan tidak boleh di masa depan.")})
    lowest = _lowest_balance_from(account, on, without=movement)
    if lowest < 0:
        raise ValidationError(
            _(
                "Simpanan %(kind)s %(member)s tidak lagi memuat %(amount)s dari %(receipt)s (sudah "
                "ditarik): batalkan dulu penarikan sesudahnya."
            )
            % {
                "kind": account.get_kind_display().lower(),
                "member": account.member.full_name,
                "amount": format_rupiah(movement.amount),
                "receipt": movement.receipt_code,
            }
        )
    movement.reversed_on = on
    movement.reversed_by = actor
    movement.reversed_at = timezone.now()
    movement.reversal_reason = reason
    movement.save(update_fields=["reversed_on", "reversed_by", "reversed_at", "reversal_reason"])
    entry_post(
        lkmm=lkmm,
        date=on,
        memo=f"{memo} {account.member.full_name}, {movement.receipt_code}",
        lines=[(LEDGER_ACCOUNT[account.kind], movement.amount, 0), (to_code, 0, movement.amount)],
        kind=EntryKind.SAVINGS,
        actor=actor,
        source=movement,
    )
    account.balance_derived -= movement.amount
    account.save(update_fields=["balance_derived"])
    audit_record(
        actor=actor,
        action="savings.credit_reverse",
        obj=movement,
        lkmm=lkmm,
        reason=reason,
        data={"account": account.pk, "amount": movement.amount, "on": on.isoformat(), "to": to_code},
    )
    return movement
