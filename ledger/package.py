"""The quarterly package an LKM owes the kabupaten/kota (SEOJK 1/SEOJK.06/2025, DOMAIN.md "Accounts and
reports"): neraca and laba rugi, the maximum-interest-rate report (each active product's rate and its
equivalent effective rate, at the product's largest amount and full term) and notes with detail lists
(loans by quality class, the loan-loss reserve, capital sources). For one LKMM or consolidated; a fixed
number of queries whatever the number of LKMMs."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ledger.models import AccountCode, CapitalKind, CapitalSource
from ledger.statements import Statements, statements_for
from reports import exports


@dataclass
class Package:
    statements: Statements
    at: object  # the date the notes are as of: the quarter's end, or today while it runs
    products: list
    classes: list
    class_totals: dict
    reserve_required: int
    reserve_held: int
    capital: list
    capital_by_kind: list
    capital_total: int
    equity: int

    @property
    def coverage(self):
        if not self.reserve_required:
            return None
        return (Decimal(self.reserve_held) * 100 / self.reserve_required).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )


def rate_report(lkmms):
    """Every active loan product of the LKMMs with its monthly rate, the nominal rate a year, and its
    equivalent effective rate a year (DOMAIN.md). One query."""
    from loans.models import LoanProduct
    from loans.selectors import product_effective_rate

    products = list(
        LoanProduct.objects.filter(lkmm__in=lkmms, is_active=True)
        .select_related("lkmm")
        .order_by("lkmm__name", "name")
    )
    for product in products:
        product.nominal_rate = product.rate_per_month * 12
        product.effective_rate = product_effective_rate(product)
    return products


def loans_by_class(lkmm_ids, at):
    """Loans outstanding at `at` per quality class (classes of the same code and name across the LKMMs'
    policies are one row). An LKMM whose month ending on `at` is closed gives the figures stored at the
    close, as they were reported; the others' are computed as risk.figures computes them. Four queries."""
    from django.db.models import Count

    from ledger.models import PeriodClose
    from risk.figures import totals_by_class
    from risk.models import ClosedLoanFigure, QualityClass

    closes = (
        dict(
            PeriodClose.objects.filter(
                lkmm__in=lkmm_ids, month=at.replace(day=1), reopened_at__isnull=True
            ).values_list("lkmm_id", "pk")
        )
        if at == _month_end(at)
        else {}
    )
    rows = list(
        ClosedLoanFigure.objects.filter(period_close__in=list(closes.values()))
        .values("quality_class_id")
        .annotate(loans=Count("pk"), outstanding=Sum("outstanding"), required=Sum("required_reserve"))
        .order_by()
    )
    rows += totals_by_class(at, lkmms=[pk for pk in lkmm_ids if pk not in closes])
    classes = QualityClass.objects.in_bulk(
        [row["quality_class_id"] for row in rows if row["quality_class_id"]]
    )
    merged = {}
    for row in rows:
        quality_class = classes.get(row["quality_class_id"])
        key = (quality_class.code, quality_class.name) if quality_class else ("", _("Tanpa kelas"))
        target = merged.setdefault(
            key,
            {
                "code": key[0],
                "name": key[1],
                "position": quality_class.position if quality_class else 99,
                "non_performing": bool(quality_class and quality_class.non_performing),
                "loans": 0,
                "outstanding": 0,
                "required": 0,
            },
        )
        for name in ("loans", "outstanding", "required"):
            target[name] += row[name] or 0
    return sorted(merged.values(), key=lambda row: (row["position"], row["code"]))


def _month_end(day):
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def package_for(lkmms, period):
    result = statements_for(lkmms, period)
    at = min(period.end, timezone.localdate())
    lkmm_ids = list(lkmms.values_list("pk", flat=True))
    classes = loans_by_class(lkmm_ids, at)
    totals = {name: sum(row[name] for row in classes) for name in ("loans", "outstanding", "required")}
    capital = list(
        CapitalSource.objects.filter(lkmm__in=lkmms, received_on__lte=period.end)
        .select_related("lkmm")
        .order_by("received_on", "pk")
    )
    by_kind = dict(
        CapitalSource.objects.filter(lkmm__in=lkmms, received_on__lte=period.end)
        .values("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    )
    held = -next(row.current for row in result.neraca.sections[0].rows if row.code == AccountCode.CADANGAN)
    return Package(
        statements=result,
        at=at,
        products=rate_report(lkmms),
        classes=classes,
        class_totals=totals,
        reserve_required=totals["required"],
        reserve_held=held,
        capital=capital,
        capital_by_kind=[(label, by_kind.get(kind, 0)) for kind, label in CapitalKind.choices],
        capital_total=sum(by_kind.values()),
        equity=result.neraca.sections[2].current,
    )


def package_blocks(content, statement_blocks):
    """The package as download tables: neraca, laba rugi, the rate report, then the notes."""
    result = content.statements
    blocks = statement_blocks(result)[:2]
    blocks.append(
        exports.Block(
            [
                _("Laporan suku bunga maksimum: LKMM"),
                _("Produk"),
                _("Metode bunga"),
                _("Frekuensi"),
                _("Jumlah angsuran"),
                _("Pinjaman maksimal"),
                _("Bunga per bulan (%)"),
                _("Bunga nominal per tahun (%)"),
                _("Biaya administrasi (%)"),
                _("Bunga efektif per tahun (%)"),
            ],
            [
                [
                    product.lkmm.name,
                    product.name,
                    product.get_interest_method_display(),
                    product.get_frequency_display(),
                    product.installment_count,
                    product.max_amount,
                    product.rate_per_month,
                    product.nominal_rate,
                    product.admin_fee_percent,
                    product.effective_rate,
                ]
                for product in content.products
            ],
        )
    )
    blocks.append(
        exports.Block(
            [
                _("Catatan 1: pinjaman per kelas kualitas"),
                _("Jumlah pinjaman"),
                _("Sisa pokok"),
                _("PPAP wajib"),
            ],
            [
                [f"{row['code']} {row['name']}".strip(), row["loans"], row["outstanding"], row["required"]]
                for row in content.classes
            ],
            [
                [
                    _("Jumlah"),
                    content.class_totals["loans"],
                    content.class_totals["outstanding"],
                    content.reserve_required,
                ]
            ],
        )
    )
    blocks.append(
        exports.Block(
            [_("Catatan 2: cadangan risiko pinjaman"), _("Nilai")],
            [
                [_("PPAP wajib"), content.reserve_required],
                [_("Cadangan dimiliki"), content.reserve_held],
                [_("Cakupan cadangan (%)"), content.coverage],
            ],
        )
    )
    blocks.append(
        exports.Block(
            [
                _("Catatan 3: sumber modal"),
                _("LKMM"),
                _("Tanggal diterima"),
                _("Jenis"),
                _("Jumlah"),
                _("Harus dikembalikan"),
            ],
            [
                [
                    source.source_name,
                    source.lkmm.name,
                    source.received_on,
                    source.get_kind_display(),
                    source.amount,
                    source.owed_back,
                ]
                for source in content.capital
            ],
            [
                *[[label, None, None, None, total, None] for label, total in content.capital_by_kind],
                [_("Jumlah modal diterima"), None, None, None, content.capital_total, None],
                [_("Ekuitas per akhir periode"), None, None, None, content.equity, None],
            ],
        )
    )
    return blocks
