"""Impact (dampak): what the loans did for families, each figure with its definition on the page, for one
LKMM or the city (every LKMM the user sees), printable on A4 and downloadable as CSV or XLSX
(?format=csv|xlsx). LKMM staff read their own LKMM's; the Dinas reads the city's and each LKMM's."""

from decimal import Decimal

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from institutions.access import staff_required
from institutions.models import Lkmm
from institutions.templatetags.lkmm_format import format_rupiah
from lkmm.db_routers import reads_replica
from reports import exports
from reports.impact import PAID_OFF_AT_LEAST, impact

BAR_WIDTH = 200  # the longest band's bar, in the band chart's viewBox units


def band_label(low, high):
    if low is None:
        return _("di bawah %(high)s") % {"high": format_rupiah(high)}
    if high is None:
        return _("%(low)s ke atas") % {"low": format_rupiah(low)}
    return _("%(low)s s.d. di bawah %(high)s") % {"low": format_rupiah(low), "high": format_rupiah(high)}


def measures(figures):
    """Each figure with its definition, as the page and the downloads show them. `kind`: how the value
    reads (rupiah, percent, count, ratio)."""
    income, loans, members = figures["income"], figures["loans"], figures["members"]
    return [
        {
            "label": _("Anggota dengan pendapatan saat masuk dan tindak lanjut"),
            "value": income["members"],
            "kind": "count",
            "definition": _(
                "anggota yang pernah diterima (aktif, keluar, diblokir) yang pendapatan bersih per bulannya "
                "tercatat saat masuk dan sedikitnya sekali sesudahnya"
            ),
        },
        {
            "label": _("Median pendapatan bersih per bulan saat masuk"),
            "value": income["median_admission"],
            "kind": "rupiah",
            "definition": _(
                "nilai tengah pendapatan bersih per bulan saat masuk, atas anggota di atas (rata-rata dua "
                "nilai tengah bila jumlahnya genap, dibulatkan ke rupiah)"
            ),
        },
        {
            "label": _("Median pendapatan bersih per bulan pada tindak lanjut terakhir"),
            "value": income["median_latest"],
            "kind": "rupiah",
            "definition": _(
                "nilai tengah pendapatan bersih per bulan pada catatan pendapatan terakhir tiap anggota yang "
                "sama"
            ),
        },
        {
            "label": _("Anggota yang pendapatannya naik"),
            "value": income["rose_share"],
            "kind": "percent",
            "note": ngettext("%(n)s anggota", "%(n)s anggota", income["rose"]) % {"n": income["rose"]},
            "definition": _(
                "pendapatan pada tindak lanjut terakhir > pendapatan saat masuk ÷ anggota di atas"
            ),
        },
        {
            "label": _("Anggota terdaftar di DTSEN"),
            "value": figures["dtsen_share"],
            "kind": "percent",
            "note": _("%(n)s dari %(total)s anggota aktif")
            % {"n": members["dtsen"], "total": members["active"]},
            "definition": _("anggota aktif yang terdaftar di DTSEN ÷ anggota aktif × 100%"),
        },
        {
            "label": _("Perempuan di antara anggota"),
            "value": figures["women_share"],
            "kind": "percent",
            "note": _("%(n)s dari %(total)s anggota aktif")
            % {"n": members["women"], "total": members["active"]},
            "definition": _("anggota aktif perempuan ÷ anggota aktif × 100%"),
        },
        {
            "label": _("Perempuan di antara pinjaman"),
            "value": loans["women_share"],
            "kind": "percent",
            "note": _("%(n)s dari %(total)s pinjaman") % {"n": loans["women_n"], "total": loans["n"]},
            "definition": _(
                "pinjaman baru yang dicairkan kepada anggota perempuan ÷ semua pinjaman baru yang "
                "dicairkan × 100% (pinjaman hasil restrukturisasi tidak dihitung)"
            ),
        },
        {
            "label": _("Perempuan di antara pokok pinjaman"),
            "value": loans["women_amount_share"],
            "kind": "percent",
            "definition": _(
                "pokok pinjaman baru kepada anggota perempuan ÷ pokok semua pinjaman baru × 100%"
            ),
        },
        {
            "label": _("Rata-rata besar pinjaman"),
            "value": loans["average"],
            "kind": "rupiah",
            "definition": _("jumlah pokok pinjaman baru yang dicairkan ÷ banyaknya, dibulatkan ke rupiah"),
        },
        {
            "label": _("Median besar pinjaman"),
            "value": loans["median"],
            "kind": "rupiah",
            "definition": _("nilai tengah pokok pinjaman baru yang dicairkan"),
        },
        {
            "label": _("Anggota yang melunasi %(n)s pinjaman atau lebih") % {"n": PAID_OFF_AT_LEAST},
            "value": figures["paid_off_3"],
            "kind": "count",
            "note": _("%(share)s dari anggota yang pernah diterima")
            % {"share": _percent_text(figures["paid_off_3_share"])},
            "definition": _("anggota dengan sedikitnya %(n)s pinjaman berstatus lunas")
            % {"n": PAID_OFF_AT_LEAST},
        },
    ]


def _percent_text(value):
    from institutions.templatetags.lkmm_format import percent

    return percent(value) if value is not None else "–"


def _bands(income):
    top = max(
        [1, *(band["admission"] for band in income["bands"]), *(band["latest"] for band in income["bands"])]
    )
    total = income["members"]
    return [
        {
            **band,
            "label": band_label(band["low"], band["high"]),
            "admission_share": _share(band["admission"], total),
            "latest_share": _share(band["latest"], total),
            "admission_w": f"{BAR_WIDTH * band['admission'] / top:.1f}",
            "latest_w": f"{BAR_WIDTH * band['latest'] / top:.1f}",
            "text_y": 12 + i * 44,
            "admission_y": 16 + i * 44,
            "latest_y": 28 + i * 44,
            "admission_end": f"{BAR_WIDTH * band['admission'] / top + 4:.1f}",
            "latest_end": f"{BAR_WIDTH * band['latest'] / top + 4:.1f}",
        }
        for i, band in enumerate(income["bands"])
    ]


def _share(part, whole):
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


def _respond(request, *, lkmms, title, filename, lkmm=None):
    fmt = request.GET.get("format", "html")
    if fmt not in ("html", *exports.FORMATS):
        raise Http404
    figures = impact(lkmms=lkmms)
    rows = measures(figures)
    bands = _bands(figures["income"])
    if fmt != "html":
        return exports.download(
            fmt,
            filename=f"dampak-{filename}",
            title=[_("Dampak"), title],
            blocks=impact_tables(rows, bands, figures),
        )
    return render(
        request,
        "reports/impact.html",
        {
            "title": title,
            "lkmm": lkmm,
            "figures": figures,
            "measures": rows,
            "bands": bands,
            "band_height": 8 + len(bands) * 44,
        },
    )


def impact_tables(rows, bands, figures):
    return [
        exports.Block(
            [_("Ukuran"), _("Nilai"), _("Keterangan"), _("Definisi")],
            [[m["label"], m["value"], m.get("note", ""), m["definition"]] for m in rows],
        ),
        exports.Block(
            [_("Pendapatan bersih per bulan"), _("Saat masuk"), _("Tindak lanjut terakhir")],
            [[band["label"], band["admission"], band["latest"]] for band in bands],
            [[_("Jumlah anggota"), figures["income"]["members"], figures["income"]["members"]]],
        ),
        exports.Block(
            [
                _("Tahun"),
                _("Pinjaman baru"),
                _("Pokok dicairkan"),
                _("Peminjam"),
                _("Pinjaman per peminjam"),
                _("Anggota s.d. akhir tahun"),
                _("Pinjaman per anggota"),
            ],
            [
                [
                    row["year"],
                    row["loans"],
                    row["amount"],
                    row["borrowers"],
                    row["per_borrower"],
                    row["members"],
                    row["per_member"],
                ]
                for row in figures["by_year"]
            ],
        ),
    ]


def _scope(user):
    return Lkmm.objects.for_user(user).filter(is_active=True)


@staff_required
@reads_replica
def city(request):
    staff = request.user.staff
    if not staff.is_dinas:
        url = reverse("oversight:impact_lkmm", args=[staff.lkmm.code])
        return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)
    return _respond(request, lkmms=_scope(request.user), title=_("Seluruh kota"), filename="kota")


@staff_required
@reads_replica
def lkmm_impact(request, code):
    lkmm = get_object_or_404(_scope(request.user).only("code", "name", "kecamatan", "desa"), code=code)
    return _respond(
        request, lkmms=_scope(request.user).filter(pk=lkmm.pk), title=lkmm.name, filename=lkmm.code, lkmm=lkmm
    )
