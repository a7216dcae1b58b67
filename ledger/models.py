"""Double-entry books per LKMM. Rows are append-only: a mistake is corrected by a new entry.

On PostgreSQL the database enforces this too (migration 0004): UPDATE and DELETE of entries and lines
raise, and every entry must balance, with at least two lines, when its transaction commits.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from institutions.models import Lkmm, LkmmScopedQuerySet


class AccountKind(models.TextChoices):
    ASSET = "asset", _("Aset")
    CONTRA_ASSET = "contra_asset", _("Pengurang aset")
    LIABILITY = "liability", _("Kewajiban")
    EQUITY = "equity", _("Modal")
    INCOME = "income", _("Pendapatan")
    EXPENSE = "expense", _("Beban")


DEBIT_NORMAL = {AccountKind.ASSET, AccountKind.EXPENSE}


class AccountCode:
    """Codes of the standard chart every LKMM gets (see ledger.services.STANDARD_CHART)."""

    KAS = "1101"
    BANK = "1102"
    PIUTANG = "1201"
    # Moves a restructured loan's principal from the old loan to the new one (nets to zero).
    PIUTANG_KLIRING = "1208"
    CADANGAN = "1209"
    # Before members had savings accounts, vouchers posted savings here without naming the member; the
    # balance stays, under a name that says so, until it is assigned (savings migration 0002).
    SIMPANAN_BELUM_TERBAGI = "2101"
    SIMPANAN_POKOK = "2102"
    SIMPANAN_WAJIB = "2103"
    SIMPANAN_SUKARELA = "2104"
    PINJAMAN_BANK = "2201"
    # The year's surplus as the rapat anggota shared it (shu app): the social fund spent on Posyandu,
    # PAUD and poor neighbours, the board's share until paid, and members' shares not yet collected.
    DANA_SOSIAL = "2301"
    DANA_PENGURUS = "2302"
    UTANG_SHU = "2303"
    MODAL_HIBAH = "3101"
    DANA_BERGULIR = "3102"
    CADANGAN_UMUM = "3103"
    # Results of earlier years and of the year so far, once closed into them; until then the statements
    # show the income and expense accounts' balance on these lines (ledger.statements).
    SHU_DITAHAN = "3201"
    SHU_TAHUN_BERJALAN = "3202"
    # A closed year's surplus waiting for the rapat anggota to share it (shu.services year_close moves it
    # here from SHU tahun berjalan on 1 January, so the new year's SHU starts from zero).
    SHU_BELUM_DIBAGI = "3203"
    PENDAPATAN_BUNGA = "4101"
    PENDAPATAN_ADMINISTRASI = "4102"
    PENDAPATAN_DENDA = "4103"
    BEBAN_PENYISIHAN = "5101"
    BEBAN_OPERASIONAL = "5201"


class Account(models.Model):
    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("LKMM"))
    code = models.CharField(_("kode"), max_length=10)
    name = models.CharField(_("nama"), max_length=100)
    kind = models.CharField(_("jenis"), max_length=20, choices=AccountKind.choices)
    # Debit minus credit of every line on the account, kept by ledger.services.entry_post in the entry's
    # transaction (and by the book import), so a balance today is read, not summed from history;
    # check_books compares it with the lines.
    balance_derived = models.BigIntegerField(_("saldo"), default=0, editable=False)

    objects = LkmmScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("akun")
        verbose_name_plural = _("akun")
        ordering = ["lkmm", "code"]
        constraints = [models.UniqueConstraint(fields=["lkmm", "code"], name="ledger_account_unique_code")]
        # Every LKMM's kas account at once, without reading the other 23 accounts of each
        # (ledger.selectors.cash_over_limit on the Dinas home).
        indexes = [
            models.Index(fields=["lkmm"], condition=models.Q(code=AccountCode.KAS), name="ledger_account_kas")
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def debit_normal(self):
        return self.kind in DEBIT_NORMAL


class EntryKind(models.TextChoices):
    OPENING = "opening", _("Saldo awal")
    CASH_IN = "cash_in", _("Kas masuk")
    CASH_OUT = "cash_out", _("Kas keluar")
    TRANSFER = "transfer", _("Pemindahbukuan")
    DISBURSEMENT = "disbursement", _("Pencairan pinjaman")
    FEE = "fee", _("Biaya administrasi")
    REPAYMENT = "repayment", _("Angsuran")
    REVERSAL = "reversal", _("Pembatalan pembayaran")
    REALLOCATION = "reallocation", _("Penyesuaian alokasi")
    WAIVER = "waiver", _("Pembebasan")
    WRITE_OFF = "write_off", _("Hapus buku")
    RECOVERY = "recovery", _("Pemulihan")
    PROVISION = "provision", _("Penyisihan")
    SAVINGS = "savings", _("Simpanan")
    # shu.services: the year's income and expense closed into SHU, its sharing, dana sosial spending.
    YEAR_CLOSE = "year_close", _("Tutup tahun")
    SHU = "shu", _("Pembagian SHU")
    DANA_SOSIAL = "dana_sosial", _("Dana sosial")


class EntryQuerySet(LkmmScopedQuerySet):
    pass


class JournalEntry(models.Model):
    lkmm = models.ForeignKey(
        Lkmm, on_delete=models.PROTECT, related_name="journal_entries", verbose_name=_("LKMM")
    )
    number = models.PositiveIntegerField(_("nomor jurnal"))
    date = models.DateField(_("tanggal"))
    memo = models.CharField(_("keterangan"), max_length=200)
    kind = models.CharField(_("jenis"), max_length=20, choices=EntryKind.choices)
    # The loan an entry belongs to, so each loan's receivable can be read from the books
    # (check_books compares it with the schedule).
    loan = models.ForeignKey(
        "loans.Loan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="journal_entries",
        verbose_name=_("pinjaman"),
    )
    source_type = models.CharField(_("sumber"), max_length=50, blank=True)
    source_id = models.BigIntegerField(_("id sumber"), null=True, blank=True)
    created_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dicatat oleh"),
    )
    # A voucher form carries a token, so a resubmitted form records one voucher (ledger.services).
    token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("jurnal")
        verbose_name_plural = _("jurnal")
        ordering = ["lkmm", "number"]
        constraints = [models.UniqueConstraint(fields=["lkmm", "number"], name="ledger_entry_unique_number")]
        indexes = [
            models.Index(fields=["source_type", "source_id"]),
            # The entries after a date (the kas at the end of yesterday is today's kept balance less them).
            models.Index(fields=["lkmm", "date"], name="ledger_entry_lkmm_date"),
        ]

    def __str__(self):
        return f"{self.code} {self.date:%d/%m/%Y} {self.memo}"

    @property
    def code(self):
        return f"J-{self.number:05d}"


class LineQuerySet(models.QuerySet):
    def balance_by_account(self, *, lkmm, at=None):
        lines = self.filter(account__lkmm=lkmm)
        if at is not None:
            lines = lines.filter(entry__date__lte=at)
        return lines.values("account_id").annotate(
            debit_total=Coalesce(Sum("debit"), 0), credit_total=Coalesce(Sum("credit"), 0)
        )


class JournalLine(models.Model):
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="lines", verbose_name=_("jurnal")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="lines", verbose_name=_("akun")
    )
    debit = models.PositiveBigIntegerField(_("debit"), default=0)
    credit = models.PositiveBigIntegerField(_("kredit"), default=0)

    objects = LineQuerySet.as_manager()

    class Meta:
        verbose_name = _("baris jurnal")
        verbose_name_plural = _("baris jurnal")
        constraints = [
            # Exactly one side carries a positive amount.
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                name="ledger_line_one_side",
            )
        ]

    def __str__(self):
        return f"{self.account.code} D{self.debit} K{self.credit}"


class CashDay(models.Model):
    """The net kas (1101) movement of each day on which kas moved, per LKMM, by value date: kept by
    ledger.services.entries_post in the entry's transaction (and rebuilt from the lines after a bulk
    write: cash_days_refresh). A back-dated entry changes its own day's row only; the kas at the end of
    a day is derived when read (ledger.selectors: the running sum of the rows, or the kas account's
    kept balance less the rows after the day), without summing journal lines. check_books compares
    the rows with the lines."""

    lkmm = models.ForeignKey(Lkmm, on_delete=models.CASCADE, related_name="+", verbose_name=_("LKMM"))
    date = models.DateField(_("tanggal"))
    net = models.BigIntegerField(_("mutasi kas bersih"))

    class Meta:
        verbose_name = _("saldo kas harian")
        verbose_name_plural = _("saldo kas harian")
        ordering = ["lkmm", "date"]
        constraints = [models.UniqueConstraint(fields=["lkmm", "date"], name="ledger_cash_day_unique")]
        # Read from the indexes alone by ledger.selectors.cash_over_limit on the Dinas home: every LKMM's
        # movements after a day (all its LKMMs at once), and one LKMM's days back from a day, newest
        # first, until its run over the limit began (a few rows, without a sort or the table's pages).
        indexes = [
            models.Index(fields=["date", "lkmm", "net"], name="ledger_cash_day_by_date"),
            models.Index(fields=["lkmm", "date", "net"], name="ledger_cash_day_by_lkmm"),
        ]

    def __str__(self):
        return f"{self.lkmm} {self.date:%d/%m/%Y}"


class PeriodClose(models.Model):
    """Month-end close (tutup buku) of one LKMM: entries dated into a closed month are refused, and the
    month's figures are stored as reported. Only an admin reopens a month, with a reason."""

    lkmm = models.ForeignKey(
        Lkmm, on_delete=models.PROTECT, related_name="period_closes", verbose_name=_("LKMM")
    )
    month = models.DateField(_("bulan"), help_text=_("Tanggal 1 bulan yang ditutup."))
    closed_at = models.DateTimeField(_("ditutup pada"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("ditutup oleh"),
    )
    summary = models.JSONField(_("ringkasan"), default=dict)
    reopened_at = models.DateTimeField(_("dibuka kembali pada"), null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dibuka kembali oleh"),
    )
    reopen_reason = models.CharField(_("alasan dibuka kembali"), max_length=200, blank=True)

    objects = LkmmScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("tutup buku")
        verbose_name_plural = _("tutup buku")
        ordering = ["lkmm", "-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["lkmm", "month"],
                condition=Q(reopened_at__isnull=True),
                name="ledger_one_open_close_per_month",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="ledger_close_first_of_month"),
        ]

    def __str__(self):
        return f"{self.lkmm} {self.month:%m/%Y}"


# What a month's stored row holds: the portfolio at the month's end (risk.figures.AGGREGATE_KEYS and the
# reserve held), and what happened in the month (risk.selectors.FLOW_FIGURES).
MONTH_PORTFOLIO_FIELDS = (
    "loans",
    "outstanding",
    "overdue",
    "past_due_loans",
    "npl",
    "par1",
    "par30",
    "par90",
    "required",
    "ksp_problem",
    "held",
)
MONTH_FLOW_FIELDS = (
    "members",
    "borrowers",
    "disbursed",
    "collected",
    "received",
    "due",
    "overdue_at_start",
    "savings",
    "savers",
)


def _amount(label):
    return models.BigIntegerField(label, default=0)


class MonthFigures(models.Model):
    """One LKMM's portfolio figures at the end of a month, stored when the month has ended, closed or not
    (`manage.py store_month_figures`, run daily; or on first read), so month views, trends and the Dinas
    home read rows instead of recomputing the portfolio, and the database can sum, flag and sort them.
    A closed month's row holds the figures its close reported (risk.services.month_close writes them;
    PeriodClose.summary keeps the same figures as the record). An entry or waiver dated into a month
    that is not closed drops the stored rows from that month on (ledger.services.month_figures_forget);
    they are computed again when next needed. The month's flows are kept once computed (flows_kept)."""

    lkmm = models.ForeignKey(Lkmm, on_delete=models.CASCADE, related_name="+", verbose_name=_("LKMM"))
    month = models.DateField(_("bulan"), help_text=_("Tanggal 1 bulan itu."))
    loans = _amount(_("pinjaman beredar"))
    outstanding = _amount(_("sisa pokok"))
    overdue = _amount(_("tunggakan"))
    past_due_loans = _amount(_("pinjaman menunggak"))
    npl = _amount(_("sisa pokok bermasalah (NPL)"))
    par1 = _amount(_("PAR>0"))
    par30 = _amount(_("PAR30"))
    par90 = _amount(_("PAR90"))
    required = _amount(_("cadangan wajib"))
    ksp_problem = _amount(_("pinjaman bermasalah tertimbang"))
    held = _amount(_("cadangan dimiliki"))
    flows_kept = models.BooleanField(_("kegiatan bulan tersimpan"), default=False)
    members = _amount(_("anggota"))
    borrowers = _amount(_("peminjam"))
    disbursed = _amount(_("disalurkan"))
    collected = _amount(_("tertagih"))
    received = _amount(_("diterima untuk angsuran jatuh tempo"))
    due = _amount(_("jatuh tempo"))
    overdue_at_start = _amount(_("tunggakan awal bulan"))
    savings = _amount(_("simpanan anggota"))
    savers = _amount(_("penabung"))
    last_activity = models.DateField(_("kegiatan terakhir"), null=True, blank=True)
    computed_at = models.DateTimeField(_("dihitung pada"), auto_now=True)

    class Meta:
        verbose_name = _("angka akhir bulan")
        verbose_name_plural = _("angka akhir bulan")
        ordering = ["lkmm", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["lkmm", "month"], name="ledger_month_figures_unique"),
            models.CheckConstraint(condition=Q(month__day=1), name="ledger_month_figures_first_of_month"),
        ]
        indexes = [models.Index(fields=["month", "lkmm"], name="ledger_month_figures_month")]

    def __str__(self):
        return f"{self.lkmm} {self.month:%m/%Y}"


class CapitalKind(models.TextChoices):
    HIBAH = "hibah", _("Hibah (APBD)")
    DANA_BERGULIR = "dana_bergulir", _("Dana bergulir")
    PINJAMAN_BANK = "pinjaman_bank", _("Pinjaman bank")


# The account each kind of capital is credited to (ledger.services.capital_source_record).
CAPITAL_ACCOUNTS = {
    CapitalKind.HIBAH: AccountCode.MODAL_HIBAH,
    CapitalKind.DANA_BERGULIR: AccountCode.DANA_BERGULIR,
    CapitalKind.PINJAMAN_BANK: AccountCode.PINJAMAN_BANK,
}


class CapitalSource(models.Model):
    """Money put into an LKMM: a grant from the city's budget, a revolving fund, or a bank loan (with what
    is owed back), so the Dinas sees what was put in beside what it has become. Recorded with its journal
    entry (kas/bank against the capital or liability account) by ledger.services.capital_source_record."""

    lkmm = models.ForeignKey(
        Lkmm, on_delete=models.PROTECT, related_name="capital_sources", verbose_name=_("LKMM")
    )
    received_on = models.DateField(_("tanggal diterima"))
    kind = models.CharField(_("jenis"), max_length=20, choices=CapitalKind.choices)
    source_name = models.CharField(
        _("sumber"),
        max_length=120,
        help_text=_("Misalnya: APBD Kabupaten Jember 2026, SK 12/2026; Bank Jatim."),
    )
    amount = models.PositiveBigIntegerField(_("jumlah diterima"))
    owed_back = models.PositiveBigIntegerField(
        _("jumlah yang harus dikembalikan"),
        default=0,
        help_text=_("Untuk pinjaman bank: pokok ditambah bunganya. 0 untuk hibah dan dana bergulir."),
    )
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, related_name="capital_source", verbose_name=_("jurnal")
    )
    note = models.CharField(_("catatan"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dicatat oleh"),
    )

    objects = LkmmScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("sumber modal")
        verbose_name_plural = _("sumber modal")
        ordering = ["lkmm", "-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_capital_amount_positive"),
            models.CheckConstraint(
                condition=~Q(kind="pinjaman_bank") | Q(owed_back__gte=F("amount")),
                name="ledger_capital_bank_loan_owed_back",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.source_name}"
