"""Loan quality policies as data (DOMAIN.md "Arrears and loan quality"): classes with days-past-due
thresholds per installment frequency, reserve rates, a non-performing flag and a KSP weight."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class QualityPolicy(models.Model):
    code = models.SlugField(_("kode"), max_length=30, unique=True)
    name = models.CharField(_("nama"), max_length=120)
    description = models.TextField(_("keterangan"), blank=True)
    built_in = models.BooleanField(
        _("bawaan"),
        default=False,
        help_text=_("Kebijakan bawaan tidak diubah; buat salinan untuk menyesuaikan."),
    )

    class Meta:
        verbose_name = _("kebijakan kualitas pinjaman")
        verbose_name_plural = _("kebijakan kualitas pinjaman")
        ordering = ["code"]

    def __str__(self):
        return self.name


class QualityClass(models.Model):
    """One class of a policy. A loan falls in the first class (by position) whose threshold for the
    loan's installment frequency is at least its days past due; an empty threshold has no upper bound."""

    policy = models.ForeignKey(
        QualityPolicy, on_delete=models.CASCADE, related_name="classes", verbose_name=_("kebijakan")
    )
    position = models.PositiveSmallIntegerField(_("urutan"))
    code = models.CharField(_("kode"), max_length=10)
    name = models.CharField(_("nama"), max_length=60)
    max_dpd_daily = models.PositiveIntegerField(_("hari tunggak maks. (harian)"), null=True, blank=True)
    max_dpd_weekly = models.PositiveIntegerField(_("hari tunggak maks. (mingguan)"), null=True, blank=True)
    max_dpd_monthly = models.PositiveIntegerField(_("hari tunggak maks. (bulanan)"), null=True, blank=True)
    reserve_rate = models.DecimalField(
        _("tarif cadangan (%)"), max_digits=5, decimal_places=2, validators=PERCENT
    )
    non_performing = models.BooleanField(_("bermasalah (NPL)"), default=False)
    ksp_weight = models.DecimalField(
        _("bobot pinjaman bermasalah KSP (%)"), max_digits=5, decimal_places=2, default=0, validators=PERCENT
    )

    class Meta:
        verbose_name = _("kelas kualitas")
        verbose_name_plural = _("kelas kualitas")
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="risk_class_unique_position"),
            models.UniqueConstraint(fields=["policy", "code"], name="risk_class_unique_code"),
            models.CheckConstraint(
                condition=Q(reserve_rate__gte=0, reserve_rate__lte=100), name="risk_class_rate_percent"
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def max_dpd(self, frequency):
        return getattr(self, f"max_dpd_{frequency}")


class Recovery(models.Model):
    """Money received on a written-off loan; it goes back into the risk reserve."""

    loan = models.ForeignKey(
        "loans.Loan", on_delete=models.PROTECT, related_name="recoveries", verbose_name=_("pinjaman")
    )
    amount = models.PositiveBigIntegerField(_("jumlah"))
    received_on = models.DateField(_("tanggal diterima"))
    note = models.CharField(_("catatan"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dicatat oleh"),
    )

    class Meta:
        verbose_name = _("pemulihan pinjaman hapus buku")
        verbose_name_plural = _("pemulihan pinjaman hapus buku")
        ordering = ["received_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="risk_recovery_amount_positive")
        ]

    def __str__(self):
        return f"{self.loan} {self.amount}"


class ClosedLoanFigure(models.Model):
    """A loan's figures at the end of a closed month, as reported (reports of that month read these)."""

    period_close = models.ForeignKey(
        "ledger.PeriodClose",
        on_delete=models.PROTECT,
        related_name="loan_figures",
        verbose_name=_("tutup buku"),
    )
    loan = models.ForeignKey(
        "loans.Loan", on_delete=models.PROTECT, related_name="+", verbose_name=_("pinjaman")
    )
    outstanding = models.PositiveBigIntegerField(_("sisa pokok"))
    overdue = models.BigIntegerField(_("tunggakan"))
    late_fees = models.BigIntegerField(_("denda"))
    days_past_due = models.PositiveIntegerField(_("hari tunggak"))
    quality_class = models.ForeignKey(
        QualityClass, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("kelas")
    )
    reserve_rate = models.DecimalField(_("tarif cadangan (%)"), max_digits=5, decimal_places=2)
    # round_half_up(reserve_rate% x outstanding): the loan's own row of the PPAP; the close's summary
    # "required" is the sum of these.
    required_reserve = models.PositiveBigIntegerField(_("PPAP wajib"))

    class Meta:
        verbose_name = _("angka pinjaman tutup buku")
        verbose_name_plural = _("angka pinjaman tutup buku")
        constraints = [
            models.UniqueConstraint(fields=["period_close", "loan"], name="risk_closed_figure_unique_loan")
        ]

    def __str__(self):
        return f"{self.period_close} {self.loan}"
