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
