import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from audit.services import download_recorded
from institutions.access import staff_required
from institutions.inbox import HOME_SHOWN, inbox
from institutions.models import Dinas, Lkmm
from ledger.selectors import cash_over_limit
from lkmm.db_routers import reads_replica
from reports import dinas_exports, dinas_home, exports
from reports.forms import MonthForm, last_complete_month
from reports.selectors import crossed_30_days, installments_due_between, overdue_loans, whatsapp_reminder
from risk.selectors import month_end, npl_by_lkmm, portfolio_by_lkmm

OVERDUE_SHOWN = 100  # the home page lists the loans most days past due first


@login_required
@reads_replica
def home(request):
    staff = getattr(request.user, "staff", None)
    if staff is None:
        # Admins have no LKMM or Dinas role: their work is in Django admin.
        if request.user.is_staff:
            return render(request, "reports/admin_home.html")
        raise PermissionDenied
    if staff.is_dinas:
        return _overview(request)
    return _dashboard(request, staff.lkmm)


@staff_required
@reads_replica
def lkmm_dashboard(request, code):
    lkmm = get_object_or_404(Lkmm.objects.for_user(request.user), code=code)
    return _dashboard(request, lkmm)


OVERVIEW_PER_PAGE = 50
STATUS_FILTERS = tuple(dinas_home.STATUS_WHERE)


def _overview(request):
    """Every LKMM of the reviewer's Dinas for a month (the last one that ended unless another is chosen):
    the stored month-end figures and the month's activity, a health flag by the Dinas's thresholds,
    flagged ones first (or sorted as asked), 50 a page, with each kecamatan's subtotal and the city
    total over all of them, whatever the page (reports.dinas_home.MonthTable: the database filters,
    sorts, pages and sums); beside each LKMM on the page, its figures today. ?format=csv|xlsx downloads
    every row with the totals. A fixed number of queries."""
    today = timezone.localdate()
    dinas = Dinas.objects.get(pk=request.user.staff.dinas_id)
    form = MonthForm(request.GET or None, initial={"bulan": f"{last_complete_month(today):%Y-%m}"})
    month = form.cleaned_data["bulan"] if form.is_valid() else last_complete_month(today)
    fmt = request.GET.get("format", "html")
    if fmt not in ("html", *exports.FORMATS):
        raise Http404
    lkmms = Lkmm.objects.for_user(request.user).filter(is_active=True)
    table = dinas_home.MonthTable(lkmms=lkmms, month=month, dinas=dinas, today=today)
    shown = request.GET.get("status")
    shown = shown if shown in STATUS_FILTERS else ""
    sort = request.GET.get("urut") if request.GET.get("urut") in dinas_home.SORTS else "status"
    if fmt != "html":
        download_recorded(request, what="kesehatan-lkmm", obj=dinas, fmt=fmt)
        return dinas_exports.download(
            fmt,
            dinas=dinas,
            month=month,
            rows=table.rows(status=shown, sort=sort),
            kecamatan=table.kecamatan,
            totals=table.totals,
            filtered=bool(shown),
        )
    page = Paginator(dinas_home.PagedRows(table, status=shown, sort=sort), OVERVIEW_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = page.object_list
    # Every LKMM whose kas at the end of yesterday exceeded the Dinas's cash limit, longest first.
    cash_over = sorted(
        cash_over_limit(
            lkmm_ids=lkmms.values("pk"), limit=dinas.cash_limit, until=today - datetime.timedelta(days=1)
        ).values(),
        key=lambda item: (-item.days, -item.excess),
    )
    if cash_over:
        names = Lkmm.objects.only("code", "name").in_bulk([item.lkmm_id for item in cash_over])
        for item in cash_over:
            item.lkmm = names[item.lkmm_id]
    now = npl_by_lkmm(lkmms=[row["lkmm"] for row in rows], at=today)
    labels = dinas_home.reason_labels()
    for row in rows:
        row["today"] = now[row["lkmm"].pk]
        row["reasons_text"] = "; ".join(labels[reason] for reason in row["reasons"])
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "reports/overview.html",
        {
            "dinas": dinas,
            "form": form,
            "month": month,
            "month_end": month_end(month),
            "close_deadline": dinas_home.close_deadline(month),
            "bulan": f"{month:%Y-%m}",
            "page": page,
            "rows": rows,
            "totals": table.totals,
            "kecamatan": table.kecamatan,
            "counts": table.counts,
            "flagged": table.flagged,
            "cash_over": cash_over,
            "provisional": table.provisional,
            "shown": shown,
            "sort": sort,
            "query": query.urlencode(),
            "today": today,
            "npl_bar": dinas.npl_threshold_pct,
            "par30_bar": dinas.par30_threshold_pct,
            "coverage_bar": dinas.coverage_threshold_pct,
            "quiet_days": dinas_home.QUIET_DAYS,
        },
    )


def _alerts(figures, crossed, dinas):
    """The LKMM home's warnings, by its Dinas's thresholds."""
    alerts = []
    if figures["npl_ratio"] is not None and figures["npl_ratio"] > dinas.npl_threshold_pct:
        alerts.append("npl")
    if figures["required"] and (figures["coverage"] or 0) < dinas.coverage_threshold_pct:
        alerts.append("coverage")
    if crossed:
        alerts.append("crossed")
    return alerts


def _dashboard(request, lkmm):
    today = timezone.localdate()
    dinas = Dinas.objects.only("npl_threshold_pct", "coverage_threshold_pct", "cash_limit").get(
        pk=lkmm.dinas_id
    )
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
            "alerts": _alerts(figures, crossed, dinas),
            "due_today": [row for row in due_week if row.due_date == today],
            "due_week": due_week,
            "today": today,
            "npl_bar": dinas.npl_threshold_pct,
            "inbox": inbox(lkmm=lkmm, limit=HOME_SHOWN),
            # Kas at the end of yesterday over the Dinas's limit: a deposit to the bank is due.
            "cash_over": cash_over_limit(
                lkmm_ids=[lkmm.pk], limit=dinas.cash_limit, until=today - datetime.timedelta(days=1)
            ).get(lkmm.pk),
            "cash_limit": dinas.cash_limit,
        },
    )


@staff_required
def menu(request):
    """The full menu as a page of its own, so that a phone's bottom bar can stay short without JavaScript."""
    return render(request, "reports/menu.html")
