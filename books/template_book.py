"""The downloadable template of the book format: each sheet's header row and example rows, and a notes
sheet in Bahasa Indonesia. Dates are real Excel dates."""

import datetime
import io

from books.formats import SHEETS

D = datetime.date
EXAMPLES = {
    "members": {
        "nik": "3509011205800001",
        "full_name": "Budi Santoso",
        "gender": "L",
        "birth_date": D(1980, 5, 12),
        "joined_on": D(2024, 1, 8),
        "desa": "Semenggu",
        "dusun": "Krajan",
        "rt": "004",
        "rw": "002",
        "business_type": "Warung",
        "monthly_income": 1500000,
        "dtsen": 1,
        "dtsen_decile": 3,
        "group": "Mawar",
        "status": "aktif",
    },
    "loans": {
        "loan_ref": "PJ-001",
        "nik": "3509011205800001",
        "principal": 1200000,
        "interest_method": "flat",
        "monthly_rate_pct": "1,5",
        "frequency": "weekly",
        "installments": 10,
        "disbursed_on": D(2024, 2, 5),
        "admin_fee": 12000,
        "late_fee": 2000,
        "rounding_unit": 100,
        "waive_interest_on_payoff": 0,
    },
    "repayments": {"loan_ref": "PJ-001", "paid_on": D(2024, 2, 12), "amount": 124200},
    "events": {"loan_ref": "PJ-001", "on": D(2024, 3, 4), "kind": "late_fee_waiver", "reason": "Sakit"},
    "opening": {"on": D(2024, 1, 2), "account": "modal_hibah", "amount": 25000000},
    "savings": [
        {"nik": "3509011205800001", "type": "pokok", "on": D(2024, 1, 8), "amount": 10000, "kind": "setor"},
        {"nik": "3509011205800001", "type": "wajib", "on": D(2024, 1, 15), "amount": 5000, "kind": "setor"},
        {
            "nik": "3509011205800001",
            "type": "sukarela",
            "on": D(2024, 2, 5),
            "amount": 50000,
            "kind": "setor",
        },
        {
            "nik": "3509011205800001",
            "type": "sukarela",
            "on": D(2024, 3, 4),
            "amount": 20000,
            "kind": "tarik",
        },
    ],
}
NOTES = [
    (
        "Umum",
        "Satu lembar per tabel; nama kolom persis seperti baris judul (huruf besar/kecil tidak penting).",
    ),
    ("Umum", "Kolom yang tidak dikenal ditolak. Kolom pilihan boleh dihapus atau dikosongkan."),
    (
        "Umum",
        "Jumlah rupiah angka bulat: 1250000 atau 1.250.000. Bunga dengan titik atau koma: 1.5 atau 1,5.",
    ),
    ("Umum", "Tanggal: tanggal Excel, 2024-03-31 atau 31/03/2024. Tanggal di masa depan ditolak."),
    ("Umum", "Semua atau tidak sama sekali: bila ada satu kesalahan, tidak ada yang disimpan."),
    (
        "members",
        "Wajib: nik, full_name, gender (L/P), birth_date, joined_on. status: aktif, "
        "keluar (dengan left_on) atau diblokir.",
    ),
    (
        "members",
        "group: nama kelompok (dibuat bila belum ada). business_type: jenis usaha (ditambahkan bila baru).",
    ),
    (
        "loans",
        "Wajib: loan_ref (unik), nik, principal, interest_method "
        "(flat/annuity/declining), monthly_rate_pct, frequency (daily/weekly/monthly), "
        "installments, disbursed_on.",
    ),
    (
        "loans",
        "paid_until dan paid_amount: untuk buku tanpa riwayat pembayaran lengkap, jumlah "
        "yang sudah dibayar sampai tanggal itu.",
    ),
    (
        "repayments",
        "Wajib: loan_ref, paid_on, amount. reversed_on dan reversal_reason: pembayaran "
        "yang dibatalkan sejak tanggal itu.",
    ),
    (
        "events",
        "kind: late_fee_waiver, write_off, recovery (dengan amount) atau restructure "
        "(dengan new_loan_ref: pinjaman baru di lembar loans, dicairkan pada tanggal "
        "restrukturisasi).",
    ),
    (
        "opening",
        "account: kas, bank, modal_hibah, dana_bergulir atau cadangan_risiko; amount lebih dari nol.",
    ),
    (
        "savings",
        "Simpanan anggota, satu baris per setoran atau penarikan. Wajib: nik (anggota di lembar members), "
        "type (pokok, wajib atau sukarela), on (tanggal, tidak sebelum anggota masuk), amount (lebih dari "
        "nol) dan kind (setor atau tarik).",
    ),
    (
        "savings",
        "Saldo tiap jenis simpanan per anggota tidak boleh kurang dari nol pada tanggal mana pun, dihitung "
        "menurut urutan tanggal (setoran pada hari yang sama dihitung lebih dulu). Penarikan di buku lama "
        "dicatat apa adanya, tanpa keputusan ketua; tiap baris mendapat nomor kuitansi dan jurnalnya.",
    ),
    (
        "savings",
        "reversed_on dan reversal_reason: setoran atau penarikan yang dibatalkan sejak tanggal itu.",
    ),
]


def workbook_bytes():
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet, (required, optional, _needed) in SHEETS.items():
        ws = workbook.create_sheet(sheet)
        header = [*required, *optional]
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        examples = EXAMPLES[sheet] if isinstance(EXAMPLES[sheet], list) else [EXAMPLES[sheet]]
        for example in examples:
            ws.append([example.get(column, "") for column in header])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, datetime.date):
                    cell.number_format = "dd/mm/yyyy"
    notes = workbook.create_sheet("catatan")
    notes.append(["Lembar", "Catatan"])
    for row in NOTES:
        notes.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
