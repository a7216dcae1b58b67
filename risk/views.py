from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.access import may_approve, recorder_required, staff_required
from institutions.forms import add_service_errors
from institutions.models import Lkmm
from loans.models import Loan, LoanStatus
from risk import services
from risk.forms import AllocateForm, RecoveryForm, WriteOffForm
from risk.selectors import portfolio


@staff_required
def reserve_home(request):
    staff = request.user.staff
    lkmm = staff.lkmm or Lkmm.objects.for_user(request.user).filter(is_active=True).first()
    if lkmm is None:
        raise PermissionDenied
    return redirect("risk:reserve", code=lkmm.code)


@staff_required
def reserve(request, code):
    """The cadangan risiko: held against required now, month by month, and the allocation form."""
    lkmm = get_object_or_404(Lkmm.objects.for_user(request.user), code=code)
    today = timezone.localdate()
    can_allocate = may_approve(request.user, lkmm=lkmm, recorded_by_id=None)
    form = AllocateForm(request.POST or None, initial={"on": today}) if can_allocate else None
    if request.method == "POST":
        if not can_allocate:
            raise PermissionDenied
        if form.is_valid():
            try:
                entry = services.reserve_allocate(lkmm=lkmm, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, _("Cadangan risiko ditambah, jurnal J-%(n)05d.") % {"n": entry.number}
                )
                return redirect("risk:reserve", code=lkmm.code)
    history = []
    for at in services.month_ends(until=today, months=12):
        figures = portfolio(lkmms=[lkmm], at=at)
        written_off = (
            Loan.objects.filter(
                lkmm=lkmm, written_off_on__year=at.year, written_off_on__month=at.month
            ).aggregate(s=Sum("written_off_principal"))["s"]
            or 0
        )
        history.append({"at": at, "written_off": written_off, **figures})
    return render(
        request,
        "risk/reserve.html",
        {"lkmm": lkmm, "now": history[-1], "history": history, "form": form, "today": today},
    )


def _loan_for(request, pk):
    return get_object_or_404(Loan.objects.for_user(request.user).select_related("lkmm", "member"), pk=pk)


@recorder_required
def write_off(request, pk):
    """The ketua sees what the write-off takes from the reserve (and any top-up) before confirming."""
    loan = _loan_for(request, pk)
    if not may_approve(request.user, lkmm=loan.lkmm, recorded_by_id=None):
        raise PermissionDenied
    today = timezone.localdate()
    form = WriteOffForm(request.POST or None, initial={"on": today})
    checked = form.is_bound and form.is_valid()
    preview = None
    if loan.status == LoanStatus.AKTIF:
        preview = services.write_off_preview(loan=loan, on=form.cleaned_data["on"] if checked else today)
    if checked and request.POST.get("confirm"):
        try:
            services.loan_write_off(loan=loan, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Pinjaman %(code)s dihapusbukukan.") % {"code": loan.code})
            return redirect("loans:detail", pk=loan.pk)
    return render(
        request, "risk/write_off.html", {"loan": loan, "form": form, "preview": preview, "checked": checked}
    )


@recorder_required
def recovery(request, pk):
    loan = _loan_for(request, pk)
    form = RecoveryForm(request.POST or None, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.recovery_record(loan=loan, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Pemulihan %(code)s dicatat.") % {"code": loan.code})
            return redirect("loans:detail", pk=loan.pk)
    recovered = loan.recoveries.aggregate(s=Sum("amount"))["s"] or 0
    return render(request, "risk/recovery.html", {"loan": loan, "form": form, "recovered": recovered})
