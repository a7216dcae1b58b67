"""The year's surplus (SHU, sisa hasil usaha) and the funds it feeds (DOMAIN.md "Savings, the year's
surplus and cash on hand").

SHU is its own app rather than part of `savings`: it is a year-end matter of the whole LKMM that reads the
books (the year's result), the loans (interest each member paid) and the savings (average balances), and
writes to all three; savings is one of its inputs and one of the places a share may go (credited to
sukarela), as cash is another. Its rules (the LKMM's percentages, versioned), the year-end close with the
rapat anggota's decision and the members' shares, and dana sosial spending live here.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from institutions.models import Lkmm, LkmmScopedQuerySet
from ledger.models import AccountCode


class ShuRule(models.Model):
    """The LKMM's percentages of the SHU (its AD/ART) from a year on. An edit is a new version; the
    version in force for a year is the latest of the rows of the latest `from_year` not after it. A
    closed year keeps the version it was divided by (ShuYear.rule)."""

    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="+", verbose_name=_("LKMM"))
    version = models.PositiveIntegerField(_("versi"))
    from_year = models.PositiveSmallIntegerField(_("berlaku mulai tahun"))
    reserve = models.PositiveSmallIntegerField(_("cadangan (modal) %"))
    jasa_simpanan = models.PositiveSmallIntegerField(_("jasa simpanan %"))
    jasa_pinjaman = models.PositiveSmallIntegerField(_("jasa pinjaman %"))
    dana_sosial = models.PositiveSmallIntegerField(_("dana sosial %"))
    pengurus = models.PositiveSmallIntegerField(_("dana pengurus %"))
    note = models.CharField(_("dasar (AD/ART, keputusan rapat)"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("oleh"),
    )

    objects = LkmmScopedQuerySet.as_manager()

    POOLS = ("reserve", "jasa_simpanan", "jasa_pinjaman", "dana_sosial", "pengurus")

    class Meta:
        verbose_name = _("aturan pembagian SHU")
        verbose_name_plural = _("aturan pembagian SHU")
        ordering = ["lkmm", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["lkmm", "version"], name="shu_rule_unique_version"),
            models.CheckConstraint(
                condition=Q(
                    reserve__lte=100,
                    jasa_simpanan__lte=100,
                    jasa_pinjaman__lte=100,
                    dana_sosial__lte=100,
                    pengurus__lte=100,
                ),
                name="shu_rule_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=Q(
                    reserve=100 - F("jasa_simpanan") - F("jasa_pinjaman") - F("dana_sosial") - F("pengurus")
                ),
                name="shu_rule_sums_to_100",
            ),
        ]

    def __str__(self):
        return f"{self.lkmm} v{self.version} ({self.from_year})"

    @property
    def percents(self):
        return {pool: getattr(self, pool) for pool in self.POOLS}


class Settlement(models.TextChoices):
    SUKARELA = "sukarela", _("Ditambahkan ke simpanan sukarela")
    TUNAI = "tunai", _("Dibayar tunai")
    # A member who left (or is blocked) has no savings to credit: the share waits as a payable.
    UTANG = "utang", _("Ditahan sampai diambil")


class Decision(models.TextChoices):
    SUKARELA = "sukarela", _("Ditambahkan ke simpanan sukarela")
    TUNAI = "tunai", _("Dibayar tunai")


class ShuYear(models.Model):
    """One LKMM's closed year: its result, the rule and pools it was divided by, the closing entries, and
    once recorded the rapat anggota's decision with the entry that carried it out."""

    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="+", verbose_name=_("LKMM"))
    year = models.PositiveSmallIntegerField(_("tahun"))
    # Income less expense of the year (negative: a loss, carried in SHU ditahan; no SHU).
    result = models.BigIntegerField(_("SHU (surplus/defisit)"))
    rule = models.ForeignKey(
        ShuRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("aturan")
    )
    # The pools, each rounded down to the rupiah; the reserve's includes the pools' remainder.
    pool_reserve = models.BigIntegerField(_("cadangan"), default=0)
    pool_jasa_simpanan = models.BigIntegerField(_("jasa simpanan"), default=0)
    pool_jasa_pinjaman = models.BigIntegerField(_("jasa pinjaman"), default=0)
    pool_dana_sosial = models.BigIntegerField(_("dana sosial"), default=0)
    pool_pengurus = models.BigIntegerField(_("dana pengurus"), default=0)
    closed_at = models.DateTimeField(_("ditutup pada"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("diputuskan oleh"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("diajukan oleh"),
    )
    closing_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    carry_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The rapat anggota's decision, recorded and carried out by shu.services.shu_distribute.
    decided_on = models.DateField(_("tanggal rapat anggota"), null=True, blank=True)
    decision = models.CharField(_("keputusan"), max_length=10, choices=Decision.choices, blank=True)
    minutes_no = models.CharField(_("nomor berita acara"), max_length=60, blank=True)
    decision_note = models.TextField(_("catatan"), blank=True)
    reserve_total = models.BigIntegerField(_("cadangan diterima"), default=0)
    distributed_at = models.DateTimeField(_("dibagikan pada"), null=True, blank=True)
    distributed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dicatat oleh"),
    )
    distribution_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = LkmmScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("tutup tahun (SHU)")
        verbose_name_plural = _("tutup tahun (SHU)")
        ordering = ["lkmm", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["lkmm", "year"], name="shu_year_unique"),
            models.CheckConstraint(
                condition=Q(result__gt=0) | Q(distributed_at__isnull=True),
                name="shu_year_only_surplus_shared",
            ),
        ]

    def __str__(self):
        return f"{self.lkmm} {self.year}"

    @property
    def pools(self):
        return {
            "reserve": self.pool_reserve,
            "jasa_simpanan": self.pool_jasa_simpanan,
            "jasa_pinjaman": self.pool_jasa_pinjaman,
            "dana_sosial": self.pool_dana_sosial,
            "pengurus": self.pool_pengurus,
        }

    @property
    def distributed(self):
        return self.distributed_at is not None


class ShuReversal(models.Model):
    """A distribution reversed (shu.services.shu_reverse): the rapat anggota's decision as it was recorded
    and carried out, kept here with why, from when and by whom it was reversed, and the entries that
    reversed it. The year then waits for a (corrected) decision again; the reversed shares point here."""

    shu_year = models.ForeignKey(
        ShuYear, on_delete=models.PROTECT, related_name="reversals", verbose_name=_("tahun")
    )
    # The decision as it was recorded on the year.
    decided_on = models.DateField(_("tanggal rapat anggota"))
    decision = models.CharField(_("keputusan"), max_length=10, choices=Decision.choices)
    minutes_no = models.CharField(_("nomor berita acara"), max_length=60, blank=True)
    decision_note = models.TextField(_("catatan"), blank=True)
    reserve_total = models.BigIntegerField(_("cadangan diterima"), default=0)
    distributed_at = models.DateTimeField(_("dibagikan pada"))
    distributed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dicatat oleh"),
    )
    distribution_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The reversal.
    on = models.DateField(_("dibatalkan per"))
    reason = models.TextField(_("alasan pembatalan"))
    reversed_at = models.DateTimeField(_("dibatalkan pada"), auto_now_add=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("dibatalkan oleh"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("diajukan oleh"),
    )
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    cash_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("pembatalan pembagian SHU")
        verbose_name_plural = _("pembatalan pembagian SHU")
        ordering = ["shu_year", "-reversed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(on__gte=F("decided_on")), name="shu_reversal_after_decision"),
        ]

    def __str__(self):
        return f"{self.shu_year} {self.minutes_no}"


class ShuShare(models.Model):
    """A member's share of a distributed year, as it was computed and where it went. The shares of a
    reversed distribution stay, pointing to their reversal; the year's standing shares have none."""

    shu_year = models.ForeignKey(
        ShuYear, on_delete=models.PROTECT, related_name="shares", verbose_name=_("tahun")
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="shu_shares", verbose_name=_("anggota")
    )
    average_savings = models.BigIntegerField(_("rata-rata simpanan"))
    interest_paid = models.BigIntegerField(_("bunga dibayar"))
    jasa_simpanan = models.BigIntegerField(_("jasa simpanan"))
    jasa_pinjaman = models.BigIntegerField(_("jasa pinjaman"))
    total = models.BigIntegerField(_("jumlah SHU"))
    settlement = models.CharField(_("penyelesaian"), max_length=10, choices=Settlement.choices)
    movement = models.ForeignKey(
        "savings.SavingsMovement", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    collected_on = models.DateField(_("diambil pada"), null=True, blank=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dibayar oleh"),
    )
    collection_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reversal = models.ForeignKey(
        ShuReversal,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shares",
        verbose_name=_("dibatalkan dengan"),
    )

    class Meta:
        verbose_name = _("SHU anggota")
        verbose_name_plural = _("SHU anggota")
        ordering = ["shu_year", "member__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["shu_year", "member"],
                condition=Q(reversal__isnull=True),
                name="shu_share_one_standing_per_member",
            ),
            models.CheckConstraint(
                condition=Q(total=F("jasa_simpanan") + F("jasa_pinjaman")), name="shu_share_total_adds_up"
            ),
        ]

    def __str__(self):
        return f"{self.shu_year} {self.member}"

    @property
    def waiting(self):
        return (
            self.settlement == Settlement.UTANG
            and self.collected_on is None
            and self.total > 0
            and self.reversal_id is None
        )


class SosialPurpose(models.TextChoices):
    POSYANDU = "posyandu", _("Posyandu")
    PAUD = "paud", _("PAUD")
    TETANGGA = "tetangga", _("Bantuan tetangga miskin")
    PENGURUS = "pengurus", _("Jasa pengurus")
    LAINNYA = "lainnya", _("Lainnya")


class Fund(models.TextChoices):
    """The funds the SHU's sharing fills, each a liability account of the books."""

    SOSIAL = "sosial", _("Dana sosial")
    PENGURUS = "pengurus", _("Dana pengurus")


FUND_ACCOUNT = {Fund.SOSIAL: AccountCode.DANA_SOSIAL, Fund.PENGURUS: AccountCode.DANA_PENGURUS}


class FundSpending(models.Model):
    """Money spent from dana sosial (Posyandu, PAUD, a poor neighbour) or paid from dana pengurus to the
    board, with what it was for. Corrected by reversal, never edited."""

    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="+", verbose_name=_("LKMM"))
    fund = models.CharField(_("dana"), max_length=10, choices=Fund.choices, default=Fund.SOSIAL)
    on = models.DateField(_("tanggal"))
    purpose = models.CharField(_("untuk"), max_length=10, choices=SosialPurpose.choices)
    description = models.CharField(_("keterangan"), max_length=200)
    amount = models.PositiveBigIntegerField(_("jumlah"))
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("oleh"),
    )
    # Under four eyes, who proposed it (recorded_by is then the approver who decided it).
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("diajukan oleh"),
    )
    reversed_on = models.DateField(_("dibatalkan per"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dibatalkan oleh"),
    )
    reversal_reason = models.TextField(_("alasan pembatalan"), blank=True)
    reversal_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = LkmmScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("penggunaan dana")
        verbose_name_plural = _("penggunaan dana")
        ordering = ["lkmm", "-on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="shu_sosial_amount_positive"),
            models.CheckConstraint(
                condition=Q(reversed_on__isnull=True) | Q(reversed_on__gte=F("on")),
                name="shu_sosial_reversed_after",
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.on:%d/%m/%Y}"
