"""Financial statements from the books (issue 11): neraca, laba rugi and arus kas (direct method) for a
month, quarter or year beside the period before it, for one LKMM or consolidated over many.

Every figure is an aggregate of journal lines grouped by account code in SQL, so one LKMM and the whole
city cost the same few queries: the account sums (one query for both periods), the cash entries' other
lines (one query) and the interest due but unpaid at each period end (one query each).

The results of the year are not closed into the equity accounts by an entry until the SHU is shared: until
then the neraca shows the income and expense accounts' balance as SHU (the year so far as SHU tahun
berjalan, earlier years as SHU ditahan), added to whatever those accounts hold. So the neraca always
balances, and the laba rugi of a period is the change in SHU tahun berjalan over it (within one year).

The year-end close (shu.services.year_close) does close a year by entries: on 31 December it moves the
income and expense accounts' year into SHU tahun berjalan, and on 1 January it moves that into SHU tahun
lalu belum dibagi (a surplus, until the rapat anggota shares it) or SHU ditahan (a loss). The laba rugi
leaves the 31 December closing entry out (EntryKind.YEAR_CLOSE), so a closed year still shows its income
and expense, and the SHU lines come out the same as before the close. The accounts the sharing credits
(dana sosial, dana pengurus, SHU anggota belum dibayarkan, SHU tahun lalu belum dibagi) are named lines
once they hold anything.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import BigIntegerField, Case, F, Min, Q, Sum, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ledger.models import AccountCode, AccountKind, EntryKind, JournalLine

MONTH, QUARTER, YEAR = "bulan", "triwulan", "tahun"
PERIOD_KINDS = [
    (MONTH, gettext_lazy("Bulan")),
    (QUARTER, gettext_lazy("Triwulan")),
    (YEAR, gettext_lazy("Tahun")),
]
CASH_CODES = (AccountCode.KAS, AccountCode.BANK)

MONTH_NAMES = [
    gettext_lazy("Januari"),
    gettext_lazy("Februari"),
    gettext_lazy("Maret"),
    gettext_lazy("April"),
    gettext_lazy("Mei"),
    gettext_lazy("Juni"),
    gettext_lazy("Juli"),
    gettext_lazy("Agustus"),
    gettext_lazy("September"),
    gettext_lazy("Oktober"),
    gettext_lazy("November"),
    gettext_lazy("Desember"),
]


def _month_end(year, month):
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    kind: str
    year: int
    number: int  # the month (1-12), the quarter (1-4) or 1 for a year

    @property
    def start(self):
        first_month = {MONTH: self.number, QUARTER: 3 * self.number - 2, YEAR: 1}[self.kind]
        return datetime.date(self.year, first_month, 1)

    @property
    def end(self):
        last_month = {MONTH: self.number, QUARTER: 3 * self.number, YEAR: 12}[self.kind]
        return _month_end(self.year, last_month)

    @property
    def months(self):
        """The first day of each month in the period."""
        start = self.start
        count = {MONTH: 1, QUARTER: 3, YEAR: 12}[self.kind]
        return [datetime.date(start.year, start.month + k, 1) for k in range(count)]

    def previous(self):
        if self.kind == YEAR:
            return Period(YEAR, self.year - 1, 1)
        last = 12 if self.kind == MONTH else 4
        if self.number == 1:
            return Period(self.kind, self.year - 1, last)
        return Period(self.kind, self.year, self.number - 1)

    @property
    def label(self):
        if self.kind == MONTH:
            return f"{MONTH_NAMES[self.number - 1]} {self.year}"
        if self.kind == QUARTER:
            return _("Triwulan %(q)s %(year)s") % {
                "q": ["I", "II", "III", "IV"][self.number - 1],
                "year": self.year,
            }
        return _("Tahun %(year)s") % {"year": self.year}

    @property
    def query(self):
        """The GET parameters that choose this period (ledger.forms.StatementPeriodForm)."""
        number = {MONTH: "bulan", QUARTER: "triwulan"}.get(self.kind)
        return f"jenis={self.kind}&tahun={self.year}" + (f"&{number}={self.number}" if number else "")


def period_containing(kind, day):
    number = {MONTH: day.month, QUARTER: (day.month - 1) // 3 + 1, YEAR: 1}[kind]
    return Period(kind, day.year, number)


# --- rows -----------------------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    current: int
    previous: int
    code: str = ""


@dataclass
class Section:
    title: str
    rows: list
    total_label: str = ""

    @property
    def current(self):
        return sum(row.current for row in self.rows)

    @property
    def previous(self):
        return sum(row.previous for row in self.rows)


@dataclass
class Statement:
    """A statement's sections and its closing lines (label, current, previous), printed in bold."""

    title: str
    sections: list
    totals: list = field(default_factory=list)


# Labels of the standard accounts as the statements name them; other accounts keep their own names.
LABELS = {
    AccountCode.KAS: gettext_lazy("Kas"),
    AccountCode.BANK: gettext_lazy("Bank"),
    AccountCode.PIUTANG: gettext_lazy("Piutang pinjaman anggota"),
    AccountCode.CADANGAN: gettext_lazy("Cadangan risiko pinjaman (pengurang)"),
    AccountCode.SIMPANAN_BELUM_TERBAGI: gettext_lazy("Simpanan lama belum terbagi ke anggota"),
    AccountCode.SIMPANAN_POKOK: gettext_lazy("Simpanan pokok"),
    AccountCode.SIMPANAN_WAJIB: gettext_lazy("Simpanan wajib"),
    AccountCode.SIMPANAN_SUKARELA: gettext_lazy("Simpanan sukarela"),
    AccountCode.PINJAMAN_BANK: gettext_lazy("Pinjaman bank"),
    AccountCode.DANA_SOSIAL: gettext_lazy("Dana sosial"),
    AccountCode.DANA_PENGURUS: gettext_lazy("Dana pengurus"),
    AccountCode.UTANG_SHU: gettext_lazy("SHU anggota belum dibayarkan"),
    AccountCode.MODAL_HIBAH: gettext_lazy("Modal hibah (APBD)"),
    AccountCode.DANA_BERGULIR: gettext_lazy("Dana bergulir"),
    AccountCode.CADANGAN_UMUM: gettext_lazy("Cadangan umum"),
    AccountCode.SHU_DITAHAN: gettext_lazy("SHU ditahan"),
    AccountCode.SHU_TAHUN_BERJALAN: gettext_lazy("SHU tahun berjalan"),
    AccountCode.SHU_BELUM_DIBAGI: gettext_lazy("SHU tahun lalu belum dibagi"),
    AccountCode.PENDAPATAN_BUNGA: gettext_lazy("Pendapatan bunga (jasa) pinjaman"),
    AccountCode.PENDAPATAN_ADMINISTRASI: gettext_lazy("Pendapatan administrasi"),
    AccountCode.PENDAPATAN_DENDA: gettext_lazy("Pendapatan denda"),
    AccountCode.BEBAN_PENYISIHAN: gettext_lazy("Beban penyisihan pinjaman"),
    AccountCode.BEBAN_OPERASIONAL: gettext_lazy("Beban operasional"),
}
# Lines every neraca and laba rugi shows, even at zero, in this order (others follow by code).
SHOWN = {
    "assets": [AccountCode.KAS, AccountCode.BANK, AccountCode.PIUTANG, AccountCode.CADANGAN],
    "liabilities": [
        AccountCode.SIMPANAN_POKOK,
        AccountCode.SIMPANAN_WAJIB,
        AccountCode.SIMPANAN_SUKARELA,
        AccountCode.PINJAMAN_BANK,
    ],
    "equity": [AccountCode.MODAL_HIBAH, AccountCode.DANA_BERGULIR, AccountCode.CADANGAN_UMUM],
    "income": [
        AccountCode.PENDAPATAN_BUNGA,
        AccountCode.PENDAPATAN_ADMINISTRASI,
        AccountCode.PENDAPATAN_DENDA,
    ],
    "expense": [AccountCode.BEBAN_PENYISIHAN, AccountCode.BEBAN_OPERASIONAL],
}
RESULT_CODES = (AccountCode.SHU_DITAHAN, AccountCode.SHU_TAHUN_BERJALAN)
# The restructuring clearing account nets to zero; it is shown within the receivable.
FOLDED = {AccountCode.PIUTANG_KLIRING: AccountCode.PIUTANG}
GROUP_OF_KIND = {
    AccountKind.ASSET: "assets",
    AccountKind.CONTRA_ASSET: "assets",
    AccountKind.LIABILITY: "liabilities",
    AccountKind.EQUITY: "equity",
    AccountKind.INCOME: "income",
    AccountKind.EXPENSE: "expense",
}
CREDIT_NORMAL = {AccountKind.LIABILITY, AccountKind.EQUITY, AccountKind.INCOME}


def _sum_if(condition):
    return Sum(
        Case(When(condition, then=F("debit") - F("credit")), default=Value(0)), output_field=BigIntegerField()
    )


def _year_start(day):
    return day.replace(month=1, day=1)


def in_period(period):
    """The lines of a period's laba rugi: its entries but the year-end close's."""
    return Q(entry__date__gte=period.start, entry__date__lte=period.end) & ~Q(
        entry__kind=EntryKind.YEAR_CLOSE
    )


@dataclass
class Books:
    """Per account code: name, kind and the signed sums (debit - credit) the statements need."""

    accounts: dict

    def value(self, code, key):
        """The account's figure `key` in its normal sign (credit-normal accounts: credit - debit)."""
        account = self.accounts.get(code)
        if account is None:
            return 0
        return -account[key] if account["kind"] in CREDIT_NORMAL else account[key]

    def result(self, key):
        """Income less expense over the sums `key`: the SHU those lines hold."""
        return -sum(
            account[key]
            for account in self.accounts.values()
            if account["kind"] in (AccountKind.INCOME, AccountKind.EXPENSE)
        )

    def codes(self, group):
        shown = SHOWN.get(group, [])
        others = sorted(
            code
            for code, account in self.accounts.items()
            if GROUP_OF_KIND[account["kind"]] == group
            and code not in shown
            and code not in RESULT_CODES
            and code not in FOLDED
        )
        return [*shown, *others]

    def label(self, code):
        if code in LABELS:
            return str(LABELS[code])
        account = self.accounts.get(code)
        return account["name"] if account else code


def books(lkmms, period, previous):
    """The account sums of the LKMMs (a queryset or list of LKMMs) for `period` and `previous`: one query."""
    rows = (
        JournalLine.objects.filter(account__lkmm__in=lkmms)
        .values("account__code", "account__kind")
        .annotate(
            name=Min("account__name"),
            at_end=_sum_if(Q(entry__date__lte=period.end)),
            before_year=_sum_if(Q(entry__date__lt=_year_start(period.end))),
            in_period=_sum_if(in_period(period)),
            prev_at_end=_sum_if(Q(entry__date__lte=previous.end)),
            prev_before_year=_sum_if(Q(entry__date__lt=_year_start(previous.end))),
            prev_in_period=_sum_if(in_period(previous)),
        )
        .order_by()
    )
    accounts = {}
    keys = ("at_end", "before_year", "in_period", "prev_at_end", "prev_before_year", "prev_in_period")
    for row in rows:
        code = FOLDED.get(row["account__code"], row["account__code"])
        account = accounts.setdefault(
            code, {"kind": row["account__kind"], "name": row["name"], **dict.fromkeys(keys, 0)}
        )
        for key in keys:
            account[key] += row[key] or 0
    return Books(accounts)


def _rows(book, group, key, prev_key):
    return [
        Row(book.label(code), book.value(code, key), book.value(code, prev_key), code)
        for code in book.codes(group)
    ]


def shu_rows(book):
    """SHU ditahan and SHU tahun berjalan at the period's end and the previous period's."""
    held = Row(
        str(LABELS[AccountCode.SHU_DITAHAN]),
        book.value(AccountCode.SHU_DITAHAN, "at_end") + book.result("before_year"),
        book.value(AccountCode.SHU_DITAHAN, "prev_at_end") + book.result("prev_before_year"),
        AccountCode.SHU_DITAHAN,
    )
    current = Row(
        str(LABELS[AccountCode.SHU_TAHUN_BERJALAN]),
        book.value(AccountCode.SHU_TAHUN_BERJALAN, "at_end")
        + book.result("at_end")
        - book.result("before_year"),
        book.value(AccountCode.SHU_TAHUN_BERJALAN, "prev_at_end")
        + book.result("prev_at_end")
        - book.result("prev_before_year"),
        AccountCode.SHU_TAHUN_BERJALAN,
    )
    return held, current


def neraca(book):
    assets = Section(_("Aset"), _rows(book, "assets", "at_end", "prev_at_end"), _("Jumlah aset"))
    liabilities = Section(
        _("Kewajiban"), _rows(book, "liabilities", "at_end", "prev_at_end"), _("Jumlah kewajiban")
    )
    equity = Section(
        _("Ekuitas"), [*_rows(book, "equity", "at_end", "prev_at_end"), *shu_rows(book)], _("Jumlah ekuitas")
    )
    return Statement(
        _("Neraca (laporan posisi keuangan)"),
        [assets, liabilities, equity],
        [
            (_("Jumlah aset"), assets.current, assets.previous),
            (
                _("Jumlah kewajiban dan ekuitas"),
                liabilities.current + equity.current,
                liabilities.previous + equity.previous,
            ),
        ],
    )


def laba_rugi(book):
    income = Section(
        _("Pendapatan"), _rows(book, "income", "in_period", "prev_in_period"), _("Jumlah pendapatan")
    )
    expense = Section(_("Beban"), _rows(book, "expense", "in_period", "prev_in_period"), _("Jumlah beban"))
    return Statement(
        _("Laba rugi (laporan kinerja keuangan)"),
        [income, expense],
        [
            (
                _("SHU periode ini (surplus/defisit)"),
                income.current - expense.current,
                income.previous - expense.previous,
            )
        ],
    )


# --- arus kas -------------------------------------------------------------------------------------------

# The direct method: every entry that moves kas or bank is classified by its other lines. For each such
# line, what it credits came into the cash and what it debits went out of it; since every entry balances,
# these add up to the cash entries' own net movement. A line's side matters for some accounts (a
# receivable credited is a principal collection, debited a disbursement), so both sides are summed.
# (label, code, side): side "credit" counts only credits (as inflows), "debit" only debits (as outflows),
# "net" both.
OPERATING = "operasi"
FINANCING = "pendanaan"
# Members' savings of every kind (and what vouchers once put in 2101) are one cash-flow line each way.
SAVINGS_CODES = (
    AccountCode.SIMPANAN_BELUM_TERBAGI,
    AccountCode.SIMPANAN_POKOK,
    AccountCode.SIMPANAN_WAJIB,
    AccountCode.SIMPANAN_SUKARELA,
)
CASH_FLOW_LINES = [
    (OPERATING, gettext_lazy("Penerimaan angsuran pokok pinjaman"), AccountCode.PIUTANG, "credit"),
    (OPERATING, gettext_lazy("Penerimaan bunga (jasa) pinjaman"), AccountCode.PENDAPATAN_BUNGA, "net"),
    (OPERATING, gettext_lazy("Penerimaan biaya administrasi"), AccountCode.PENDAPATAN_ADMINISTRASI, "net"),
    (OPERATING, gettext_lazy("Penerimaan denda"), AccountCode.PENDAPATAN_DENDA, "net"),
    (OPERATING, gettext_lazy("Penerimaan pinjaman yang sudah dihapus buku"), AccountCode.CADANGAN, "net"),
    (OPERATING, gettext_lazy("Pencairan pinjaman"), AccountCode.PIUTANG, "debit"),
    (OPERATING, gettext_lazy("Pembayaran beban operasional"), AccountCode.BEBAN_OPERASIONAL, "net"),
    (OPERATING, gettext_lazy("Setoran simpanan anggota"), SAVINGS_CODES, "credit"),
    (OPERATING, gettext_lazy("Penarikan simpanan anggota"), SAVINGS_CODES, "debit"),
    (OPERATING, gettext_lazy("Penggunaan dana sosial"), AccountCode.DANA_SOSIAL, "net"),
    (FINANCING, gettext_lazy("Penerimaan modal hibah (APBD)"), AccountCode.MODAL_HIBAH, "net"),
    (FINANCING, gettext_lazy("Penerimaan dana bergulir"), AccountCode.DANA_BERGULIR, "net"),
    (FINANCING, gettext_lazy("Penerimaan pinjaman bank"), AccountCode.PINJAMAN_BANK, "credit"),
    (FINANCING, gettext_lazy("Pembayaran pinjaman bank"), AccountCode.PINJAMAN_BANK, "debit"),
    (
        FINANCING,
        gettext_lazy("Pembayaran SHU kepada anggota dan pengurus"),
        (AccountCode.UTANG_SHU, AccountCode.DANA_PENGURUS),
        "net",
    ),
]
CLASSIFIED = {
    code
    for _section, _label, codes, _side in CASH_FLOW_LINES
    for code in (codes if isinstance(codes, tuple) else (codes,))
}


def _side_sum(side, condition):
    amount = F("credit") if side == "credit" else F("debit")
    return Sum(Case(When(condition, then=amount), default=Value(0)), output_field=BigIntegerField())


def cash_counter_lines(lkmms, period, previous):
    """{code: {in_credit, in_debit, prev_credit, prev_debit}}: the lines opposite kas and bank. One query."""
    cash_entries = JournalLine.objects.filter(account__lkmm__in=lkmms, account__code__in=CASH_CODES).values(
        "entry_id"
    )
    current = Q(entry__date__gte=period.start, entry__date__lte=period.end)
    before = Q(entry__date__gte=previous.start, entry__date__lte=previous.end)
    rows = (
        JournalLine.objects.filter(account__lkmm__in=lkmms, entry_id__in=cash_entries)
        .exclude(account__code__in=CASH_CODES)
        .filter(current | before)
        .values("account__code")
        .annotate(
            in_credit=_side_sum("credit", current),
            in_debit=_side_sum("debit", current),
            prev_credit=_side_sum("credit", before),
            prev_debit=_side_sum("debit", before),
        )
        .order_by()
    )
    result = {}
    for row in rows:
        code = FOLDED.get(row["account__code"], row["account__code"])
        keys = ("in_credit", "in_debit", "prev_credit", "prev_debit")
        sums = result.setdefault(code, dict.fromkeys(keys, 0))
        for key in sums:
            sums[key] += row[key] or 0
    return result


def arus_kas(book, counter):
    def amount(code, side, prefix="in_"):
        if isinstance(code, tuple):
            return sum(amount(one, side, prefix) for one in code)
        sums = counter.get(code, {})
        credit, debit = sums.get(prefix + "credit", 0), sums.get(prefix + "debit", 0)
        return {"credit": credit, "debit": -debit, "net": credit - debit}[side]

    sections = []
    for key, title, total_label in [
        (
            OPERATING,
            _("Arus kas dari kegiatan operasi (simpan pinjam)"),
            _("Arus kas bersih dari kegiatan operasi"),
        ),
        (FINANCING, _("Arus kas dari kegiatan pendanaan"), _("Arus kas bersih dari kegiatan pendanaan")),
    ]:
        rows = [
            Row(
                str(label),
                amount(code, side),
                amount(code, side, "prev_"),
                code if isinstance(code, str) else "",
            )
            for section, label, code, side in CASH_FLOW_LINES
            if section == key
        ]
        sections.append(Section(title, rows, total_label))
    others = [
        Row(book.label(code), amount(code, "net"), amount(code, "net", "prev_"), code)
        for code in sorted(counter)
        if code not in CLASSIFIED
    ]
    if others:
        sections.append(Section(_("Arus kas lainnya"), others, _("Arus kas bersih lainnya")))
    net = sum(section.current for section in sections)
    prev_net = sum(section.previous for section in sections)
    closing = sum(book.value(code, "at_end") for code in CASH_CODES)
    prev_closing = sum(book.value(code, "prev_at_end") for code in CASH_CODES)
    # The opening balance is what kas and bank held before the period: their balance at its end less
    # their own movement in it.
    opening = closing - sum(book.value(code, "in_period") for code in CASH_CODES)
    prev_opening = prev_closing - sum(book.value(code, "prev_in_period") for code in CASH_CODES)
    return Statement(
        _("Arus kas (metode langsung)"),
        sections,
        [
            (_("Kenaikan (penurunan) kas dan bank"), net, prev_net),
            (_("Kas dan bank awal periode"), opening, prev_opening),
            (_("Kas dan bank akhir periode"), opening + net, prev_opening + prev_net),
        ],
    )


# --- memorandum: interest due but unpaid ----------------------------------------------------------------


def interest_due_unpaid(lkmms, at):
    """Interest of installments due before `at` not paid (nor waived) by the end of `at`, over the loans
    of the LKMMs that are not written off or restructured away by then (DOMAIN.md: income is recognised
    when received, so this is a memorandum figure, not in the books). From today on it reads the kept
    standing (loans.standing); at an earlier date the payments and waivers that count at `at`. One query."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce, Greatest
    from django.utils import timezone

    from loans.models import DISBURSED_STATUSES, Allocation, Installment, Waiver

    installments = Installment.objects.filter(
        loan__lkmm__in=lkmms,
        loan__status__in=DISBURSED_STATUSES,
        loan__disbursed_on__lte=at,
        due_date__lt=at,
    ).filter(
        Q(loan__written_off_on__isnull=True) | Q(loan__written_off_on__gt=at),
        Q(loan__transferred_on__isnull=True) | Q(loan__transferred_on__gt=at),
    )
    if at >= timezone.localdate():
        unpaid = F("interest") - F("interest_waived_derived") - F("interest_paid_derived")
        installments = installments.filter(open_derived=True)
    else:

        def interest_of(queryset):
            total = queryset.values("installment").annotate(total=Sum("interest")).values("total")
            return Coalesce(Subquery(total, output_field=BigIntegerField()), Value(0))

        waived = Waiver.objects.filter(installment=OuterRef("pk"), on__lte=at)
        paid = Allocation.objects.counting_at(at).filter(installment=OuterRef("pk"))
        unpaid = F("interest") - interest_of(waived) - interest_of(paid)
    total = installments.annotate(
        unpaid=Greatest(unpaid, Value(0), output_field=BigIntegerField())
    ).aggregate(total=Sum("unpaid"))["total"]
    return total or 0


@dataclass
class Statements:
    period: Period
    previous: Period
    neraca: Statement
    laba_rugi: Statement
    arus_kas: Statement
    memo: Row

    @property
    def all(self):
        return [self.neraca, self.laba_rugi, self.arus_kas]


def statements_for(lkmms, period):
    """The three statements and the memorandum line for the LKMMs (a queryset, or a list of LKMMs) over
    `period` beside the period before it. Five queries whatever the number of LKMMs."""
    from django.utils import timezone

    today = timezone.localdate()
    previous = period.previous()
    book = books(lkmms, period, previous)
    counter = cash_counter_lines(lkmms, period, previous)
    memo = Row(
        _("Bunga jatuh tempo belum diterima (memorandum, di luar neraca)"),
        interest_due_unpaid(lkmms, min(period.end, today)),
        interest_due_unpaid(lkmms, min(previous.end, today)),
    )
    return Statements(period, previous, neraca(book), laba_rugi(book), arus_kas(book, counter), memo)
