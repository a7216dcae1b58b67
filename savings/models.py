"""Members' savings (DOMAIN.md "Savings, the year's surplus and cash on hand").

Each member has one account per kind (pokok, wajib, sukarela), opened at admission. A movement is a
deposit or a withdrawal with its kuitansi number from the LKMM's one receipt sequence (shared with
repayments) and its journal entry; a mistaken movement is reversed, never edited or deleted. An
account's balance is kept as a column that the services update in the same transaction
(`balance_derived`); check_books compares it with the movements and with the simpanan accounts.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from institutions.models import Lkmm, LkmmScopedQuerySet
from ledger.models import AccountCode


class SavingsKind(models.TextChoices):
    POKOK = "pokok", _("Simpanan pokok")
    WAJIB = "wajib", _("Simpanan wajib")
    SUKARELA = "sukarela", _("Simpanan sukarela")


# The liability account each kind of savings is owed on.
LEDGER_ACCOUNT = {
    SavingsKind.POKOK: AccountCode.SIMPANAN_POKOK,
    SavingsKind.WAJIB: AccountCode.SIMPANAN_WAJIB,
    SavingsKind.SUKARELA: AccountCode.SIMPANAN_SUKARELA,
}


class WajibFrequency(models.TextChoices):
    """How often the wajib amount falls due (DOMAIN.md: "a fixed amount per meeting or month")."""

    WEEKLY = "mingguan", _("Per pertemuan mingguan")
    MONTHLY = "bulanan", _("Per bulan")


class SavingsProduct(models.Model):
    """An LKMM's rule for one kind of savings: pokok once at joining (the amount), wajib a fixed amount
    per weekly meeting or per month (the amount and the frequency), sukarela any amount (the amount is
    the smallest deposit, 0 for none)."""

    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="+", verbose_name=_("LKMM"))
    kind = models.CharField(_("jenis"), max_length=10, choices=SavingsKind.choices)
    amount = models.PositiveBigIntegerField(
        _("jumlah"),
        help_text=_(
            "Pokok: sekali saat masuk. Wajib: per pertemuan atau per bulan. Sukarela: setoran terkecil "
            "(0 = bebas)."
        ),
    )
    # Only the wajib product uses it; weekly is what every LKMM had before it could choose.
    frequency = models.CharField(
        _("frekuensi"),
        max_length=10,
        choices=WajibFrequency.choices,
        default=WajibFrequency.WEEKLY,
        help_text=_("Untuk simpanan wajib: jatuh tempo setiap pertemuan mingguan atau setiap bulan."),
    )

    objects = LkmmScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("produk simpanan")
        verbose_name_plural = _("produk simpanan")
        ordering = ["lkmm", "kind"]
        constraints = [models.UniqueConstraint(fields=["lkmm", "kind"], name="savings_product_unique_kind")]

    def __str__(self):
        return self.get_kind_display()


class SavingsAccountQuerySet(LkmmScopedQuerySet):
    pass


class SavingsAccount(models.Model):
    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="+", verbose_name=_("LKMM"))
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="savings_accounts",
        verbose_name=_("anggota"),
    )
    kind = models.CharField(_("jenis"), max_length=10, choices=SavingsKind.choices)
    opened_on = models.DateField(_("dibuka pada"))
    # The sum of the movements that are not reversed (savings.services keeps it).
    balance_derived = models.BigIntegerField(_("saldo"), default=0, editable=False)

    objects = SavingsAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("rekening simpanan")
        verbose_name_plural = _("rekening simpanan")
        ordering = ["member", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["member", "kind"], name="savings_account_one_per_kind"),
            models.CheckConstraint(condition=Q(balance_derived__gte=0), name="savings_account_not_negative"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.member}"


class MovementKind(models.TextChoices):
    DEPOSIT = "setor", _("Setoran")
    WITHDRAWAL = "tarik", _("Penarikan")


class MovementQuerySet(LkmmScopedQuerySet):
    def counting(self):
        return self.filter(reversed_on__isnull=True)


class SavingsMovement(models.Model):
    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="+", verbose_name=_("LKMM"))
    account = models.ForeignKey(
        SavingsAccount, on_delete=models.PROTECT, related_name="movements", verbose_name=_("rekening")
    )
    kind = models.CharField(_("jenis"), max_length=10, choices=MovementKind.choices)
    amount = models.PositiveBigIntegerField(_("jumlah"))
    on = models.DateField(_("tanggal"))
    receipt_no = models.PositiveIntegerField(_("nomor kuitansi"))
    note = models.CharField(_("catatan"), max_length=200, blank=True)
    token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    recorded_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("dicatat oleh"),
    )
    reversed_on = models.DateField(_("dibatalkan per"), null=True, blank=True)
    reversed_at = models.DateTimeField(_("dibatalkan pada"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dibatalkan oleh"),
    )
    reversal_reason = models.TextField(_("alasan pembatalan"), blank=True)

    objects = MovementQuerySet.as_manager()

    class Meta:
        verbose_name = _("mutasi simpanan")
        verbose_name_plural = _("mutasi simpanan")
        ordering = ["account", "on", "receipt_no"]
        constraints = [
            # A kuitansi may also carry the member's installments of one collection sheet save (and the
            # wajib and sukarela deposits together); never one account twice.
            models.UniqueConstraint(
                fields=["lkmm", "receipt_no", "account"], name="savings_movement_unique_receipt_account"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="savings_movement_amount_positive"),
            models.CheckConstraint(
                condition=Q(reversed_on__isnull=True) | Q(reversed_on__gte=F("on")),
                name="savings_movement_reversed_after",
            ),
        ]
        indexes = [models.Index(fields=["account", "on"])]

    def __str__(self):
        return f"{self.receipt_code} {self.get_kind_display()}"

    @property
    def receipt_code(self):
        return f"K-{self.receipt_no:06d}"

    @property
    def signed(self):
        return self.amount if self.kind == MovementKind.DEPOSIT else -self.amount
