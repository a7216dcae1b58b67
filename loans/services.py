"""The one place where loans and money change. Each function is one transaction that writes the
event, its ledger entry and its audit row together; the loan engine extends these, never bypasses them."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from institutions.models import Lkmm
from institutions.services import audit_record
from ledger.models import AccountCode, EntryKind
from ledger.services import entry_post
from loans import schedule
from loans.models import (
    LOAN_TRANSITIONS,
    Allocation,
    Installment,
    Loan,
    LoanProduct,
    LoanStatus,
    LoanStatusChange,
    Repayment,
)
from loans.selectors import installments_with_paid
from members.models import MemberStatus


def _rp(amount):
    return f"Rp{amount:,}".replace(",", ".")


def _memo(text, **values):
    """Journal memos are stored, so they are written in the books' language, not the user's."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(text) % values


def _next_number(queryset, field):
    return (queryset.aggregate(n=Max(field))["n"] or 0) + 1


def loan_transition(*, loan, to, actor, on, reason=""):
    """Move a loan to status `to` if that move is legal, recording who, when and why."""
    if to not in LOAN_TRANSITIONS[loan.status]:
        raise ValidationError(
            _("Status pinjaman tidak dapat diubah dari %(from)s menjadi %(to)s.")
            % {"from": loan.get_status_display(), "to": LoanStatus(to).label}
        )
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


@transaction.atomic
def loan_apply(*, member, product, principal, purpose, applied_on, actor):
    """Record a loan application for `member` on `product`'s terms (not yet disbursed)."""
    errors = {}
    if member.status != MemberStatus.AKTIF:
        errors["member"] = _("Hanya anggota aktif yang dapat meminjam.")
    if product.lkmm_id != member.lkmm_id:
        errors["product"] = _("Produk ini bukan milik LKMM anggota.")
    elif not product.is_active:
        errors["product"] = _("Produk ini sudah tidak aktif.")
    if not product.min_amount <= principal <= product.max_amount:
        errors["principal"] = _("Jumlah pinjaman untuk produk ini antara %(min)s dan %(max)s.") % {
            "min": _rp(product.min_amount),
            "max": _rp(product.max_amount),
        }
    if applied_on > timezone.localdate():
        errors["applied_on"] = _("Tanggal pengajuan tidak boleh di masa depan.")
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
        created_by=actor,
        interest_method=product.interest_method,
        frequency=product.frequency,
        rate_per_month=product.rate_per_month,
        installment_count=product.installment_count,
        rounding_unit=product.rounding_unit,
    )
    try:
        schedule.build_schedule(first_due=applied_on, **loan.schedule_terms())
    except schedule.ScheduleError as exc:
        raise ValidationError({"principal": str(exc)}) from None
    loan.full_clean()
    loan.save()
    audit_record(actor=actor, action="loan.apply", obj=loan, lkmm=lkmm, data={"principal": principal})
    return loan


@transaction.atomic
def loan_disburse(*, loan, disbursed_on, actor, first_due=None):
    """Pay the loan out: fix the schedule from the disbursement date and post Dr piutang / Cr kas."""
    loan = Loan.objects.select_for_update().get(pk=loan.pk)
    if loan.status != LoanStatus.DIAJUKAN:
        raise ValidationError(_("Pinjaman ini sudah tidak berstatus diajukan."))
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
            loan=loan,
            seq=line.seq,
            due_date=line.due_date,
            principal=line.principal,
            interest=line.interest,
        )
        for line in lines
    )
    loan.disbursed_on = disbursed_on
    loan_transition(loan=loan, to=LoanStatus.AKTIF, actor=actor, on=disbursed_on)
    entry_post(
        kind=EntryKind.DISBURSEMENT,
        loan=loan,
        lkmm=loan.lkmm,
        date=disbursed_on,
        actor=actor,
        source=loan,
        memo=_memo(
            gettext_noop("Pencairan %(loan)s %(member)s"), loan=loan.code, member=loan.member.full_name
        ),
        lines=[(AccountCode.PIUTANG, loan.principal, 0), (AccountCode.KAS, 0, loan.principal)],
    )
    return loan


@transaction.atomic
def loan_cancel(*, loan, actor, reason):
    loan = Loan.objects.select_for_update().get(pk=loan.pk)
    if not reason.strip():
        raise ValidationError({"reason": _("Tulis alasan pembatalan.")})
    loan_transition(loan=loan, to=LoanStatus.DIBATALKAN, actor=actor, on=timezone.localdate(), reason=reason)
    return loan


def _allocate(installments, amount):
    """Oldest installment first; within one, interest before principal (late fees join with the loan
    engine). Returns [(installment, interest, principal)]."""
    parts = []
    for row in installments:
        if amount <= 0:
            break
        interest = min(amount, row.interest - row.paid_interest)
        amount -= interest
        principal = min(amount, row.principal - row.paid_principal)
        amount -= principal
        if interest or principal:
            parts.append((row, interest, principal))
    return parts


@transaction.atomic
def repayment_record(*, loan, amount, paid_on, actor, token=None, note=""):
    """Record a repayment, allocate it per DOMAIN.md and post Dr kas / Cr piutang + pendapatan bunga.

    A payment beyond the payoff amount is refused with the payoff amount. A resubmitted form (same
    token) returns the payment already recorded instead of recording it twice.
    """
    loan = Loan.objects.select_for_update().get(pk=loan.pk)
    # Checked under the loan's lock, so two submissions of one form at once record one payment.
    if token is not None:
        existing = Repayment.objects.filter(token=token).first()
        if existing is not None:
            if existing.loan_id != loan.pk:
                raise ValidationError(
                    _("Formulir ini sudah dipakai untuk pinjaman lain; muat ulang halaman.")
                )
            return existing
    if loan.status != LoanStatus.AKTIF:
        raise ValidationError(
            _("Pembayaran hanya untuk pinjaman aktif (status sekarang: %(s)s).")
            % {"s": loan.get_status_display()}
        )
    if amount <= 0:
        raise ValidationError({"amount": _("Jumlah pembayaran harus lebih dari nol.")})
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("Tanggal bayar tidak boleh di masa depan.")})
    if paid_on < loan.disbursed_on:
        raise ValidationError(
            {
                "paid_on": _("Tanggal bayar tidak boleh sebelum pencairan (%(d)s).")
                % {"d": loan.disbursed_on.strftime("%d/%m/%Y")}
            }
        )
    last = Repayment.objects.filter(loan=loan, reversed_on__isnull=True).aggregate(d=Max("paid_on"))["d"]
    if last is not None and paid_on < last:
        # Back-dating before a later payment would need re-allocation, which arrives with reversals.
        raise ValidationError(
            {
                "paid_on": _("Tanggal bayar tidak boleh sebelum pembayaran terakhir (%(d)s).")
                % {"d": last.strftime("%d/%m/%Y")}
            }
        )
    # Allocation follows the schedule, not the date, so it reads every payment recorded so far.
    rows = list(installments_with_paid(loan=loan, at=datetime.date.max))
    payoff = sum(row.total - row.paid_principal - row.paid_interest for row in rows)
    if amount > payoff:
        raise ValidationError(
            {
                "amount": _("Melebihi sisa pinjaman. Untuk melunasi, bayar %(payoff)s.")
                % {"payoff": _rp(payoff)}
            }
        )
    lkmm = Lkmm.objects.select_for_update().get(pk=loan.lkmm_id)
    repayment = Repayment.objects.create(
        lkmm=lkmm,
        loan=loan,
        amount=amount,
        paid_on=paid_on,
        note=note,
        recorded_by=actor,
        receipt_no=_next_number(Repayment.objects.filter(lkmm=lkmm), "receipt_no"),
        **({"token": token} if token is not None else {}),
    )
    parts = _allocate(rows, amount)
    Allocation.objects.bulk_create(
        Allocation(repayment=repayment, installment=row, interest=interest, principal=principal)
        for row, interest, principal in parts
    )
    principal_total = sum(p for _, _, p in parts)
    interest_total = sum(i for _, i, _ in parts)
    entry_post(
        kind=EntryKind.REPAYMENT,
        loan=loan,
        lkmm=lkmm,
        date=paid_on,
        actor=actor,
        source=repayment,
        memo=_memo(
            gettext_noop("Angsuran %(loan)s %(member)s, %(receipt)s"),
            loan=loan.code,
            member=loan.member.full_name,
            receipt=repayment.receipt_code,
        ),
        lines=[
            (AccountCode.KAS, amount, 0),
            (AccountCode.PIUTANG, 0, principal_total),
            (AccountCode.PENDAPATAN_BUNGA, 0, interest_total),
        ],
    )
    audit_record(
        actor=actor,
        action="repayment.record",
        obj=repayment,
        lkmm=lkmm,
        data={
            "loan": loan.pk,
            "amount": amount,
            "principal": principal_total,
            "interest": interest_total,
        },
    )
    if amount == payoff:
        loan_transition(loan=loan, to=LoanStatus.LUNAS, actor=actor, on=paid_on)
    return repayment
