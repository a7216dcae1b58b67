"""The Dinas home as a download (CSV or XLSX): every LKMM row of the month in the page's order, the city
total under them, then the kecamatan subtotals; Indonesian headers, whole rupiah, dates as dates."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports import dinas_home, exports

FLAG_LABELS = {
    dinas_home.BERMASALAH: gettext_lazy("Bermasalah"),
    dinas_home.PERHATIAN: gettext_lazy("Perlu perhatian"),
    dinas_home.SEHAT: gettext_lazy("Sehat"),
}


def _figures(f):
    return [
        f["members"],
        f["borrowers"],
        f["outstanding"],
        f["disbursed"],
        f["collected"],
        f["received"],
        f["due"],
        f["overdue_at_start"],
        f["repayment_rate"],
        f["par30_ratio"],
        f["npl_ratio"],
        f["held"],
        f["required"],
        f["coverage"],
        f["savings"],
        f["savers"],
    ]


def _figure_headers():
    return [
        _("Anggota aktif"),
        _("Peminjam"),
        _("Sisa pokok pinjaman (Rp)"),
        _("Disalurkan bulan ini (Rp)"),
        _("Tertagih bulan ini (Rp)"),
        _("Diterima untuk angsuran (Rp)"),
        _("Jatuh tempo bulan ini (Rp)"),
        _("Tunggakan awal bulan (Rp)"),
        _("Tingkat pengembalian (%)"),
        _("PAR30 (%)"),
        _("NPL (%)"),
        _("Cadangan dimiliki (Rp)"),
        _("Cadangan wajib (Rp)"),
        _("Cakupan cadangan (%)"),
        _("Simpanan anggota (Rp)"),
        _("Anggota penabung"),
    ]


def download(fmt, *, dinas, month, rows, kecamatan, totals, filtered):
    reasons = dinas_home.reason_labels()
    end = dinas_home.month_end(month)
    lkmm_block = exports.Block(
        [
            _("Kecamatan"),
            _("Kode"),
            _("LKMM"),
            _("Kesehatan"),
            _("Alasan"),
            _("Tutup buku"),
            _("Angka"),
            *_figure_headers(),
            _("Kegiatan terakhir"),
        ],
        [
            [
                row["lkmm"].kecamatan,
                row["lkmm"].code,
                row["lkmm"].name,
                str(FLAG_LABELS[row["flag"]]),
                "; ".join(str(reasons[r]) for r in row["reasons"]),
                timezone.localtime(row["figures"]["closed"].closed_at).date()
                if row["figures"]["closed"]
                else _("belum"),
                _("sementara") if row["figures"]["provisional"] else _("final"),
                *_figures(row["figures"]),
                row["figures"]["last_activity"],
            ]
            for row in rows
        ],
    )
    if not filtered:  # the city total is the sum of the rows above it: only when every row is there
        lkmm_block.footer = [[_("Jumlah kota"), "", "", "", "", "", "", *_figures(totals), ""]]
    kecamatan_block = exports.Block(
        [_("Kecamatan"), _("Jumlah LKMM"), *_figure_headers()],
        [[name, count, *_figures(f)] for name, count, f in kecamatan],
        [[_("Jumlah kota"), sum(count for _name, count, _f in kecamatan), *_figures(totals)]],
    )
    title = [
        _("Kesehatan LKMM"),
        dinas.name,
        _("Bulan %(month)s, per %(end)s") % {"month": f"{month:%m/%Y}", "end": f"{end:%d/%m/%Y}"},
        _(
            "Persentase jumlah dihitung dari jumlah rupiahnya, bukan rata-rata baris. Angka bulan yang "
            "belum ditutup bersifat sementara."
        ),
    ]
    return exports.download(
        fmt,
        filename=f"kesehatan-lkmm-{dinas.code}-{month:%Y-%m}",
        title=title,
        blocks=[lkmm_block, kecamatan_block],
    )
