"""Financial statements pages (issue 11): per LKMM and consolidated (a kecamatan, or every LKMM the user
may see), for a month, quarter or year beside the period before it; and the quarterly package an LKM owes
(SEOJK 1/SEOJK.06/2025). Every page prints on A4 and downloads as CSV or XLSX (?format=csv|xlsx).

LKMM staff read their own LKMM's; a Dinas reviewer every LKMM Lkmm.objects.for_user gives; another
LKMM's answers 404."""

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from institutions.access import staff_required
from institutions.models import Lkmm
from ledger import package as quarterly
from ledger.forms import StatementPeriodForm
from ledger.models import PeriodClose
from ledger.statements import statements_for
from lkmm.db_routers import reads_replica
from reports import exports


def _format(request):
    fmt = request.GET.get("format", "html")
    if fmt not in ("html", *exports.FORMATS):
        raise Http404
    return fmt


def _scope(request, code):
    """(LKMMs queryset, the one LKMM or None, kecamatan or "", the scope's name, the kecamatan the user
    may choose from). 404 for an LKMM or kecamatan beyond the user's reach."""
    visible = Lkmm.objects.for_user(request.user)
    if code is not None:
        lkmm = get_object_or_404(visible, code=code)
        return Lkmm.objects.filter(pk=lkmm.pk), lkmm, "", lkmm.name, []
    kecamatans = sorted(set(visible.values_list("kecamatan", flat=True)))
    kecamatan = request.GET.get("kecamatan", "")
    if kecamatan:
        if kecamatan not in kecamatans:
            raise Http404
        return (
            visible.filter(kecamatan=kecamatan),
            None,
            kecamatan,
            _("Kecamatan %(k)s") % {"k": kecamatan},
            kecamatans,
        )
    return visible, None, "", _("Seluruh LKMM"), kecamatans


def is_closed(lkmms, period):
    """Whether every month of `period` is closed (tutup buku) for every one of the LKMMs: two queries."""
    count = lkmms.count()
    closed = PeriodClose.objects.filter(
        lkmm__in=lkmms, month__in=period.months, reopened_at__isnull=True
    ).count()
    return count > 0 and closed == count * len(period.months)


def statement_blocks(result):
    """The statements as download tables: one per statement, then the memorandum line."""
    header = [_("Pos"), str(result.period.label), str(result.previous.label)]
    blocks = []
    for statement in result.all:
        rows = []
        for section in statement.sections:
            rows.append([section.title, None, None])
            rows += [[row.label, row.current, row.previous] for row in section.rows]
            if section.total_label:
                rows.append([section.total_label, section.current, section.previous])
        blocks.append(
            exports.Block([statement.title, *header[1:]], rows, [list(total) for total in statement.totals])
        )
    blocks.append(exports.Block(header, [[result.memo.label, result.memo.current, result.memo.previous]]))
    return blocks


def _query(period, kecamatan):
    """The page's own GET parameters, for its download links."""
    return period.query + ("&" + urlencode({"kecamatan": kecamatan}) if kecamatan else "")


def _title(kind, name, period, closed):
    title = [kind, name, str(period.label)]
    if not closed:
        title.append(_("SEMENTARA: periode belum ditutup buku"))
    return title


def _filename(kind, lkmm, kecamatan, period):
    scope = lkmm.code if lkmm else (f"kecamatan-{kecamatan}" if kecamatan else "kota")
    return f"{kind}-{scope}-{period.start:%Y-%m}-{period.kind}".replace(" ", "-")


@staff_required
@reads_replica
def statements(request, code=None):
    """Neraca, laba rugi and arus kas of one LKMM (`code`) or consolidated (?kecamatan=...)."""
    fmt = _format(request)
    lkmms, lkmm, kecamatan, name, kecamatans = _scope(request, code)
    form = StatementPeriodForm(request.GET or None)
    period = form.period
    result = statements_for(lkmms, period)
    closed = is_closed(lkmms, period)
    if fmt != "html":
        return exports.download(
            fmt,
            filename=_filename("laporan-keuangan", lkmm, kecamatan, period),
            title=_title(_("Laporan keuangan"), name, period, closed),
            blocks=statement_blocks(result),
        )
    return render(
        request,
        "ledger/statements.html",
        {
            "lkmm": lkmm,
            "name": name,
            "kecamatan": kecamatan,
            "kecamatans": kecamatans,
            "form": form,
            "period": period,
            "result": result,
            "closed": closed,
            "query": _query(period, kecamatan),
        },
    )


@staff_required
@reads_replica
def package(request, code=None):
    """The quarterly package (SEOJK 1/SEOJK.06/2025) of one LKMM or consolidated (?kecamatan=...):
    neraca, laba rugi, the maximum-interest-rate report and notes; marked SEMENTARA until the quarter is
    closed."""
    fmt = _format(request)
    lkmms, lkmm, kecamatan, name, kecamatans = _scope(request, code)
    form = StatementPeriodForm(request.GET or None, quarters_only=True)
    period = form.period
    content = quarterly.package_for(lkmms, period)
    closed = is_closed(lkmms, period)
    if fmt != "html":
        return exports.download(
            fmt,
            filename=_filename("paket-triwulan", lkmm, kecamatan, period),
            title=_title(_("Laporan triwulanan LKM (SEOJK 1/SEOJK.06/2025)"), name, period, closed),
            blocks=quarterly.package_blocks(content, statement_blocks),
        )
    return render(
        request,
        "ledger/package.html",
        {
            "lkmm": lkmm,
            "name": name,
            "kecamatan": kecamatan,
            "kecamatans": kecamatans,
            "form": form,
            "period": period,
            "content": content,
            "result": content.statements,
            "closed": closed,
            "query": _query(period, kecamatan),
        },
    )
