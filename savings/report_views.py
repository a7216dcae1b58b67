"""Savings reports of one LKMM (issue 13 item 7), on A4 and as CSV or XLSX (?format=csv|csv-id|xlsx):
the members' balances per kind at a date (?at=YYYY-MM-DD, default today) with the simpanan accounts
beside the totals, and the deposits and withdrawals of a period (?start=&end=, default this month).
Scoped as the other reports (reports.report_views._report): the LKMM's own staff, and the Dinas
reviewers of its Dinas; any other LKMM is a 404."""

import datetime

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.services import download_recorded
from institutions.access import staff_required
from institutions.models import Lkmm
from lkmm.db_routers import reads_replica
from reports import exports
from reports.report_views import ReportDateForm
from savings import selectors
from savings.forms import PeriodForm
from savings.models import SavingsKind


def _lkmm_and_format(request, code):
    lkmm = get_object_or_404(Lkmm.objects.for_user(request.user), code=code)
    fmt = request.GET.get("format", "html")
    if fmt not in ("html", *exports.FORMATS):
        raise Http404
    return lkmm, fmt


def _kind_labels():
    return [str(label) for label in SavingsKind.labels]


# --- saldo simpanan per anggota ------------------------------------------------------------------------


@staff_required
@reads_replica
def balances(request, code):
    lkmm, fmt = _lkmm_and_format(request, code)
    form = ReportDateForm(request.GET or None)
    at = (form.is_valid() and form.cleaned_data["at"]) or timezone.localdate()
    report = selectors.balances_report(lkmm=lkmm, at=at)
    if fmt != "html":
        download_recorded(request, what="saldo-simpanan", lkmm=lkmm, fmt=fmt)
        return exports.download(
            fmt,
            filename=f"saldo-simpanan-{lkmm.code}-{at:%Y-%m-%d}",
            title=[_("Saldo simpanan anggota"), lkmm.name, _("Per %(d)s") % {"d": f"{at:%d/%m/%Y}"}],
            blocks=[_balances_table(report)],
        )
    return render(
        request,
        "savings/balances_report.html",
        {"lkmm": lkmm, "form": form, "at": at, "report": report, "current": "balances"},
    )


def _balances_table(report):
    kinds = selectors.KINDS
    header = [_("Kode anggota"), _("Anggota"), *_kind_labels(), _("Jumlah")]
    rows = [
        [row.code, row.full_name, *[getattr(row, kind.value) for kind in kinds], row.total]
        for row in report.rows
    ]
    n = len(report.rows)
    footer = [
        [
            ngettext("Jumlah (%(n)s anggota)", "Jumlah (%(n)s anggota)", n) % {"n": n},
            None,
            *[report.totals[kind.value] for kind in kinds],
            report.totals["total"],
        ],
        [
            _("Saldo akun simpanan di buku besar (2102, 2103, 2104)"),
            None,
            *[report.ledger[kind.value] for kind in kinds],
            report.ledger["total"],
        ],
    ]
    return exports.Block(header, rows, footer)


# --- mutasi simpanan (setoran dan penarikan) -------------------------------------------------------------


def period_of(form, today):
    """The period the form asks for, or this month so far; never longer than PeriodForm.MAX_DAYS."""
    data = form.cleaned_data if form.is_valid() else {}
    longest = datetime.timedelta(days=PeriodForm.MAX_DAYS - 1)
    end = data.get("end")
    start = data.get("start") or (end or today).replace(day=1)
    end = end or min(max(today, start), start + longest)
    return start, end


@staff_required
@reads_replica
def movements(request, code):
    lkmm, fmt = _lkmm_and_format(request, code)
    form = PeriodForm(request.GET or None)
    start, end = period_of(form, timezone.localdate())
    report = selectors.movements_report(lkmm=lkmm, start=start, end=end)
    if fmt != "html":
        download_recorded(request, what="mutasi-simpanan", lkmm=lkmm, fmt=fmt)
        return exports.download(
            fmt,
            filename=f"mutasi-simpanan-{lkmm.code}-{start:%Y-%m-%d}-{end:%Y-%m-%d}",
            title=[
                _("Setoran dan penarikan simpanan"),
                lkmm.name,
                _("%(start)s s.d. %(end)s") % {"start": f"{start:%d/%m/%Y}", "end": f"{end:%d/%m/%Y}"},
            ],
            blocks=_movements_tables(report),
        )
    return render(
        request,
        "savings/movements_report.html",
        {
            "lkmm": lkmm,
            "form": form,
            "start": start,
            "end": end,
            "report": report,
            "kinds": [(kind.label, report.totals[kind.value]) for kind in selectors.KINDS],
            "current": "movements",
        },
    )


def reversal_mark(line):
    if line.reversal:
        return _("Pembatalan %(receipt)s") % {"receipt": line.movement.receipt_code}
    if line.movement.reversed_on is not None:
        return _("Dibatalkan per %(d)s") % {"d": f"{line.movement.reversed_on:%d/%m/%Y}"}
    return ""


def _movements_tables(report):
    lines = exports.Block(
        [
            _("Tanggal"),
            _("Kuitansi"),
            _("Kode anggota"),
            _("Anggota"),
            _("Jenis simpanan"),
            _("Setor/tarik"),
            _("Setoran"),
            _("Penarikan"),
            _("Pembatalan"),
        ],
        [
            [
                line.on,
                line.movement.receipt_code,
                line.movement.account.member.code,
                line.movement.account.member.full_name,
                line.movement.account.get_kind_display(),
                line.movement.get_kind_display(),
                line.deposit,
                line.withdrawal,
                reversal_mark(line),
            ]
            for line in report.lines
        ],
        [
            [
                ngettext("Jumlah (%(n)s baris)", "Jumlah (%(n)s baris)", len(report.lines))
                % {"n": len(report.lines)},
                *[None] * 5,
                report.totals["total"]["deposit"],
                report.totals["total"]["withdrawal"],
                None,
            ]
        ],
    )
    per_kind = exports.Block(
        [_("Jenis simpanan"), _("Setoran"), _("Penarikan"), _("Bersih")],
        [
            [
                kind.label,
                report.totals[kind.value]["deposit"],
                report.totals[kind.value]["withdrawal"],
                report.totals[kind.value]["net"],
            ]
            for kind in selectors.KINDS
        ],
        [
            [
                _("Jumlah"),
                report.totals["total"]["deposit"],
                report.totals["total"]["withdrawal"],
                report.totals["total"]["net"],
            ]
        ],
    )
    return [lines, per_kind]
