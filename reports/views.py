import datetime
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.access import staff_required
from institutions.inbox import HOME_SHOWN, inbox
from institutions.models import Lkmm
from lkmm.db_routers import reads_replica
from reports.forms import MonthForm, last_complete_month
from reports.selectors import crossed_30_days, installments_due_between, overdue_loans, whatsapp_reminder
from risk.selectors import active_members, combine, month_end, month_figures, portfolio_by_lkmm

OVERDUE_SHOWN = 100  # the home page lists the loans most days past due first
NPL_BAR = Decimal("5")  # the Dinas's bar for kredit macet (DOMAIN.md)


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


# Health flags of an LKMM on the Dinas overview (DOMAIN.md: the Dinas's bar for kredit macet is 5%).
PAR30_BAR = Decimal("10")
COVERAGE_BAR = Decimal("100")
OVERVIEW_PER_PAGE = 50
BERMASALAH, PERHATIAN, SEHAT = "bermasalah", "perhatian", "sehat"
FLAG_ORDER = {BERMASALAH: 0, PERHATIAN: 1, SEHAT: 2}
SORTS = {
    "status": lambda row: (FLAG_ORDER[row["flag"]], row["lkmm"].kecamatan, row["lkmm"].name),
    "nama": lambda row: (row["lkmm"].name,),
    "sisa": lambda row: (-row["figures"]["outstanding"], row["lkmm"].name),
    "npl": lambda row: (-(row["figures"]["npl_ratio"] or 0), row["lkmm"].name),
    "par30": lambda row: (-(row["figures"]["par30_ratio"] or 0), row["lkmm"].name),
}


def health_flag(figures):
    """bermasalah: NPL above the bar or the reserve short of what is required; perhatian: PAR30 above
    its bar; otherwise sehat."""
    if (figures["npl_ratio"] or 0) > NPL_BAR or (
        figures["required"] and (figures["coverage"] or 0) < COVERAGE_BAR
    ):
        return BERMASALAH
    if (figures["par30_ratio"] or 0) > PAR30_BAR:
        return PERHATIAN
    return SEHAT


def _overview(request):
    """Every LKMM of the Dinas at the end of a month (the last one that ended unless another is chosen),
    from the stored month-end figures: flagged ones first (or sorted as asked), 50 a page, with each
    kecamatan's subtotal and the city total over all of them, whatever the page. Beside each LKMM on
    the page, its figures today."""
    today = timezone.localdate()
    form = MonthForm(request.GET or None, initial={"bulan": f"{last_complete_month(today):%Y-%m}"})
    month = form.cleaned_data["bulan"] if form.is_valid() else last_complete_month(today)
    lkmms = list(
        Lkmm.objects.for_user(request.user)
        .filter(is_active=True)
        .only("code", "name", "desa", "kecamatan", "quality_policy_id")
    )
    stored = month_figures(lkmms=lkmms, month=month)
    members = active_members(lkmms=lkmms)
    rows = []
    for lkmm in lkmms:
        figures = {**stored[lkmm.pk], "members": members.get(lkmm.pk, 0)}
        rows.append({"lkmm": lkmm, "figures": figures, "flag": health_flag(figures)})
    by_kecamatan = {}
    for row in rows:
        by_kecamatan.setdefault(row["lkmm"].kecamatan, []).append(row["figures"])
    kecamatan = [(name, len(group), combine(group)) for name, group in sorted(by_kecamatan.items())]
    totals = combine([row["figures"] for row in rows])
    counts = {flag: sum(1 for row in rows if row["flag"] == flag) for flag in FLAG_ORDER}
    provisional = sum(1 for row in rows if row["figures"]["provisional"])
    shown = request.GET.get("status")
    if shown in FLAG_ORDER:
        rows = [row for row in rows if row["flag"] == shown]
    sort = request.GET.get("urut") if request.GET.get("urut") in SORTS else "status"
    rows.sort(key=SORTS[sort])
    page = Paginator(rows, OVERVIEW_PER_PAGE).get_page(request.GET.get("page"))
    now = portfolio_by_lkmm(lkmms=[row["lkmm"] for row in page.object_list], at=today)
    for row in page.object_list:
        row["today"] = now[row["lkmm"].pk]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/overview.html",
        {
            "form": form,
            "month": month,
            "month_end": month_end(month),
            "bulan": f"{month:%Y-%m}",
            "page": page,
            "rows": page.object_list,
            "totals": totals,
            "kecamatan": kecamatan,
            "counts": counts,
            "provisional": provisional,
            "shown": shown if shown in FLAG_ORDER else "",
            "sort": sort,
            "sort_choices": [
                ("status", _("kesehatan")),
                ("nama", _("nama")),
                ("sisa", _("sisa pokok")),
                ("npl", "NPL"),
                ("par30", "PAR30"),
            ],
            "query": query.urlencode(),
            "today": today,
            "npl_bar": NPL_BAR,
            "par30_bar": PAR30_BAR,
        },
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
            "inbox": inbox(lkmm=lkmm, limit=HOME_SHOWN),
        },
    )


@staff_required
def menu(request):
    """The full menu as a page of its own, so that a phone's bottom bar can stay short without JavaScript."""
    return render(request, "reports/menu.html")
