import datetime

from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from institutions.access import staff_required
from institutions.models import Lkmm
from loans.models import Loan
from reports.selectors import installments_due_between, portfolio_by_lkmm, ratio


@staff_required
def home(request):
    staff = request.user.staff
    if staff.is_dinas:
        return _overview(request)
    return _dashboard(request, staff.lkmm)


@staff_required
def lkmm_dashboard(request, code):
    lkmm = get_object_or_404(Lkmm.objects.for_user(request.user), code=code)
    return _dashboard(request, lkmm)


def _overview(request):
    today = timezone.localdate()
    lkmms = list(Lkmm.objects.for_user(request.user).filter(is_active=True))
    figures = portfolio_by_lkmm(lkmms=lkmms, at=today)
    rows = [(lkmm, figures[lkmm.pk]) for lkmm in lkmms]
    totals = {
        key: sum(f[key] for f in figures.values())
        for key in (
            "members",
            "loans",
            "outstanding_total",
            "overdue_total",
            "past_due_loans",
            "par1_outstanding",
            "par30_outstanding",
        )
    }
    totals["par1"] = ratio(totals["par1_outstanding"], totals["outstanding_total"])
    totals["par30"] = ratio(totals["par30_outstanding"], totals["outstanding_total"])
    return render(request, "reports/overview.html", {"rows": rows, "totals": totals, "today": today})


def _dashboard(request, lkmm):
    today = timezone.localdate()
    figures = portfolio_by_lkmm(lkmms=[lkmm], at=today)[lkmm.pk]
    overdue = (
        Loan.objects.past_due(today)
        .filter(lkmm=lkmm)
        .select_related("member")
        .order_by("oldest_overdue_on", "number")[:50]
    )
    due_week = installments_due_between(
        lkmm=lkmm, start=today, end=today + datetime.timedelta(days=6), at=today
    )
    return render(
        request,
        "reports/dashboard.html",
        {
            "lkmm": lkmm,
            "figures": figures,
            "overdue": overdue,
            "due_week": due_week,
            "today": today,
        },
    )
