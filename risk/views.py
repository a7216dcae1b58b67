from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.access import DECIDE, decision_mode, recorder_required, staff_required
from institutions.decisions import act_or_request, announce, loan_summary
from institutions.forms import add_service_errors
from institutions.models import Lkmm, RequestKind
from institutions.templatetags.lkmm_format import format_rupiah
from ledger.models import PeriodClose
from lkmm.db_routers import reads_replica
from loans.models import Loan
from loans.services import state_refusal
from risk import services
from risk.forms import AllocateForm, CloseForm, ReasonForm, RecoveryForm, WriteOffForm
from risk.selectors import portfolio, repayment_rate, stored_summary, write_off_ratio


@staff_required
def reserve_home(request):
    staff = request.user.staff
    lkmm = staff.lkmm or Lkmm.objects.for_user(request.user).filter(is_active=True).first()
    if lkmm is None:
        raise PermissionDenied
    return redirect("risk:reserve", code=lkmm.code)


@staff_required
@reads_replica
def reserve(request, code):
    """The cadangan risiko: held against required now, month by month, and the allocation form."""
    lkmm = get_object_or_404(Lkmm.objects.for_user(request.user), code=code)
    today = timezone.localdate()
    mode = decision_mode(request.user, lkmm=lkmm)
    form = AllocateForm(request.POST or None, initial={"on": today}) if mode else None
    if request.method == "POST":
        if mode is None:
            raise PermissionDenied
        if form.is_valid():
            amount = form.cleaned_data["amount"]
            try:
                entry, waiting = act_or_request(
                    mode=mode,
                    kind=RequestKind.RESERVE,
                    lkmm=lkmm,
                    actor=request.user,
                    target=f"lkmm:{lkmm.pk}",
                    summary=format_rupiah(amount) if amount else _("sampai cadangan wajib"),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                announce(
                    request, waiting, _("Cadangan risiko ditambah, jurnal J-%(n)05d.") % {"n": entry.number}
                )
                return redirect("risk:reserve", code=lkmm.code)
    ends = services.month_ends(until=today, months=12)
    closes = {
        close.month: close
        for close in PeriodClose.objects.filter(
            lkmm=lkmm, month__gte=ends[0].replace(day=1), reopened_at__isnull=True
        )
    }
    written_off = dict(
        Loan.objects.filter(lkmm=lkmm, written_off_on__gte=ends[0].replace(day=1))
        .annotate(month=TruncMonth("written_off_on"))
        .values("month")
        .annotate(s=Sum("written_off_principal"))
        .values_list("month", "s")
    )
    history = []
    for at in ends:
        # A closed month shows what was reported when it was closed.
        close = closes.get(at.replace(day=1)) if (at + timedelta(days=1)).day == 1 else None
        figures = stored_summary(close) if close else portfolio(lkmms=[lkmm], at=at)
        history.append({"at": at, "written_off": written_off.get(at.replace(day=1), 0), **figures})
    month_start = today.replace(day=1)
    return render(
        request,
        "risk/reserve.html",
        {
            "lkmm": lkmm,
            "now": history[-1],
            "history": history,
            "form": form,
            "decides": mode == DECIDE,
            "today": today,
            "repayment": repayment_rate(lkmms=[lkmm], start=month_start, end=today),
            "write_off": write_off_ratio(lkmms=[lkmm], start=ends[0].replace(day=1), end=today),
            "month_start": month_start,
            "year_start": ends[0].replace(day=1),
        },
    )


def _loan_for(request, pk):
    return get_object_or_404(Loan.objects.for_user(request.user).select_related("lkmm", "member"), pk=pk)


@recorder_required
def write_off(request, pk):
    """The ketua sees what the write-off takes from the reserve (and any top-up) before confirming."""
    loan = _loan_for(request, pk)
    mode = decision_mode(request.user, lkmm=loan.lkmm)
    if mode is None:
        raise PermissionDenied
    today = timezone.localdate()
    form = WriteOffForm(request.POST or None, initial={"on": today})
    refusal = state_refusal(loan=loan, action="write_off")
    checked = not refusal and form.is_bound and form.is_valid()
    preview = None
    if not refusal:
        preview = services.write_off_preview(loan=loan, on=form.cleaned_data["on"] if checked else today)
    if checked and request.POST.get("confirm"):
        try:
            _done, waiting = act_or_request(
                mode=mode,
                kind=RequestKind.WRITE_OFF,
                lkmm=loan.lkmm,
                actor=request.user,
                target=f"loan:{loan.pk}",
                summary=loan_summary(loan),
                loan=loan,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            announce(request, waiting, _("Pinjaman %(code)s dihapusbukukan.") % {"code": loan.code})
            return redirect("loans:detail", pk=loan.pk)
    return render(
        request,
        "risk/write_off.html",
        {
            "loan": loan,
            "form": form,
            "preview": preview,
            "checked": checked,
            "decides": mode == DECIDE,
            "refusal": refusal,
        },
    )


@recorder_required
def recovery(request, pk):
    loan = _loan_for(request, pk)
    mode = decision_mode(request.user, lkmm=loan.lkmm)
    if mode is None:
        raise PermissionDenied
    form = RecoveryForm(request.POST or None, initial={"received_on": timezone.localdate()})
    refusal = state_refusal(loan=loan, action="recovery")
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            _done, waiting = act_or_request(
                mode=mode,
                kind=RequestKind.RECOVERY,
                lkmm=loan.lkmm,
                actor=request.user,
                target=f"loan:{loan.pk}",
                summary=f"{loan_summary(loan)} {format_rupiah(form.cleaned_data['amount'])}",
                loan=loan,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            announce(request, waiting, _("Pemulihan %(code)s dicatat.") % {"code": loan.code})
            return redirect("loans:detail", pk=loan.pk)
    recovered = loan.recoveries.aggregate(s=Sum("amount"))["s"] or 0
    return render(
        request,
        "risk/recovery.html",
        {"loan": loan, "form": form, "recovered": recovered, "decides": mode == DECIDE, "refusal": refusal},
    )


@staff_required
@reads_replica
def closes(request):
    """Tutup buku: an LKMM's closed months and the close form (ketua); for the Dinas, which LKMMs closed
    which of the last six months."""
    staff = request.user.staff
    today = timezone.localdate()
    months = [
        at.replace(day=1)
        for at in services.month_ends(until=today.replace(day=1) - timedelta(days=1), months=6)
    ]
    if staff.is_dinas:
        if request.method == "POST":
            raise PermissionDenied
        lkmms = list(Lkmm.objects.for_user(request.user).filter(is_active=True))
        closed = set(
            PeriodClose.objects.filter(
                lkmm__in=lkmms, month__in=months, reopened_at__isnull=True
            ).values_list("lkmm_id", "month")
        )
        grid = [(lkmm, [(month, (lkmm.pk, month) in closed) for month in months]) for lkmm in lkmms]
        return render(request, "risk/closes_dinas.html", {"grid": grid, "months": months})
    lkmm = staff.lkmm
    mode = decision_mode(request.user, lkmm=lkmm)
    # Offer the months that can be closed: ended, not closed already, not before the LKMM existed.
    closed = set(
        PeriodClose.objects.filter(lkmm=lkmm, month__in=months, reopened_at__isnull=True).values_list(
            "month", flat=True
        )
    )
    founded = lkmm.founded_on.replace(day=1)
    months = [month for month in months if month not in closed and month >= founded]
    form = CloseForm(request.POST or None, months=months) if mode and months else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            month = form.cleaned_data["month"]
            try:
                _done, waiting = act_or_request(
                    mode=mode,
                    kind=RequestKind.CLOSE,
                    lkmm=lkmm,
                    actor=request.user,
                    target=f"month:{month:%Y-%m}",
                    summary=month.strftime("%m/%Y"),
                    month=month,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                announce(request, waiting, _("Buku bulan %(m)s ditutup.") % {"m": month.strftime("%m/%Y")})
                return redirect("risk:closes")
    history = PeriodClose.objects.filter(lkmm=lkmm).select_related("closed_by", "reopened_by")
    return render(
        request,
        "risk/closes.html",
        {"lkmm": lkmm, "form": form, "history": history, "mode": mode, "decides": mode == DECIDE},
    )


@login_required
def reopen(request, pk):
    """Reopen a closed month with a reason: the ketua (under four eyes, a request), or an admin."""
    close = get_object_or_404(
        PeriodClose.objects.for_user(request.user).select_related("lkmm"), pk=pk, reopened_at__isnull=True
    )
    mode = DECIDE if request.user.is_superuser else decision_mode(request.user, lkmm=close.lkmm)
    if mode is None:
        raise PermissionDenied
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        month = close.month.strftime("%m/%Y")
        try:
            _done, waiting = act_or_request(
                mode=mode,
                kind=RequestKind.REOPEN,
                lkmm=close.lkmm,
                actor=request.user,
                target=f"month:{close.month:%Y-%m}",
                summary=month,
                close=close,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            announce(request, waiting, _("Bulan %(m)s dibuka kembali.") % {"m": month})
            if request.user.is_superuser and getattr(request.user, "staff", None) is None:
                return redirect("admin:ledger_periodclose_changelist")
            return redirect("risk:closes")
    return render(request, "risk/reopen.html", {"close": close, "form": form, "decides": mode == DECIDE})
