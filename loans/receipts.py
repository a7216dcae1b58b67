"""Receipts people can keep and share: which copy a view is (the original once, then SALINAN), the
paper format, and the text sent on WhatsApp to a member who agreed to it."""

from urllib.parse import quote

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from institutions.templatetags.lkmm_format import format_rupiah, terbilang

FORMATS = ("a4", "58")
ORIGINAL_KEY = "receipt_original"  # the receipt just recorded in this session: its one original view
FORMAT_KEY = "receipt_format"  # the paper a user last chose: the original opens in it


def _receipt_key(receipt):
    # Repayments and savings movements share the kuitansi sequence but not their ids.
    return f"{receipt._meta.label_lower}:{receipt.pk}"


def mark_original(session, receipt):
    """Called when a repayment or savings movement is recorded: the next view of its receipt in this
    session is the original."""
    session[ORIGINAL_KEY] = _receipt_key(receipt)


def take_original(session, receipt):
    """True once, for the first view after recording; every later view (or another session's) is a copy."""
    if session.get(ORIGINAL_KEY) == _receipt_key(receipt):
        del session[ORIGINAL_KEY]
        return True
    return False


def whatsapp_url(phone, text):
    """A wa.me link to `phone` ("+62..." as members.phone stores it) with `text` filled in."""
    digits = (phone or "").lstrip("+")
    return f"https://wa.me/{digits}?text={quote(text)}" if digits else None


def _d(date):
    return date.strftime("%d/%m/%Y")


def receipt_text(*, repayment, outstanding_after, next_due):
    """The receipt as a short message: number, date, amount (in figures and words), the balance left and
    the next installment. The member reads it, so it is in Bahasa Indonesia whatever the manager uses."""
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            _("Kuitansi %(number)s - %(lkmm)s")
            % {"number": repayment.receipt_code, "lkmm": repayment.lkmm.name},
            _("Tanggal: %(date)s") % {"date": _d(repayment.paid_on)},
            _("Diterima dari: %(name)s, pinjaman %(loan)s")
            % {"name": repayment.loan.member.full_name, "loan": repayment.loan.code},
            *(
                [_("Dibayar oleh: %(name)s (tanggung renteng)") % {"name": repayment.paid_by.full_name}]
                if repayment.paid_by_id
                else []
            ),
            _("Jumlah: %(amount)s") % {"amount": format_rupiah(repayment.amount)},
            _("Terbilang: %(words)s") % {"words": terbilang(repayment.amount)},
            _("Sisa pokok: %(amount)s") % {"amount": format_rupiah(outstanding_after)},
        ]
        if next_due is not None:
            lines.append(
                _("Angsuran berikutnya: %(amount)s, jatuh tempo %(date)s")
                % {"amount": format_rupiah(next_due["amount"]), "date": _d(next_due["due_date"])}
            )
        elif outstanding_after == 0:
            lines.append(_("Pinjaman lunas. Terima kasih."))
        lines.append(_("Terima kasih."))
    return "\n".join(lines)


def collection_text(*, lkmm, group, receipts, total):
    """The summary of a group meeting's payments and deposits, for the group leader: each kuitansi (a
    member's installments and savings under one number) and the total."""
    with translation.override(settings.LANGUAGE_CODE):
        lines = [_("Pembayaran kelompok %(group)s - %(lkmm)s") % {"group": group.name, "lkmm": lkmm.name}]
        if receipts:
            lines.append(_("Tanggal: %(date)s") % {"date": _d(receipts[0].on)})
        for receipt in receipts:
            parts = []
            if receipt.installments:
                parts.append(_("angsuran %(amount)s") % {"amount": format_rupiah(receipt.installments)})
            if receipt.wajib:
                parts.append(_("wajib %(amount)s") % {"amount": format_rupiah(receipt.wajib)})
            if receipt.sukarela:
                parts.append(_("sukarela %(amount)s") % {"amount": format_rupiah(receipt.sukarela)})
            lines.append(
                f"{receipt.receipt_code} {receipt.member.full_name}: {format_rupiah(receipt.amount)}"
                + (f" ({', '.join(parts)})" if len(parts) > 1 else "")
            )
        lines.append(
            _("Jumlah %(n)d kuitansi: %(amount)s (%(words)s)")
            % {"n": len(receipts), "amount": format_rupiah(total), "words": terbilang(total)}
        )
        lines.append(_("Terima kasih."))
    return "\n".join(lines)


def repayment_details(repayment):
    """What a repayment's receipt shows beside the amount: the allocation as it stood on the payment's
    own date (a later reversal re-allocates from then on), the outstanding principal after it and the
    next installment still open as the loan stands now (none once the payment is reversed)."""
    from loans.models import Allocation
    from risk.figures import loan_figures

    allocations = list(
        Allocation.objects.counting_at(repayment.paid_on)
        .filter(repayment=repayment)
        .select_related("installment")
        .order_by("installment__seq")
    )
    # The loan's outstanding principal at the payment's date (none left: it is out of the portfolio).
    after = loan_figures(repayment.paid_on, loans=[repayment.loan_id]).get(repayment.loan_id)
    outstanding_after = after.outstanding if after else 0
    # The next installment still open as the loan stands now (kept state: one indexed query).
    upcoming = (
        repayment.loan.installments.filter(open_derived=True)
        .order_by("seq")
        .values("due_date", "principal", "interest", "principal_paid_derived", "interest_paid_derived")
        .first()
    )
    next_due = None
    if upcoming is not None and repayment.reversed_on is None:
        owed = upcoming["principal"] + upcoming["interest"]
        paid = upcoming["principal_paid_derived"] + upcoming["interest_paid_derived"]
        next_due = {"due_date": upcoming["due_date"], "amount": owed - paid}
    return allocations, outstanding_after, next_due


def shared_receipt(*, lkmm_id, receipt_no):
    """The kuitansi `receipt_no` when it carries more than one line (a member's installments and deposits
    of one collection sheet save), as a dict for loans/receipt_combined*.html; None when one row holds the
    number (its own receipt page shows it). Reversing one line marks that line; the others stand."""
    from loans.models import Repayment
    from savings.models import SavingsKind, SavingsMovement
    from savings.selectors import balance_at

    repayments = list(
        Repayment.objects.filter(lkmm_id=lkmm_id, receipt_no=receipt_no)
        .select_related("loan__member", "lkmm", "recorded_by", "paid_by", "reversed_by")
        .order_by("loan__number", "pk")
    )
    movements = list(
        SavingsMovement.objects.filter(lkmm_id=lkmm_id, receipt_no=receipt_no).select_related(
            "account__member", "lkmm", "recorded_by", "reversed_by"
        )
    )
    if len(repayments) + len(movements) < 2:
        return None
    order = {kind: i for i, kind in enumerate(SavingsKind)}
    movements.sort(key=lambda m: (order[m.account.kind], m.pk))
    loans = []
    for repayment in repayments:
        allocations, outstanding_after, next_due = repayment_details(repayment)
        loans.append(
            {
                "repayment": repayment,
                "allocations": allocations,
                "outstanding_after": outstanding_after,
                "next_due": next_due,
            }
        )
    savings = [{"movement": m, "balance_after": balance_at(account=m.account, movement=m)} for m in movements]
    first = repayments[0] if repayments else movements[0]
    member = first.loan.member if repayments else first.account.member
    return {
        "receipt_code": first.receipt_code,
        "lkmm": first.lkmm,
        "on": first.paid_on if repayments else first.on,
        "member": member,
        "recorded_by": first.recorded_by,
        "loans": loans,
        "savings": savings,
        "late_fee": any(r.loan.late_fee for r in repayments),
        "total": sum(r.amount for r in repayments) + sum(m.amount for m in movements),
        "reversed": any(r.reversed_on for r in repayments) or any(m.reversed_on for m in movements),
    }


def shared_receipt_text(receipt):
    """A shared kuitansi as one WhatsApp message: each installment and deposit, the total in figures and
    words; in Bahasa Indonesia for the member."""
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            _("Kuitansi %(number)s - %(lkmm)s")
            % {"number": receipt["receipt_code"], "lkmm": receipt["lkmm"].name},
            _("Tanggal: %(date)s") % {"date": _d(receipt["on"])},
            _("Diterima dari: %(name)s") % {"name": receipt["member"].full_name},
        ]
        for part in receipt["loans"]:
            repayment = part["repayment"]
            lines.append(
                _("Angsuran pinjaman %(loan)s: %(amount)s, sisa pokok %(left)s")
                % {
                    "loan": repayment.loan.code,
                    "amount": format_rupiah(repayment.amount),
                    "left": format_rupiah(part["outstanding_after"]),
                }
            )
        for part in receipt["savings"]:
            movement = part["movement"]
            lines.append(
                _("Setoran %(kind)s: %(amount)s, saldo %(balance)s")
                % {
                    "kind": movement.account.get_kind_display().lower(),
                    "amount": format_rupiah(movement.amount),
                    "balance": format_rupiah(part["balance_after"]),
                }
            )
        lines += [
            _("Jumlah: %(amount)s") % {"amount": format_rupiah(receipt["total"])},
            _("Terbilang: %(words)s") % {"words": terbilang(receipt["total"])},
            _("Terima kasih."),
        ]
    return "\n".join(lines)
