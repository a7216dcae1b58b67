"""The one place where loans and money change. Each function is one transaction that writes the
event, its ledger entry and its audit row together; later features extend these, never bypass them.

Payments are allocated by loans.allocation (pure). After every payment, reversal or waiver the loan's
allocation table is rebuilt for every period between reversal dates, and the books are brought to
match it in the event's own journal entry, so the ledger and the schedule cannot drift apart.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from institutions.access import check_decider
from institutions.models import Lkmm
from institutions.services import audit_record, audit_row
from ledger.models import AccountCode, EntryKind, JournalLine
from ledger.services import entry_post, memo_in_books_language, month_figures_forget, next_receipt_no
from loans import allocation as engine
from loans import schedule, standing
from loans.models import (
    LOAN_TRANSITIONS,
    FeeMode,
    Installment,
    Loan,
    LoanProduct,
    LoanStatus,
    LoanStatusChange,
    Repayment,
    Waiver,
)
from members.models import MemberStatus


def _rp(amount):
    return f"Rp{amount:,}".replace(",", ".")


def _d(date):
    return date.strftime("%d/%m/%Y")


def _next_number(queryset, field):
    return (queryset.aggregate(n=Max(field))["n"] or 0) + 1


def loan_transition(*, loan, to, actor, on, reason=""):
    """Move a loan to status `to` if LOAN_TRANSITIONS allows it, recording who, when and why."""
    key = (loan.status, to)
    if key not in LOAN_TRANSITIONS:
        raise ValidationError(
            _("Status pinjaman tidak dapat diubah dari %(from)s menjadi %(to)s.")
            % {"from": loan.get_status_display(), "to": LoanStatus(to).label}
        )
    reason = (reason or "").strip()
    if LOAN_TRANSITIONS[key] and not reason:
        raise ValidationError({"reason": _("Tulis alasannya.")})
    LoanStatusChange.objects.create(
        loan=loan, from_status=loan.status, to_status=to, on=on, by=actor, reason=reason
    )
    audit_record(
        actor=actor,
        action=f"loan.{to}",
        obj=loan,
        lkmm=loan.lkmm,
        reason=reason,
        data={"from": loan.status, "to": to, "on": on.isoformat()},
    )
    loan.status = to
    loan.save(update_fields=["status", "disbursed_on"])


@transaction.atomic
def product_create(*, lkmm, actor, **fields):
    check_decider(actor, lkmm=lkmm, what=_("produk pinjaman"))
    product = LoanProduct(lkmm=lkmm, **fields)
    product.full_clean()
    # Refuse terms that cannot make a schedule at the product's own limits.
    for amount in {product.min_amount, product.max_amount}:
        try:
            schedule.build_schedule(
                principal=amount,
                rate_per_month=product.rate_per_month,
                count=product.installment_count,
                frequency=product.frequency,
                method=product.interest_method,
                rounding_unit=product.rounding_unit,
                first_due=datetime.date(2000, 1, 1),
            )
        except schedule.ScheduleError as exc:
            raise ValidationError(
                {
                    "rounding_unit": _("Untuk pinjaman %(amount)s: %(error)s")
                    % {"amount": _rp(amount), "error": exc}
                }
            ) from None
    product.save()
    audit_record(actor=actor, action="product.create", obj=product, lkmm=lkmm)
    return product


def admin_fee_for(product, principal):
    return schedule.round_half_up(Decimal(principal) * product.admin_fee_percent / 100)


# A member's loans that are still running or on their way: applied, approved or paid out.
OPEN_LOAN_STATUSES = (LoanStatus.DIAJUKAN, LoanStatus.DISETUJUI, LoanStatus.AKTIF)


def _check_eligible(*, member, product, principal, exclude=None):
    errors = {}
    if member.status != MemberStatus.AKTIF:
        errors["member"] = _("Hanya anggota aktif yang dapat meminjam.")
    if product.lkmm_id != member.lkmm_id:
        errors["product"] = _("Produk ini bukan milik LKMM anggota.")
    elif not product.is_active:
        errors["product"] = _("Produk ini sudah tidak aktif.")
    elif product.requires_group and not member.group_memberships.filter(left_on__isnull=True).exists():
        errors["product"] = _("Produk ini hanya untuk anggota kelompok; masukkan anggota ke kelompok dulu.")
    if not product.min_amount <= principal <= product.max_amount:
        errors["principal"] = _("Jumlah pinjaman untuk produk ini antara %(min)s dan %(max)s.") % {
            "min": _rp(product.min_amount),
            "max": _rp(product.max_amount),
        }
    if product.one_loan_at_a_time:
        other = (
            member.loans.filter(status__in=OPEN_LOAN_STATUSES)
            .exclude(pk=getattr(exclude, "pk", None))
            .first()
        )
        if other is not None:
            errors["product"] = _(
                "Produk ini satu pinjaman sekaligus: anggota masih punya pinjaman %(code)s."
            ) % {"code": other.code}
    if getattr(member.lkmm, "refuse_if_in_arrears", False):
        overdue = Loan.objects.past_due(timezone.localdate()).filter(member=member).first()
        if overdue is not None:
            errors["member"] = _(
                "Anggota masih menunggak pada pinjaman %(code)s; LKMM ini tidak memberi pinjaman baru."
            ) % {"code": overdue.code}
    return errors


@transaction.atomic
def loan_apply(*, member, product, principal, purpose, applied_on, actor, token=None):
    """Record a loan application for `member` on `product`'s terms (not yet approved). A resubmitted
    form (same token) returns the application it recorded the first time."""
    if token is not None:
        existing = Loan.objects.filter(token=token, member=member).first()
        if existing is not None:
            return existing
    errors = _check_eligible(member=member, product=product, principal=principal)
    if applied_on > timezone.localdate():
        errors["applied_on"] = _("Tanggal pengajuan tidak boleh di masa depan.")
    elif applied_on < member.joined_on:
        errors["applied_on"] = _("Tanggal pengajuan tidak boleh sebelum anggota masuk (%(d)s).") % {
            "d": _d(member.joined_on)
        }
    if errors:
        raise ValidationError(errors)
    lkmm = Lkmm.objects.select_for_update().get(pk=member.lkmm_id)
    loan = Loan(
        lkmm=lkmm,
        member=member,
        product=product,
        principal=principal,
        purpose=purpose,
        applied_on=applied_on,
        number=_next_number(Loan.objects.filter(lkmm=lkmm), "number"),
        token=token,
        created_by=actor,
        interest_method=product.interest_method,
        frequency=product.frequency,
        rate_per_month=product.rate_per_month,
        installment_count=product.installment_count,
        rounding_unit=product.rounding_unit,
        admin_fee=admin_fee_for(product, principal),
        admin_fee_mode=product.admin_fee_mode,
        late_fee=product.late_fee,
        waive_interest_on_payoff=product.waive_interest_on_payoff,
    )
    try:
        schedule.build_schedule(first_due=applied_on, **loan.schedule_terms())
    except schedule.ScheduleError as exc:
        raise ValidationError({"principal": str(exc)}) from None
    loan.full_clean()
    loan.save()
    audit_record(actor=actor, action="loan.apply", obj=loan, lkmm=lkmm, data={"principal": principal})
    return loan


def application_recorders(loan):
    """Who recorded a loan application: whoever made it and whoever edited it (DOMAIN.md: an edit counts
    as recording)."""
    from institutions.models import AuditLog

    editors = AuditLog.objects.filter(
        object_type="loans.loan", object_id=loan.pk, action="loan.edit"
    ).values_list("actor_id", flat=True)
    return [loan.created_by_id, *editors]


@transaction.atomic
def loan_application_update(*, loan, actor, reason, product, principal, purpose):
    """Correct an application that waits for its decision (product, amount, purpose), with a reason.
    The editor counts as its recorder from then on (four eyes)."""
    loan = Loan.objects.select_for_update().select_related("lkmm", "member__lkmm").get(pk=loan.pk)
    staff = getattr(actor, "staff", None)
    if staff is None or not staff.records or staff.lkmm_id != loan.lkmm_id:
        raise PermissionDenied(_("Hanya pengurus LKMM ini yang dapat mengubah pengajuan."))
    if loan.status != LoanStatus.DIAJUKAN:
        raise ValidationError(_("Hanya pengajuan yang belum diputuskan yang dapat diubah."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tulis alasan perubahan.")})
    errors = _check_eligible(member=loan.member, product=product, principal=principal, exclude=loan)
    if errors:
        raise ValidationError(errors)
    before = {"product": loan.product.name, "principal": loan.principal, "purpose": loan.purpose}
    loan.product, loan.principal, loan.purpose = product, principal, purpose
    for name in ("interest_method", "frequency", "rate_per_month", "installment_count", "rounding_unit"):
        setattr(loan, name, getattr(product, name))
    loan.admin_fee = admin_fee_for(product, principal)
    loan.admin_fee_mode, loan.late_fee = product.admin_fee_mode, product.late_fee
    loan.waive_interest_on_payoff = product.waive_interest_on_payoff
    try:
        schedule.build_schedule(first_due=loan.applied_on, **loan.schedule_terms())
    except schedule.ScheduleError as exc:
        raise ValidationError({"principal": str(exc)}) from None
    loan.full_clean()
    loan.save()
    after = {"product": product.name, "principal": principal, "purpose": purpose}
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changes:
        raise ValidationError(_("Tidak ada yang berubah."))
    audit_record(
        actor=actor, action="loan.edit", obj=loan, lkmm=loan.lkmm, reason=reason, data={"changes": changes}
    )
    return loan


@transaction.atomic
def loan_approve(*, loan, actor, on=None):
    loan = Loan.objects.select_for_update().select_related("lkmm").get(pk=loan.pk)
    check_decider(actor, lkmm=loan.lkmm, recorded_by=application_recorders(loan), what=_("pinjaman"))
    loan_transition(loan=loan, to=LoanStatus.DISETUJUI, actor=actor, on=on or timezone.localdate())
    return loan


@transaction.atomic
def loan_reject(*, loan, actor, reason):
    loan = Loan.objects.select_for_update().select_related("lkmm").get(pk=loan.pk)
    check_decider(
        actor, lkmm=loan.lkmm, recorded_by=application_recorders(loan), what=_("penolakan pinjaman")
    )
    loan_transition(loan=loan, to=LoanStatus.DITOLAK, actor=actor, on=timezone.localdate(), reason=reason)
    return loan


@transaction.atomic
def loan_disburse(*, loan, disbursed_on, actor, first_due=None):
    """Pay an approved loan out: fix the schedule from the disbursement date, take the administration
    fee and post Dr piutang / Cr kas (+ Cr pendapatan administrasi)."""
    loan = Loan.objects.select_for_update().select_related("member").get(pk=loan.pk)
    if loan.status != LoanStatus.DISETUJUI:
        raise ValidationError(_("Hanya pinjaman yang sudah disetujui yang dapat dicairkan."))
    if disbursed_on < loan.applied_on:
        raise ValidationError({"disbursed_on": _("Tanggal pencairan tidak boleh sebelum tanggal pengajuan.")})
    if disbursed_on > timezone.localdate():
        raise ValidationError({"disbursed_on": _("Tanggal pencairan tidak boleh di masa depan.")})
    first_due = first_due or schedule.first_due_after(disbursed_on, loan.frequency)
    if first_due <= disbursed_on:
        raise ValidationError({"first_due": _("Jatuh tempo pertama harus sesudah tanggal pencairan.")})
    lines = schedule.build_schedule(first_due=first_due, **loan.schedule_terms())
    Installment.objects.bulk_create(
        Installment(
            loan=loan, seq=line.seq, due_date=line.due_date, principal=line.principal, interest=line.interest
        )
        for line in lines
    )
    loan.disbursed_on = disbursed_on
    loan_transition(loan=loan, to=LoanStatus.AKTIF, actor=actor, on=disbursed_on)
    standing.standing_start(loan=loan)
    names = {"loan": loan.code, "member": loan.member.full_name}
    fee, deducted = loan.admin_fee, loan.admin_fee_mode == FeeMode.DEDUCTED
    entry_post(
        kind=EntryKind.DISBURSEMENT,
        loan=loan,
        lkmm=loan.lkmm,
        date=disbursed_on,
        actor=actor,
        source=loan,
        memo=memo_in_books_language(gettext_noop("Pencairan %(loan)s %(member)s"), **names),
        lines=[
            (AccountCode.PIUTANG, loan.principal, 0),
            (AccountCode.KAS, 0, loan.principal - fee if deducted else loan.principal),
            (AccountCode.PENDAPATAN_ADMINISTRASI, 0, fee if deducted else 0),
        ],
    )
    if fee and not deducted:
        entry_post(
            kind=EntryKind.FEE,
            loan=loan,
            lkmm=loan.lkmm,
            date=disbursed_on,
            actor=actor,
            source=loan,
            memo=memo_in_books_language(gettext_noop("Biaya administrasi %(loan)s %(member)s"), **names),
            lines=[(AccountCode.KAS, fee, 0), (AccountCode.PENDAPATAN_ADMINISTRASI, 0, fee)],
        )
    return loan


@transaction.atomic
def loan_cancel(*, loan, actor, reason):
    loan = Loan.objects.select_for_update().get(pk=loan.pk)
    loan_transition(loan=loan, to=LoanStatus.DIBATALKAN, actor=actor, on=timezone.localdate(), reason=reason)
    return loan


# --- allocation ------------------------------------------------------------------------------------


def _engine_inputs(loan):
    installments = [
        engine.Inst(i.pk, i.due_date, i.principal, i.interest) for i in loan.installments.order_by("seq")
    ]
    waivers = [engine.Waiver(w.installment_id, w.on, w.interest, w.late_fee) for w in loan.waivers.all()]
    return installments, waivers


def _pay(repayment):
    return engine.Pay(repayment.pk, repayment.paid_on, repayment.receipt_no, repayment.amount)


def _counting(repayments, at):
    """Payments that count at `at`: valued on or before it and not reversed on or before it."""
    return [
        _pay(r)
        for r in repayments
        if (at is None or r.paid_on <= at)
        and (r.reversed_on is None or (at is not None and r.reversed_on > at))
    ]


def _position(*, installments, states, waivers, late_fee, waive_interest_on_payoff, at):
    owed = {
        inst.id: engine.owed(inst, states[inst.id], at=at, late_fee=late_fee, waivers=waivers)
        for inst in installments
    }
    payoff = sum(sum(parts) for parts in owed.values())
    waivable = {}
    if waive_interest_on_payoff:
        for inst in installments:
            if inst.due_date > at and owed[inst.id][1] > 0:
                waivable[inst.id] = owed[inst.id][1]
    return {
        "states": states,
        "owed": owed,
        "payoff": payoff,
        "waivable_interest": waivable,
        "early_payoff": payoff - sum(waivable.values()),
    }


def loan_position(*, loan, at, rows=None):
    """The engine's view of a loan at `at`: {installment id: state}, what each installment still owes
    (late fee, interest, principal), the payoff and the interest waivable at early payoff.

    At a date on or after every event of the loan this reads the kept standing (one query); at an
    earlier date it replays the engine over the payments that count then.
    `rows`: the loan's installments, when the caller has read them already.
    """
    if standing.is_forward(loan, at):
        rows = rows if rows is not None else list(loan.installments.order_by("seq"))
        installments = [engine.Inst(i.pk, i.due_date, i.principal, i.interest) for i in rows]
        states, waivers = standing.kept_inputs(rows)
    else:
        installments, waivers = _engine_inputs(loan)
        payments = _counting(loan.repayments.all(), at)
        states = engine.allocate(installments, payments, late_fee=loan.late_fee, waivers=waivers).states
    return _position(
        installments=installments,
        states=states,
        waivers=waivers,
        late_fee=loan.late_fee,
        waive_interest_on_payoff=loan.waive_interest_on_payoff,
        at=at,
    )


def _book_balances(loan):
    """The loan's receivable and its interest and late-fee income in the books, as debit - credit."""
    rows = (
        JournalLine.objects.filter(entry__loan=loan)
        .values("account__code")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
    )
    totals = {row["account__code"]: (row["debit"] or 0) - (row["credit"] or 0) for row in rows}
    return tuple(
        totals.get(code, 0)
        for code in (AccountCode.PIUTANG, AccountCode.PENDAPATAN_BUNGA, AccountCode.PENDAPATAN_DENDA)
    )


def _book_changes(*, loan, paid):
    """What moves the loan's receivable, interest and late-fee income in the books to `paid` (the totals
    of principal, interest and late fees the loan has received), as _post_loan_entry's `changes`."""
    receivable, interest_income, fee_income = _book_balances(loan)
    principal, interest, fees = paid
    return (receivable - (loan.principal - principal), interest + interest_income, fees + fee_income)


def _books_follow(*, loan, paid, kind, date, memo, cash, actor, source, changes=None):
    """Post the event's entry: `cash` into (or out of) kas, and whatever moves the loan's receivable,
    interest and late-fee income to what the kept standing now says, so the books cannot drift from the
    allocation. `changes`: those moves, when the caller has computed them already."""
    return _post_loan_entry(
        loan=loan,
        kind=kind,
        date=date,
        memo=memo,
        actor=actor,
        source=source,
        cash=cash,
        changes=changes if changes is not None else _book_changes(loan=loan, paid=paid),
    )


def _post_loan_entry(*, loan, kind, date, memo, actor, source, cash, changes):
    """Dr/Cr kas by `cash`; Cr receivable, interest income and late-fee income by `changes`."""
    lines = _loan_entry_lines(cash=cash, changes=changes)
    return entry_post(
        kind=kind, loan=loan, lkmm=loan.lkmm, date=date, memo=memo, lines=lines, actor=actor, source=source
    )


def _loan_entry_lines(*, cash, changes):
    def side(code, debit_amount):
        return (code, max(debit_amount, 0), max(-debit_amount, 0))

    principal, interest, fees = changes
    return [
        side(AccountCode.KAS, cash),
        side(AccountCode.PIUTANG, -principal),
        side(AccountCode.PENDAPATAN_BUNGA, -interest),
        side(AccountCode.PENDAPATAN_DENDA, -fees),
    ]


def _settle_status(*, loan, actor, on, owing=None):
    """lunas when nothing is owed any more (no open installment); a reversal that leaves money owed
    reopens the loan. `owing`: whether an installment is open, when the caller knows it."""
    if owing is None:
        owing = loan.installments.filter(open_derived=True).exists()
    if loan.status == LoanStatus.AKTIF and not owing:
        loan_transition(loan=loan, to=LoanStatus.LUNAS, actor=actor, on=on)
    elif loan.status == LoanStatus.LUNAS and owing:
        loan_transition(
            loan=loan, to=LoanStatus.AKTIF, actor=actor, on=on, reason=_("Pembayaran pelunasan dibatalkan.")
        )


def _early_payoff_reason(repayment):
    return memo_in_books_language(
        gettext_noop("Pelunasan dipercepat %(receipt)s"), receipt=repayment.receipt_code
    )


def _settled_early(*, loan, repayment):
    """Whether the payment settled the loan early with the interest not yet due waived."""
    return (
        loan.waive_interest_on_payoff and loan.waivers.filter(reason=_early_payoff_reason(repayment)).exists()
    )


def _check_payer(*, loan, paid_by):
    """Tanggung renteng: the payer is an active member of the borrower's group."""
    if paid_by is None or paid_by.pk == loan.member_id:
        return None
    from members.models import GroupMembership

    group_ids = GroupMembership.objects.filter(member=loan.member, left_on__isnull=True).values("group")
    if not GroupMembership.objects.filter(member=paid_by, left_on__isnull=True, group__in=group_ids).exists():
        raise ValidationError(
            {"paid_by": _("Yang membayar harus anggota kelompok yang sama (tanggung renteng).")}
        )
    return paid_by


def _repayment_refusal(*, loan, amount, paid_on):
    """Refuse a payment the loan's status, the amount or the date does not allow (ValidationError)."""
    if refusal := state_refusal(loan=loan, action="repay"):
        raise ValidationError(refusal)
    if amount <= 0:
        raise ValidationError({"amount": _("Jumlah pembayaran harus lebih dari nol.")})
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("Tanggal bayar tidak boleh di masa depan.")})
    if paid_on < loan.disbursed_on:
        raise ValidationError(
            {
                "paid_on": _("Tanggal bayar tidak boleh sebelum pencairan (%(d)s).")
                % {"d": _d(loan.disbursed_on)}
            }
        )


def _forward_position(*, loan, opened, at):
    """loan_position at `at` from the kept open installments (`opened`, standing.open_position)."""
    installments, states, waivers = opened
    return _position(
        installments=[engine.Inst(i.pk, i.due_date, i.principal, i.interest) for i in installments],
        states=states,
        waivers=waivers,
        late_fee=loan.late_fee,
        waive_interest_on_payoff=loan.waive_interest_on_payoff,
        at=at,
    )


def _settle_amount(loan, position):
    """What settles the loan: the early-payoff amount where the product waives, else the payoff."""
    return position["early_payoff"] if loan.waive_interest_on_payoff else position["payoff"]


def _beyond_payoff(settle):
    return ValidationError(
        {"amount": _("Melebihi sisa pinjaman. Untuk melunasi, bayar %(payoff)s.") % {"payoff": _rp(settle)}}
    )


def _repayment_memo(*, loan, repayment):
    return memo_in_books_language(
        gettext_noop("Angsuran %(loan)s %(member)s, %(receipt)s"),
        loan=loan.code,
        member=loan.member.full_name,
        receipt=repayment.receipt_code,
    )


def _repayment_audit(*, repayment, actor, paid_by=None):
    return {
        "actor": actor,
        "action": "repayment.record",
        "obj": repayment,
        "lkmm": repayment.lkmm,
        "data": {
            "loan": repayment.loan_id,
            "amount": repayment.amount,
            "paid_on": repayment.paid_on.isoformat(),
            "paid_by": getattr(paid_by, "pk", None),
        },
    }


@transaction.atomic
def repayment_record(*, loan, amount, paid_on, actor, token=None, note="", paid_by=None, receipt_no=None):
    """Record a repayment, allocate it per DOMAIN.md and post it to the books.

    A payment beyond the payoff amount is refused with the amount that settles the loan. Where the
    product waives the interest of installments not yet due at early payoff, paying that smaller
    amount settles the loan and records the waiver. A resubmitted form (same token) returns the payment
    already recorded. Back-dated payments are allocated in value order. `receipt_no`: a kuitansi number
    already taken in this transaction for the same member and date (the collection sheet's one receipt
    per member); by default the next of the LKMM's sequence.

    The collection sheet records its usual payments in bulk with the same helpers (repayment_plan,
    repayments_save, repayment_entry, repayment_audit_row) and every other payment through this.
    """
    loan = Loan.objects.select_for_update().select_related("lkmm", "member").get(pk=loan.pk)
    # Checked under the loan's lock, so two submissions of one form at once record one payment.
    if token is not None:
        existing = Repayment.objects.filter(token=token).first()
        if existing is not None:
            if existing.loan_id != loan.pk:
                raise ValidationError(
                    _("Formulir ini sudah dipakai untuk pinjaman lain; muat ulang halaman.")
                )
            return existing
    _repayment_refusal(loan=loan, amount=amount, paid_on=paid_on)
    paid_by = _check_payer(loan=loan, paid_by=paid_by)
    # The usual payment comes after everything the kept standing holds and allocates forward from it;
    # a back-dated one re-allocates the payments valued after it.
    forward = standing.is_forward(loan, paid_on)
    # What settles the loan on that date, given the payments valued on or before it.
    if forward:
        opened = standing.open_position(loan)
        position = _forward_position(loan=loan, opened=opened, at=paid_on)
    else:
        position = loan_position(loan=loan, at=paid_on)
    settle = _settle_amount(loan, position)
    later = not forward and loan.repayments.filter(reversed_on__isnull=True, paid_on__gt=paid_on).exists()
    if amount > settle and not later:
        raise _beyond_payoff(settle)
    lkmm = Lkmm.objects.select_for_update().get(pk=loan.lkmm_id)
    repayment = Repayment.objects.create(
        lkmm=lkmm,
        loan=loan,
        amount=amount,
        paid_on=paid_on,
        note=note,
        recorded_by=actor,
        paid_by=paid_by,
        receipt_no=receipt_no or next_receipt_no(lkmm=lkmm),
        **({"token": token} if token is not None else {}),
    )
    early_payoff = loan.waive_interest_on_payoff and amount == settle and settle < position["payoff"]
    if early_payoff and not later:
        Waiver.objects.bulk_create(
            Waiver(
                loan=loan,
                installment_id=installment_id,
                on=paid_on,
                interest=interest,
                reason=_early_payoff_reason(repayment),
                approved_by=actor,
            )
            for installment_id, interest in position["waivable_interest"].items()
        )
    memo = _repayment_memo(loan=loan, repayment=repayment)
    entry = {"loan": loan, "kind": EntryKind.REPAYMENT, "date": paid_on, "memo": memo, "actor": actor}
    try:
        if forward and not early_payoff:
            changes, owing = standing.allocate_forward(loan=loan, repayment=repayment, opened=opened)
        else:
            paid = standing.reallocate(loan=loan, since=paid_on)
    except ValidationError:
        raise _beyond_payoff(settle) from None
    if forward and not early_payoff:
        _post_loan_entry(**entry, source=repayment, cash=amount, changes=changes)
    else:
        _books_follow(**entry, source=repayment, cash=amount, paid=paid)
        owing = None
    audit_record(**_repayment_audit(repayment=repayment, actor=actor, paid_by=paid_by))
    _settle_status(loan=loan, actor=actor, on=paid_on, owing=owing)
    return repayment


# --- the collection sheet's usual payments, in bulk (loans.collection) ------------------------------


def repayment_plan(*, lkmm, loan, amount, paid_on, opened, actor, receipt_no, token):
    """Plan, in memory, what repayment_record would do for a usual payment of the collection sheet: one
    dated on or after everything the loan's kept standing holds, allocated forward from its open
    installments (`opened`, from standing.open_positions), that neither settles the loan early with a
    waiver nor settles it at all (its status stays). Returns a standing.ForwardPlan whose repayment is
    not saved yet, or None where the payment is not the usual case (repayment_record records it). Raises
    repayment_record's ValidationError for a payment it would refuse. `loan` is locked by the caller,
    its lkmm and member loaded."""
    _repayment_refusal(loan=loan, amount=amount, paid_on=paid_on)
    if not standing.is_forward(loan, paid_on):
        return None
    position = _forward_position(loan=loan, opened=opened, at=paid_on)
    settle = _settle_amount(loan, position)
    if amount > settle:
        raise _beyond_payoff(settle)
    if loan.waive_interest_on_payoff and amount == settle and settle < position["payoff"]:
        return None
    repayment = Repayment(
        lkmm=lkmm,
        loan=loan,
        amount=amount,
        paid_on=paid_on,
        note="",
        recorded_by=actor,
        receipt_no=receipt_no,
        **({"token": token} if token is not None else {}),
    )
    try:
        plan = standing.plan_forward(loan=loan, repayment=repayment, opened=opened)
    except ValidationError:
        raise _beyond_payoff(settle) from None
    return plan if plan.owing else None


def repayments_save(plans):
    """Save the repayments of `plans` (repayment_plan) with their allocation rows and the loans' kept
    standing, in a number of queries that does not grow with them. Their entries and audit rows are the
    caller's to post with the rest of its transaction (repayment_entry, repayment_audit_row)."""
    Repayment.objects.bulk_create([plan.repayment for plan in plans])
    standing.write_forward(plans)


def repayment_entry(plan):
    """entries_post's spec of a planned repayment's entry (what _post_loan_entry posts for it)."""
    repayment = plan.repayment
    return {
        "kind": EntryKind.REPAYMENT,
        "loan": plan.loan,
        "date": repayment.paid_on,
        "memo": _repayment_memo(loan=plan.loan, repayment=repayment),
        "lines": _loan_entry_lines(cash=repayment.amount, changes=plan.paid),
        "source": repayment,
    }


def repayment_audit_row(plan, *, actor):
    return audit_row(**_repayment_audit(repayment=plan.repayment, actor=actor))


# What each action needs of the loan's status, and the words for a loan that has another.
def _state_rules():
    return {
        "repay": (
            LoanStatus.AKTIF,
            _("Pembayaran hanya untuk pinjaman aktif (status sekarang: %(s)s)."),
        ),
        "waive": (LoanStatus.AKTIF, _("Denda hanya dibebaskan pada pinjaman aktif.")),
        "restructure": (LoanStatus.AKTIF, _("Hanya pinjaman aktif yang dapat direstrukturisasi.")),
        "write_off": (LoanStatus.AKTIF, _("Hanya pinjaman aktif yang dapat dihapusbukukan.")),
        "recovery": (LoanStatus.DIHAPUSBUKUKAN, _("Pemulihan hanya untuk pinjaman yang dihapusbukukan.")),
    }


def state_refusal(*, loan, action):
    """Why the loan's status does not allow `action` ("repay", "waive", "restructure", "write_off",
    "recovery"), or None. The service refuses with it; the action's page shows it in place of its form."""
    status, message = _state_rules()[action]
    if loan.status == status:
        return None
    return message % {"s": loan.get_status_display()} if "%(s)s" in message else message


def reversal_refusal(*, loan, repayment):
    """Why `repayment` cannot be reversed in its loan's state, or None. The reversal page shows it in
    place of its form, and repayment_reverse refuses with it."""
    if standing.is_moved(loan):
        # Its principal has left the loan (written off against the reserve, or moved to the restructured
        # loan): the books of that move are final, so the payments before it stand.
        return _("Pinjaman ini sudah %(status)s; pembayarannya tidak dapat dibatalkan lagi.") % {
            "status": loan.get_status_display().lower()
        }
    if _settled_early(loan=loan, repayment=repayment):
        # Its interest waivers would stay behind and the interest would be lost; until a reversal can
        # take them back, the payment stands.
        return _(
            "Pembayaran ini melunasi pinjaman lebih cepat dengan membebaskan bunga yang belum jatuh "
            "tempo; pembayaran seperti ini belum dapat dibatalkan."
        )
    if repayment.reversed_on is not None:
        return _("Pembayaran ini sudah dibatalkan per %(d)s.") % {"d": _d(repayment.reversed_on)}
    return None


@transaction.atomic
def repayment_reverse(*, repayment, actor, on, reason, requested_by=None):
    """Reverse a payment from date `on`: before it the payment still counts, from it on the loan is as if
    it had never been made (later payments re-allocated). The payment and its reversal both remain."""
    repayment = Repayment.objects.select_related("loan").get(pk=repayment.pk)
    loan = Loan.objects.select_for_update().select_related("lkmm", "member").get(pk=repayment.loan_id)
    repayment = Repayment.objects.select_for_update().get(pk=repayment.pk)
    check_decider(
        actor,
        lkmm=loan.lkmm,
        what=_("pembatalan pembayaran"),
        recorded_by=[repayment.recorded_by_id],
        requested_by=requested_by,
        at_once=True,
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tulis alasan pembatalan pembayaran.")})
    refusal = reversal_refusal(loan=loan, repayment=repayment)
    if refusal:
        raise ValidationError(refusal)
    if on < repayment.paid_on:
        raise ValidationError(
            {
                "on": _("Tanggal pembatalan tidak boleh sebelum tanggal bayar (%(d)s).")
                % {"d": _d(repayment.paid_on)}
            }
        )
    if on > timezone.localdate():
        raise ValidationError({"on": _("Tanggal pembatalan tidak boleh di masa depan.")})
    last = loan.repayments.aggregate(d=Max("reversed_on"))["d"]
    if last is not None and on < last:
        raise ValidationError(
            {"on": _("Tanggal pembatalan tidak boleh sebelum pembatalan terakhir (%(d)s).") % {"d": _d(last)}}
        )
    repayment.reversed_on = on
    repayment.reversed_by = actor
    repayment.reversed_at = timezone.now()
    repayment.reversal_reason = reason
    repayment.save(update_fields=["reversed_on", "reversed_by", "reversed_at", "reversal_reason"])
    paid = standing.reallocate(loan=loan, since=on, payments_from=repayment.paid_on)
    _books_follow(
        loan=loan,
        paid=paid,
        kind=EntryKind.REVERSAL,
        date=on,
        cash=-repayment.amount,
        actor=actor,
        source=repayment,
        memo=memo_in_books_language(
            gettext_noop("Pembatalan %(receipt)s %(loan)s %(member)s"),
            receipt=repayment.receipt_code,
            loan=loan.code,
            member=loan.member.full_name,
        ),
    )
    audit_record(
        actor=actor,
        action="repayment.reverse",
        obj=repayment,
        lkmm=loan.lkmm,
        reason=reason,
        data={"on": on.isoformat()},
    )
    _settle_status(loan=loan, actor=actor, on=on)
    return repayment


@transaction.atomic
def late_fees_waive(*, loan, actor, on, reason, requested_by=None):
    """A ketua waives the late fees owed on a loan at `on`, with reason; recorded per installment."""
    loan = Loan.objects.select_for_update().select_related("lkmm").get(pk=loan.pk)
    check_decider(actor, lkmm=loan.lkmm, what=_("pembebasan denda"), requested_by=requested_by, at_once=True)
    if refusal := state_refusal(loan=loan, action="waive"):
        raise ValidationError(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tulis alasan pembebasan denda.")})
    if on > timezone.localdate():
        raise ValidationError({"on": _("Tanggal tidak boleh di masa depan.")})
    owed = {inst_id: fee for inst_id, (fee, _i, _p) in loan_position(loan=loan, at=on)["owed"].items() if fee}
    if not owed:
        raise ValidationError(_("Tidak ada denda yang terutang."))
    Waiver.objects.bulk_create(
        Waiver(loan=loan, installment_id=inst_id, on=on, late_fee=fee, reason=reason, approved_by=actor)
        for inst_id, fee in owed.items()
    )
    paid = standing.reallocate(loan=loan, since=on)
    # A waiver dated before later payments re-allocates them (money freed from late fees goes to
    # interest and principal): the books follow in an entry of its own, with no cash.
    changes = _book_changes(loan=loan, paid=paid)
    if any(changes):
        _books_follow(
            loan=loan,
            paid=paid,
            changes=changes,
            kind=EntryKind.REALLOCATION,
            date=on,
            cash=0,
            actor=actor,
            source=loan,
            memo=memo_in_books_language(gettext_noop("Pembebasan denda %(loan)s"), loan=loan.code),
        )
    month_figures_forget(lkmm=loan.lkmm, date=on)
    audit_record(
        actor=actor,
        action="loan.waive_late_fees",
        obj=loan,
        lkmm=loan.lkmm,
        reason=reason,
        data={"total": sum(owed.values())},
    )
    _settle_status(loan=loan, actor=actor, on=on)
    return sum(owed.values())


def restructure_preview(*, loan, on):
    """What restructuring on `on` would do: the principal that moves, and the unpaid interest of
    installments due by then and the late fees owed, which are waived at that moment."""
    position = loan_position(loan=loan, at=on)
    installments = {i.pk: i for i in loan.installments.all()}
    interest = {
        inst_id: owed_interest
        for inst_id, (_fee, owed_interest, _p) in position["owed"].items()
        if owed_interest and installments[inst_id].due_date <= on
    }
    fees = {inst_id: fee for inst_id, (fee, _i, _p) in position["owed"].items() if fee}
    principal = loan.principal - sum(state.principal for state in position["states"].values())
    return {"principal": principal, "interest": interest, "fees": fees}


@transaction.atomic
def loan_restructure(*, loan, actor, on, product, reason, first_due=None, requested_by=None):
    """Reschedule the outstanding principal on new terms (DOMAIN.md "Restructuring").

    Unpaid interest of installments due by `on` and late fees owed are waived (with the reason and the
    approver); a payment recorded first pays them instead. The old loan closes as direstrukturisasi and
    a new, flagged loan carries the principal; the books move the receivable from one to the other.
    """
    loan = Loan.objects.select_for_update().select_related("lkmm", "member").get(pk=loan.pk)
    check_decider(actor, lkmm=loan.lkmm, what=_("restrukturisasi"), requested_by=requested_by, at_once=True)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tulis alasan restrukturisasi.")})
    if refusal := state_refusal(loan=loan, action="restructure"):
        raise ValidationError(refusal)
    if on > timezone.localdate() or on < loan.disbursed_on:
        raise ValidationError({"on": _("Tanggal restrukturisasi antara pencairan dan hari ini.")})
    if on < loan.standing_as_of_derived:
        # Not before anything the loan already holds: what moves is the principal outstanding from then.
        raise ValidationError(
            {
                "on": _(
                    "Tanggal restrukturisasi tidak boleh sebelum transaksi terakhir pinjaman ini (%(d)s)."
                )
                % {"d": _d(loan.standing_as_of_derived)}
            }
        )
    if product.lkmm_id != loan.lkmm_id or not product.is_active:
        raise ValidationError({"product": _("Pilih produk aktif LKMM ini.")})
    preview = restructure_preview(loan=loan, on=on)
    if preview["principal"] <= 0:
        raise ValidationError(_("Pokok pinjaman ini sudah lunas; tidak ada yang direstrukturisasi."))
    waived = {}
    for inst_id in set(preview["interest"]) | set(preview["fees"]):
        waived[inst_id] = (preview["interest"].get(inst_id, 0), preview["fees"].get(inst_id, 0))
    Waiver.objects.bulk_create(
        Waiver(
            loan=loan,
            installment_id=inst_id,
            on=on,
            interest=interest,
            late_fee=fee,
            reason=reason,
            approved_by=actor,
        )
        for inst_id, (interest, fee) in waived.items()
    )
    standing.reallocate(loan=loan, since=on)
    lkmm = Lkmm.objects.select_for_update().get(pk=loan.lkmm_id)
    new = Loan(
        lkmm=lkmm,
        member=loan.member,
        product=product,
        principal=preview["principal"],
        purpose=loan.purpose,
        applied_on=on,
        disbursed_on=on,
        status=LoanStatus.AKTIF,
        restructured_from=loan,
        number=_next_number(Loan.objects.filter(lkmm=lkmm), "number"),
        created_by=actor,
        interest_method=product.interest_method,
        frequency=product.frequency,
        rate_per_month=product.rate_per_month,
        installment_count=product.installment_count,
        rounding_unit=product.rounding_unit,
        late_fee=product.late_fee,
        waive_interest_on_payoff=product.waive_interest_on_payoff,
    )
    first_due = first_due or schedule.first_due_after(on, new.frequency)
    if first_due <= on:
        raise ValidationError({"first_due": _("Jatuh tempo pertama harus sesudah tanggal restrukturisasi.")})
    try:
        lines = schedule.build_schedule(first_due=first_due, **new.schedule_terms())
    except schedule.ScheduleError as exc:
        raise ValidationError({"product": str(exc)}) from None
    new.full_clean()
    new.save()
    Installment.objects.bulk_create(
        Installment(
            loan=new, seq=line.seq, due_date=line.due_date, principal=line.principal, interest=line.interest
        )
        for line in lines
    )
    LoanStatusChange.objects.create(
        loan=new, from_status="", to_status=LoanStatus.AKTIF, on=on, by=actor, reason=reason
    )
    loan.transferred_on, loan.transferred_principal = on, preview["principal"]
    loan.save(update_fields=["transferred_on", "transferred_principal"])
    standing.standing_refresh(loan=loan)
    standing.standing_start(loan=new)
    loan_transition(loan=loan, to=LoanStatus.DIRESTRUKTURISASI, actor=actor, on=on, reason=reason)
    names = {"old": loan.code, "new": new.code, "member": loan.member.full_name}
    for owner, debit, credit in (
        (loan, AccountCode.PIUTANG_KLIRING, AccountCode.PIUTANG),
        (new, AccountCode.PIUTANG, AccountCode.PIUTANG_KLIRING),
    ):
        entry_post(
            kind=EntryKind.TRANSFER,
            loan=owner,
            lkmm=lkmm,
            date=on,
            actor=actor,
            source=new,
            memo=memo_in_books_language(
                gettext_noop("Restrukturisasi %(old)s menjadi %(new)s %(member)s"), **names
            ),
            lines=[(debit, preview["principal"], 0), (credit, 0, preview["principal"])],
        )
    audit_record(
        actor=actor,
        action="loan.restructure",
        obj=new,
        lkmm=lkmm,
        reason=reason,
        data={
            "from": loan.pk,
            "principal": preview["principal"],
            "waived": {str(k): v for k, v in waived.items()},
        },
    )
    return new
