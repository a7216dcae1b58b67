"""Reports of one LKMM at any date (?at=YYYY-MM-DD, default today), printable on A4 and downloadable as
CSV or XLSX (?format=csv|xlsx): the arrears list (daftar tunggakan) and loan quality with the required
reserve (kolektibilitas & PPAP). LKMM staff read their own LKMM's; the Dinas reads every LKMM's."""

import datetime
from decimal import ROUND_DOWN, Decimal

from django.db.models import Count, Subquery, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit.services import download_recorded
from institutions.access import staff_required
from institutions.forms import DateField, Form
from institutions.models import Lkmm
from institutions.templatetags.lkmm_format import percent
from lkmm.db_routers import reads_replica
from loans.models import Loan
from reports import exports
from reports.selectors import _current_group
from risk.models import ClosedLoanFigure, QualityClass
from risk.selectors import by_class, loans_at, month_figures, portfolio, stored_portfolio


class ReportDateForm(Form):
    at = DateField(label=gettext_lazy("Per tanggal"), required=False, future=True)


def _report(request, code):
    """The LKMM (404 beyond the user's reach), the date form, the date (today unless a valid one is given)
    and the format asked for (404 for an unknown one)."""
    lkmm = get_object_or_404(
        Lkmm.objects.for_user(request.user).select_related("quality_policy", "dinas"), code=code
    )
    form = ReportDateForm(request.GET or None)
    at = (form.is_valid() and form.cleaned_data["at"]) or timezone.localdate()
    fmt = request.GET.get("format", "html")
    if fmt not in ("html", *exports.FORMATS):
        raise Http404
    return lkmm, form, at, fmt


@staff_required
def my_report(request, report):
    """/laporan/tunggakan/ and /laporan/kolektibilitas/: the report of the user's own LKMM. The Dinas has
    no LKMM of its own and picks one on the overview."""
    lkmm = request.user.staff.lkmm
    if lkmm is None:
        return redirect("reports:home")
    url = reverse(report, args=[lkmm.code])
    return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)


# --- daftar tunggakan ----------------------------------------------------------------------------------


def arrears_list(*, lkmm, at):
    """Loans past due at `at`, most days past due first, each with its member, current group and quality
    class; their totals; and the classes of the LKMM's policy. Three queries whatever the number of loans."""
    loans = loans_at(
        at,
        lkmms=[lkmm],
        past_due_only=True,
        queryset=Loan.objects.select_related("member").annotate(
            group_name=Subquery(_current_group("member"))
        ),
    )
    classes = list(QualityClass.objects.filter(policy_id=lkmm.quality_policy_id).order_by("position"))
    by_pk = {c.pk: c for c in classes}
    for loan in loans:
        loan.quality_class = by_pk.get(loan.quality_class_id)
    totals = {
        key: sum(getattr(loan, key) for loan in loans)
        for key in ("principal", "outstanding", "overdue_amount", "overdue_fees")
    }
    return loans, totals, classes


@staff_required
@reads_replica
def arrears(request, code):
    lkmm, form, at, fmt = _report(request, code)
    loans, totals, classes = arrears_list(lkmm=lkmm, at=at)
    if fmt != "html":
        download_recorded(request, what="daftar-tunggakan", lkmm=lkmm, fmt=fmt)
        return exports.download(
            fmt,
            filename=f"daftar-tunggakan-{lkmm.code}-{at:%Y-%m-%d}",
            title=[_("Daftar tunggakan"), lkmm.name, _("Per %(d)s") % {"d": f"{at:%d/%m/%Y}"}],
            blocks=[_arrears_table(loans, totals)],
        )
    context = {"lkmm": lkmm, "form": form, "at": at, "loans": loans, "totals": totals, "classes": classes}
    return render(request, "reports/arrears_report.html", context)


def _arrears_table(loans, totals):
    header = [
        _("Anggota"),
        _("Kode anggota"),
        _("Kelompok"),
        _("Telepon"),
        _("Kode pinjaman"),
        _("Tanggal cair"),
        _("Pokok pinjaman"),
        _("Sisa pokok"),
        _("Tunggakan pokok + bunga"),
        _("Denda"),
        _("Hari tunggakan"),
        _("Kelas"),
    ]
    rows = [
        [
            loan.member.full_name,
            loan.member.code,
            loan.group_name or "",
            loan.member.phone,
            loan.code,
            loan.disbursed_on,
            loan.principal,
            loan.outstanding,
            loan.overdue_amount,
            loan.overdue_fees,
            loan.days_past_due,
            loan.quality_class,
        ]
        for loan in loans
    ]
    footer = [
        ngettext("Jumlah (%(n)s pinjaman)", "Jumlah (%(n)s pinjaman)", len(loans)) % {"n": len(loans)},
        *[None] * 5,
        totals["principal"],
        totals["outstanding"],
        totals["overdue_amount"],
        totals["overdue_fees"],
        None,
        None,
    ]
    return exports.Block(header, rows, [footer])


# --- kolektibilitas & PPAP -----------------------------------------------------------------------------


def split_whole(total, exact):
    """Whole rupiah parts of `total` near the `exact` Decimal amounts, adding up to `total` exactly: each
    part rounded down, the rupiah left over going to the largest remainders (hordak's ratio_split). Only
    for months closed before reserves were rounded per loan, whose stored total rounded the sum once."""
    parts = [int(x.to_integral_value(rounding=ROUND_DOWN)) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in by_remainder[: max(total - sum(parts), 0)]:
        parts[i] += 1
    return parts


def quality_report(*, lkmm, at):
    """Every class of the LKMM's policy (empty ones too) with its loans, outstanding principal, reserve
    rate and required reserve; the totals; and the portfolio measures (NPL, reserve held, coverage).
    A class's required reserve is the sum of its loans' own (each rounded half up), and the total the
    sum of the classes'."""
    stored = stored_portfolio(lkmm=lkmm, at=at)
    if stored is not None:
        # A closed month reads the figures stored when it was closed, as they were reported.
        figures = stored
        classes = {c.pk: c for c in QualityClass.objects.filter(policy_id=lkmm.quality_policy_id)}
        found = {
            classes.get(row.pop("quality_class")): row
            for row in ClosedLoanFigure.objects.filter(period_close=stored["closed"])
            .values("quality_class")
            .annotate(loans=Count("pk"), outstanding=Sum("outstanding"), required=Sum("required_reserve"))
        }
    else:
        # The end of a month that has ended and is not closed reads the figures stored for it.
        ended = (at + datetime.timedelta(days=1)).day == 1 and at < timezone.localdate().replace(day=1)
        figures = month_figures(lkmms=[lkmm], month=at)[lkmm.pk] if ended else portfolio(lkmms=[lkmm], at=at)
        found = {row["quality_class"]: row for row in by_class(lkmms=[lkmm], at=at)}
    rows = [
        {
            "quality_class": quality_class,
            "loans": found.get(quality_class, {}).get("loans", 0),
            "outstanding": found.get(quality_class, {}).get("outstanding") or 0,
            "rate": quality_class.reserve_rate,
            "required": found.get(quality_class, {}).get("required") or 0,
        }
        for quality_class in QualityClass.objects.filter(policy_id=lkmm.quality_policy_id).order_by(
            "position"
        )
    ]
    if None in found:  # thresholds that leave a gap: such loans still count, in a row of their own
        rows.append({"quality_class": None, **found[None], "rate": Decimal(0)})
    if sum(row["required"] for row in rows) != figures["required"]:
        # A month closed before per-loan rounding stored a total that rounded the sum once: its rows are
        # shared out of that total, so that they still add up to it as it was reported.
        exact = [row["outstanding"] * row["rate"] / 100 for row in rows]
        for row, required in zip(rows, split_whole(figures["required"], exact), strict=True):
            row["required"] = required
    return rows, figures


@staff_required
@reads_replica
def quality(request, code):
    lkmm, form, at, fmt = _report(request, code)
    rows, figures = quality_report(lkmm=lkmm, at=at)
    if fmt != "html":
        download_recorded(request, what="kolektibilitas-ppap", lkmm=lkmm, fmt=fmt)
        return exports.download(
            fmt,
            filename=f"kolektibilitas-ppap-{lkmm.code}-{at:%Y-%m-%d}",
            title=[
                _("Kolektibilitas & PPAP"),
                lkmm.name,
                _("Per %(d)s") % {"d": f"{at:%d/%m/%Y}"},
                _("Kebijakan kualitas: %(policy)s") % {"policy": lkmm.quality_policy.name},
            ],
            blocks=_quality_tables(rows, figures, lkmm.dinas.npl_threshold_pct),
        )
    measures = measures_of(rows, figures, lkmm.dinas.npl_threshold_pct)
    context = {"lkmm": lkmm, "form": form, "at": at, "rows": rows, "figures": figures, "measures": measures}
    return render(request, "reports/quality_report.html", context)


def _quality_tables(rows, figures, npl_bar):
    classes = exports.Block(
        [
            _("Kode"),
            _("Kelas"),
            _("Jumlah pinjaman"),
            _("Sisa pokok"),
            _("Tarif cadangan (%)"),
            _("PPAP wajib"),
        ],
        [
            [
                row["quality_class"].code if row["quality_class"] else "",
                row["quality_class"].name if row["quality_class"] else _("Tanpa kelas"),
                row["loans"],
                row["outstanding"],
                row["rate"],
                row["required"],
            ]
            for row in rows
        ],
        [[_("Jumlah"), None, figures["loans"], figures["outstanding"], None, figures["required"]]],
    )
    measures = exports.Block(
        [_("Ukuran"), _("Nilai"), _("Rumus")],
        [[m["label"], m["value"], m["formula"]] for m in measures_of(rows, figures, npl_bar)],
    )
    return [classes, measures]


def measures_of(rows, figures, npl_bar):
    """Each portfolio measure with its formula, as the page and the downloads show them. `percent`: the
    value is a percentage (None when there is nothing to divide by), else whole rupiah; `bad`: past the
    Dinas's NPL bar, or a reserve that does not cover the required one (as the dashboard's alerts)."""
    bad = ", ".join(
        row["quality_class"].code
        for row in rows
        if row["quality_class"] and row["quality_class"].non_performing
    )
    return [
        {
            "label": _("NPL (kredit bermasalah)"),
            "value": figures["npl"],
            "formula": _("sisa pokok pinjaman di kelas bermasalah (%(classes)s)") % {"classes": bad},
        },
        {
            "label": _("NPL (%)"),
            "value": figures["npl_ratio"],
            "percent": True,
            "formula": _("NPL = sisa pokok kelas bermasalah ÷ sisa pokok seluruhnya × 100%"),
            "note": _("batas Dinas ≤ %(bar)s") % {"bar": percent(npl_bar)},
            "bad": figures["npl_ratio"] is not None and figures["npl_ratio"] > npl_bar,
        },
        {
            "label": _("PPAP wajib"),
            "value": figures["required"],
            "formula": _(
                "PPAP wajib = Σ (tarif cadangan kelas × sisa pokok) tiap pinjaman, dibulatkan per pinjaman"
            ),
        },
        {
            "label": _("Cadangan dimiliki"),
            "value": figures["held"],
            "formula": _("saldo akun cadangan risiko per tanggal laporan"),
        },
        {
            "label": _("Cakupan cadangan (%)"),
            "value": figures["coverage"],
            "percent": True,
            "formula": _("cakupan = cadangan dimiliki ÷ PPAP wajib × 100%"),
            "bad": bool(figures["required"]) and (figures["coverage"] or 0) < 100,
        },
    ]
