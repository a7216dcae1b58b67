import datetime
from decimal import Decimal

from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from institutions.access import staff_required
from institutions.models import Lkmm
from lkmm.db_routers import reads_replica
from reports.selectors import crossed_30_days, installments_due_between, overdue_loans, whatsapp_reminder
from risk.selectors import combine, portfolio_by_lkmm

OVERDUE_SHOWN = 100  # the home page lists the loans most days past due first
NPL_BAR = Decimal("5")  # the Dinas's bar for kredit macet (DOMAIN.md)


@staff_required
@reads_replica
def home(request):
    staff = request.user.staff
    if staff.is_dinas:
        return _overview(request)
    return _dashboard(request, staff.lkmm)


@staff_required
@reads_replica
def lkmm_dashboard(request, code):
    lkmm = get_object_or_404(Lkmm.objects.for_user(request.user), code=code)
    return _dashboard(request, lkmm)


def _overview(request):
    today = timezone.localdate()
    lkmms = list(Lkmm.objects.for_user(request.user).filter(is_active=True).select_related("quality_policy"))
    figures = portfolio_by_lkmm(lkmms=lkmms, at=today)
    rows = [(lkmm, figures[lkmm.pk]) for lkmm in lkmms]
    totals = combine(list(figures.values()))
    return render(
        request, "reports/overview.html", {"rows": rows, "totals": totals, "today": today, "npl_bar": NPL_BAR}
    )


def _alerts(figures, crossed):
    alerts = []
    if figures["npl_ratio"] is not None and figures["npl_ratio"] > NPL_BAR:
        alerts.append("npl")
    if figures["required"] and (figures["coverage"] or 0) < 100:
        alerts.append("coverage")
    if crossed:
        alerts.append("crossed")
    return alerts


def _dashboard(request, lkmm):
    today = timezone.localdate()
    figures = portfolio_by_lkmm(lkmms=[lkmm], at=today)[lkmm.pk]
    past_due = list(overdue_loans(lkmm=lkmm, at=today, limit=None))
    overdue = past_due[:OVERDUE_SHOWN]
    for loan in overdue:
        loan.whatsapp = whatsapp_reminder(loan=loan, lkmm=lkmm)
    crossed = crossed_30_days(lkmm=lkmm, at=today, past_due=past_due)
    due_week = list(
        installments_due_between(lkmm=lkmm, start=today, end=today + datetime.timedelta(days=6), at=today)
    )
    return render(
        request,
        "reports/dashboard.html",
        {
            "lkmm": lkmm,
            "figures": figures,
            "overdue": overdue,
            "crossed": crossed,
            "alerts": _alerts(figures, crossed),
            "due_today": [row for row in due_week if row.due_date == today],
            "due_week": due_week,
            "today": today,
            "npl_bar": NPL_BAR,
        },
    )
