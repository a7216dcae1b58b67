"""Writes on the risk reserve (cadangan risiko): allocations, write-offs against it, recoveries.

Each is one transaction with its journal entries and audit row, like every money service.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from institutions.access import check_decider
from institutions.models import Lkmm
from institutions.services import audit_record
from institutions.templatetags.lkmm_format import format_rupiah
from ledger.models import AccountCode, EntryKind, MonthFigures, PeriodClose
from ledger.services import entry_post, memo_in_books_language
from loans import standing
from loans.models import Loan, LoanStatus
from loans.services import loan_transition, state_refusal
from risk import figures as figures_sql
from risk.models import ClosedLoanFigure, Recovery
from risk.selectors import month_figures_keep, portfolio, reserve_held


def _check_date(on):
    if on > timezone.localdate():
        raise ValidationError({"on": _("Tanggal tidak boleh di masa depan.")})


def _provision(*, lkmm, actor, on, amount, memo):
    return entry_post(
        kind=EntryKind.PROVISION,
        lkmm=lkmm,
        date=on,
        actor=actor,
        memo=memo,
        lines=[(AccountCode.BEBAN_PENYISIHAN, amount, 0), (AccountCode.CADANGAN, 0, amount)],
    )


@transaction.atomic
def reserve_allocate(*, lkmm, actor, on, amount=None, note="", requested_by=None):
    """Set money aside in the reserve: a chosen amount, or (amount None) the top-up to the required
    reserve (PPAP) at `on`, as the month-end allocation. Confirmed by the ketua."""
    check_decider(
        actor, lkmm=lkmm, what=_("alokasi cadangan risiko"), requested_by=requested_by, at_once=True
    )
    _check_date(on)
    if amount is None:
        figures = portfolio(lkmms=[lkmm], at=on)
        amount = figures["required"] - figures["held"]
        if amount <= 0:
            raise ValidationError(_("Cadangan risiko sudah menutup cadangan wajib; tidak perlu ditambah."))
    if amount <= 0:
        raise ValidationError({"amount": _("Jumlah harus lebih dari nol.")})
    entry = _provision(
        lkmm=lkmm,
        actor=actor,
        on=on,
        amount=amount,
        memo=memo_in_books_language(gettext_noop("Alokasi cadangan risiko %(note)s"), note=note).strip(),
    )
    audit_record(actor=actor, action="reserve.allocate", obj=entry, lkmm=lkmm, data={"amount": amount})
    return entry


def write_off_preview(*, loan, on):
    """What a write-off on `on` takes from the reserve, and the shortfall topped up first."""
    outstanding = Loan.objects.with_standing(on).get(pk=loan.pk).outstanding
    held = reserve_held(lkmms=[loan.lkmm], at=on)
    return {"outstanding": outstanding, "held": held, "shortfall": max(0, outstanding - held)}


@transaction.atomic
def loan_write_off(*, loan, actor, on, reason, requested_by=None):
    """Write the loan's outstanding principal off against the reserve; the loan becomes dihapusbukukan
    and leaves the outstanding portfolio. A reserve too small is first topped up by the shortfall."""
    loan = Loan.objects.select_for_update().select_related("lkmm", "member").get(pk=loan.pk)
    check_decider(actor, lkmm=loan.lkmm, what=_("hapus buku"), requested_by=requested_by, at_once=True)
    _check_date(on)
    if refusal := state_refusal(loan=loan, action="write_off"):
        raise ValidationError(refusal)
    # Not before anything the loan already holds (its payments, their reversals, its waivers): what is
    # written off is the principal outstanding from that date on.
    if on < loan.standing_as_of_derived:
        raise ValidationError(
            {
                "on": _("Tanggal hapus buku tidak boleh sebelum transaksi terakhir pinjaman ini (%(d)s).")
                % {"d": loan.standing_as_of_derived.strftime("%d/%m/%Y")}
            }
        )
    preview = write_off_preview(loan=loan, on=on)
    names = {"loan": loan.code, "member": loan.member.full_name}
    if preview["shortfall"]:
        _provision(
            lkmm=loan.lkmm,
            actor=actor,
            on=on,
            amount=preview["shortfall"],
            memo=memo_in_books_language(
                gettext_noop("Tambahan cadangan untuk hapus buku %(loan)s %(member)s"), **names
            ),
        )
    entry_post(
        kind=EntryKind.WRITE_OFF,
        loan=loan,
        lkmm=loan.lkmm,
        date=on,
        actor=actor,
        source=loan,
        memo=memo_in_books_language(gettext_noop("Hapus buku %(loan)s %(member)s"), **names),
        lines=[
            (AccountCode.CADANGAN, preview["outstanding"], 0),
            (AccountCode.PIUTANG, 0, preview["outstanding"]),
        ],
    )
    loan.written_off_on, loan.written_off_principal = on, preview["outstanding"]
    loan.save(update_fields=["written_off_on", "written_off_principal"])
    standing.standing_refresh(loan=loan)
    loan_transition(loan=loan, to=LoanStatus.DIHAPUSBUKUKAN, actor=actor, on=on, reason=reason)
    return loan


@transaction.atomic
def recovery_record(*, loan, actor, amount, received_on, note="", requested_by=None):
    """Money collected on a written-off loan, credited back to the reserve."""
    loan = Loan.objects.select_for_update().select_related("lkmm", "member").get(pk=loan.pk)
    check_decider(actor, lkmm=loan.lkmm, what=_("pemulihan"), requested_by=requested_by, at_once=True)
    if refusal := state_refusal(loan=loan, action="recovery"):
        raise ValidationError(refusal)
    _check_date(received_on)
    if received_on < loan.written_off_on:
        raise ValidationError({"received_on": _("Tanggal tidak boleh sebelum hapus buku.")})
    recovered = sum(loan.recoveries.values_list("amount", flat=True))
    left = loan.written_off_principal - recovered
    if not 0 < amount <= left:
        raise ValidationError(
            {
                "amount": _("Jumlah antara Rp 1 dan sisa yang dihapusbukukan, %(left)s.")
                % {"left": format_rupiah(left)}
            }
        )
    recovery = Recovery.objects.create(
        loan=loan, amount=amount, received_on=received_on, note=note, recorded_by=actor
    )
    entry_post(
        kind=EntryKind.RECOVERY,
        loan=loan,
        lkmm=loan.lkmm,
        date=received_on,
        actor=actor,
        source=recovery,
        memo=memo_in_books_language(
            gettext_noop("Pemulihan %(loan)s %(member)s"), loan=loan.code, member=loan.member.full_name
        ),
        lines=[(AccountCode.KAS, amount, 0), (AccountCode.CADANGAN, 0, amount)],
    )
    audit_record(actor=actor, action="loan.recovery", obj=recovery, lkmm=loan.lkmm, data={"amount": amount})
    return recovery


def month_ends(*, until, months=12):
    """The last `months` month-ends up to `until` (the latest being `until` itself if mid-month)."""
    ends, current = [], until
    for _i in range(months):
        ends.append(current)
        current = current.replace(day=1) - datetime.timedelta(days=1)
    return list(reversed(ends))


def month_end(month):
    """The last day of the month starting at `month`."""
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)


def _json_safe(figures):
    return {key: (str(value) if isinstance(value, Decimal) else value) for key, value in figures.items()}


@transaction.atomic
def month_close(*, lkmm, actor, month, requested_by=None):
    """Close a month (tutup buku): store its loan-level and summary figures at the month's end; from now
    on entries dated into it are refused (ledger.services.refuse_if_closed). The ketua closes."""
    check_decider(actor, lkmm=lkmm, what=_("tutup buku"), requested_by=requested_by, at_once=True)
    month = month.replace(day=1)
    last = month_end(month)
    if last >= timezone.localdate():
        raise ValidationError({"month": _("Bulan hanya dapat ditutup sesudah berakhir.")})
    Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    if PeriodClose.objects.filter(lkmm=lkmm, month=month, reopened_at__isnull=True).exists():
        raise ValidationError({"month": _("Bulan %(m)s sudah ditutup.") % {"m": month.strftime("%m/%Y")}})
    # One statement gives every loan's figures; the summary is their sums.
    loans = figures_sql.loan_figures(last, lkmms=[lkmm])
    figures = portfolio(lkmms=[lkmm], at=last, loan_figures=loans)
    close = PeriodClose.objects.create(lkmm=lkmm, month=month, closed_by=actor, summary=_json_safe(figures))
    # The month's stored row holds what the close reported, for every page that reads stored months.
    month_figures_keep(lkmm_id=lkmm.pk, month=month, figures=figures)
    ClosedLoanFigure.objects.bulk_create(
        ClosedLoanFigure(
            period_close=close,
            loan_id=loan.loan_id,
            outstanding=loan.outstanding,
            overdue=loan.overdue_amount,
            late_fees=loan.overdue_fees,
            days_past_due=loan.days_past_due,
            quality_class_id=loan.quality_class_id,
            reserve_rate=loan.reserve_rate,
            required_reserve=loan.required,
        )
        for loan in loans.values()
    )
    audit_record(actor=actor, action="month.close", obj=close, lkmm=lkmm, data={"month": month.isoformat()})
    return close


@transaction.atomic
def month_reopen(*, close, actor, reason, requested_by=None):
    """Reopen a closed month, with a reason; the stored figures stay as history. The ketua decides (a
    request under four eyes); an admin may also reopen, from Django admin."""
    if not getattr(actor, "is_superuser", False):
        check_decider(
            actor, lkmm=close.lkmm, what=_("pembukaan kembali bulan"), requested_by=requested_by, at_once=True
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tulis alasan membuka kembali.")})
    close = PeriodClose.objects.select_for_update().get(pk=close.pk)
    if close.reopened_at is not None:
        raise ValidationError(_("Bulan ini sudah dibuka kembali."))
    from shu.models import ShuYear

    if ShuYear.objects.filter(lkmm_id=close.lkmm_id, year__gte=close.month.year).exists():
        raise ValidationError(
            _("Tahun %(y)s sudah ditutup (tutup tahun): bulannya tidak dapat dibuka kembali.")
            % {"y": close.month.year}
        )
    close.reopened_at, close.reopened_by, close.reopen_reason = timezone.now(), actor, reason
    close.save(update_fields=["reopened_at", "reopened_by", "reopen_reason"])
    # Open again, the month's figures are provisional: computed again when next read.
    MonthFigures.objects.filter(lkmm_id=close.lkmm_id, month=close.month).delete()
    audit_record(actor=actor, action="month.reopen", obj=close, lkmm=close.lkmm, reason=reason)
    return close


@transaction.atomic
def copy_policy(policy):
    """An editable copy of a quality policy and its classes (built-in policies stay as DOMAIN.md says)."""
    from risk.models import QualityClass, QualityPolicy

    number = 1
    while QualityPolicy.objects.filter(code=f"{policy.code}-salinan-{number}").exists():
        number += 1
    copy = QualityPolicy.objects.create(
        code=f"{policy.code}-salinan-{number}",
        name=f"{policy.name} (salinan {number})",
        description=policy.description,
    )
    QualityClass.objects.bulk_create(
        QualityClass(
            policy=copy,
            position=c.position,
            code=c.code,
            name=c.name,
            max_dpd_daily=c.max_dpd_daily,
            max_dpd_weekly=c.max_dpd_weekly,
            max_dpd_monthly=c.max_dpd_monthly,
            reserve_rate=c.reserve_rate,
            non_performing=c.non_performing,
            ksp_weight=c.ksp_weight,
        )
        for c in policy.classes.all()
    )
    return copy
