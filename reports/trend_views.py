"""Trends (tren): twelve months of the portfolio as charts and as a table, printable on A4 and downloadable
as CSV or XLSX (?format=csv|xlsx), for the city (every LKMM the user sees), one kecamatan, or one LKMM.
LKMM staff read their own LKMM's trend; the Dinas reads the city's, each kecamatan's and each LKMM's."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from institutions.access import staff_required
from institutions.models import Lkmm
from institutions.templatetags.lkmm_format import percent
from lkmm.db_routers import reads_replica
from reports import exports
from reports.forms import MonthForm, last_complete_month
from reports.trends import chart, trend


def thresholds(dinas):
    """The bars drawn on the charts: the Dinas's own health thresholds (NPL, PAR30, reserve coverage)."""
    return {
        "npl": dinas.npl_threshold_pct,
        "par30": dinas.par30_threshold_pct,
        "coverage": dinas.coverage_threshold_pct,
    }


def _dinas_of(request):
    """The Dinas whose thresholds a user's charts draw: a reviewer's own, or the LKMM's Dinas."""
    from institutions.models import Dinas

    staff = request.user.staff
    return Dinas.objects.get(pk=staff.dinas_id if staff.is_dinas else staff.lkmm.dinas_id)


def short_rupiah(value):
    """An axis label: rupiah in ribu (rb), juta (jt) or miliar (M), one decimal at most (1,5 jt)."""
    value = Decimal(value or 0)
    for size, unit in ((10**9, _("M")), (10**6, _("jt")), (10**3, _("rb"))):
        if abs(value) >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".").replace(".", ",")
            return f"{text} {unit}"
    return str(int(value))


def short_percent(value):
    return percent(value, 1)


def _charts(rows, dinas):
    bars = thresholds(dinas)
    return [
        chart(title=_("Sisa pokok pinjaman"), rows=rows, key="outstanding", kind="bars", label=short_rupiah),
        chart(title=_("Pencairan dalam bulan"), rows=rows, key="disbursed", kind="bars", label=short_rupiah),
        chart(
            title=_("Angsuran diterima dalam bulan"),
            rows=rows,
            key="collected",
            kind="bars",
            label=short_rupiah,
        ),
        chart(
            title=_("NPL (%)"),
            rows=rows,
            key="npl_ratio",
            kind="line",
            label=short_percent,
            threshold=bars["npl"],
            threshold_label=_("batas %(bar)s") % {"bar": percent(bars["npl"])},
        ),
        chart(
            title=_("PAR30 (%)"),
            rows=rows,
            key="par30_ratio",
            kind="line",
            label=short_percent,
            threshold=bars["par30"],
            threshold_label=_("batas %(bar)s") % {"bar": percent(bars["par30"])},
        ),
        chart(
            title=_("Cakupan cadangan (%)"),
            rows=rows,
            key="coverage",
            kind="line",
            label=short_percent,
            threshold=bars["coverage"],
            threshold_label=_("batas %(bar)s") % {"bar": percent(bars["coverage"])},
        ),
    ]


def _dinas_only(request):
    staff = request.user.staff
    if not staff.is_dinas:
        raise PermissionDenied


def _month_and_format(request):
    form = MonthForm(request.GET or None)
    month = form.cleaned_data["bulan"] if form.is_valid() else last_complete_month()
    fmt = request.GET.get("format", "html")
    if fmt not in ("html", *exports.FORMATS):
        raise Http404
    return form, month, fmt


def _respond(request, *, lkmms, title, scope, filename, links=(), lkmm=None, kecamatan=""):
    form, month, fmt = _month_and_format(request)
    rows = trend(lkmms=lkmms, last=month)
    if fmt != "html":
        return exports.download(
            fmt,
            filename=f"tren-{filename}-{month:%Y-%m}",
            title=[
                _("Tren 12 bulan"),
                title,
                _("%(start)s s.d. %(end)s") % {"start": f"{rows[0]['month']:%m/%Y}", "end": f"{month:%m/%Y}"},
            ],
            blocks=[trend_table(rows)],
        )
    context = {
        "form": form,
        "month": month,
        "bulan": f"{month:%Y-%m}",
        "rows": rows,
        "charts": _charts(rows, _dinas_of(request)),
        "title": title,
        "scope": scope,
        "links": links,
        "lkmm": lkmm,
        "kecamatan": kecamatan,
        "lkmm_count": len(lkmms),
        "provisional": any(row["provisional"] for row in rows),
    }
    return render(request, "reports/trend.html", context)


def trend_table(rows):
    header = [
        _("Bulan"),
        _("Sisa pokok"),
        _("Pinjaman beredar"),
        _("Pencairan"),
        _("Angsuran diterima"),
        _("NPL (%)"),
        _("PAR30 (%)"),
        _("PPAP wajib"),
        _("Cadangan dimiliki"),
        _("Cakupan cadangan (%)"),
        _("Status"),
    ]
    body = [
        [
            row["end"],
            row["outstanding"],
            row["loans"],
            row["disbursed"],
            row["collected"],
            row["npl_ratio"],
            row["par30_ratio"],
            row["required"],
            row["held"],
            row["coverage"],
            _("sementara") if row["provisional"] else _("ditutup"),
        ]
        for row in rows
    ]
    footer = [
        [
            _("Jumlah 12 bulan"),
            None,
            None,
            sum(row["disbursed"] for row in rows),
            sum(row["collected"] for row in rows),
            None,
            None,
            None,
            None,
            None,
            None,
        ]
    ]
    return exports.Block(header, body, footer)


def _scope(user):
    return Lkmm.objects.for_user(user).filter(is_active=True).only("code", "name", "desa", "kecamatan")


@staff_required
@reads_replica
def city(request):
    """Every LKMM the user sees, together. LKMM staff see their own LKMM's trend instead."""
    staff = request.user.staff
    if not staff.is_dinas:
        query = f"?{request.GET.urlencode()}" if request.GET else ""
        return redirect(f"{_lkmm_url(staff.lkmm.code)}{query}")
    lkmms = list(_scope(request.user))
    kecamatan = sorted({lkmm.kecamatan for lkmm in lkmms})
    return _respond(
        request,
        lkmms=lkmms,
        title=_("Seluruh kota (%(n)s LKMM)") % {"n": len(lkmms)},
        scope="city",
        filename="kota",
        links=[(name, _kecamatan_url(name)) for name in kecamatan],
    )


@staff_required
@reads_replica
def kecamatan_trend(request, name):
    _dinas_only(request)
    lkmms = list(_scope(request.user).filter(kecamatan=name).order_by("name"))
    if not lkmms:
        raise Http404
    return _respond(
        request,
        lkmms=lkmms,
        title=_("Kecamatan %(name)s (%(n)s LKMM)") % {"name": name, "n": len(lkmms)},
        scope="kecamatan",
        filename=f"kecamatan-{slugify(name) or 'x'}",
        links=[(lkmm.name, _lkmm_url(lkmm.code)) for lkmm in lkmms],
        kecamatan=name,
    )


@staff_required
@reads_replica
def lkmm_trend(request, code):
    lkmm = get_object_or_404(_scope(request.user), code=code)
    return _respond(
        request,
        lkmms=[lkmm],
        title=lkmm.name,
        scope="lkmm",
        filename=lkmm.code,
        lkmm=lkmm,
        kecamatan=lkmm.kecamatan,
    )


def _lkmm_url(code):
    return reverse("oversight:trend_lkmm", args=[code])


def _kecamatan_url(name):
    return reverse("oversight:trend_kecamatan", args=[name])
