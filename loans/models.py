import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from institutions.models import ROUNDING_UNITS, Lkmm, LkmmScopedQuerySet
from loans import schedule
from members.models import Member


class InterestMethod(models.TextChoices):
    FLAT = schedule.Method.FLAT, _("Flat")
    ANNUITY = schedule.Method.ANNUITY, _("Anuitas (efektif)")
    DECLINING = schedule.Method.DECLINING, _("Menurun (pokok tetap)")


class Frequency(models.TextChoices):
    DAILY = schedule.Frequency.DAILY, _("Harian")
    WEEKLY = schedule.Frequency.WEEKLY, _("Mingguan")
    MONTHLY = schedule.Frequency.MONTHLY, _("Bulanan")


class LoanProduct(models.Model):
    lkmm = models.ForeignKey(
        Lkmm, on_delete=models.PROTECT, related_name="loan_products", verbose_name=_("LKMM")
    )
    name = models.CharField(_("nama produk"), max_length=80)
    interest_method = models.CharField(
        _("metode bunga"),
        max_length=20,
        choices=InterestMethod.choices,
        default=InterestMethod.FLAT,
    )
    frequency = models.CharField(
        _("frekuensi angsuran"), max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    rate_per_month = models.DecimalField(
        _("bunga per bulan (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    installment_count = models.PositiveSmallIntegerField(
        _("jumlah angsuran"), validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    rounding_unit = models.PositiveIntegerField(_("satuan pembulatan"), choices=ROUNDING_UNITS)
    min_amount = models.PositiveBigIntegerField(_("pinjaman minimal"), default=100_000)
    max_amount = models.PositiveBigIntegerField(_("pinjaman maksimal"), default=2_000_000)
    is_active = models.BooleanField(_("aktif"), default=True)

    objects = LkmmScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("produk pinjaman")
        verbose_name_plural = _("produk pinjaman")
        ordering = ["lkmm", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["lkmm", "name"],
                name="loans_product_unique_name",
                violation_error_message=_("LKMM ini sudah punya produk dengan nama ini."),
            ),
            models.CheckConstraint(
                condition=Q(min_amount__lte=F("max_amount")),
                name="loans_product_min_le_max",
                violation_error_message=_("Pinjaman minimal tidak boleh melebihi maksimal."),
            ),
            models.CheckConstraint(
                condition=Q(rate_per_month__gte=0), name="loans_product_rate_not_negative"
            ),
        ]

    def __str__(self):
        return self.name


class LoanStatus(models.TextChoices):
    DIAJUKAN = "diajukan", _("Diajukan")
    AKTIF = "aktif", _("Aktif")
    LUNAS = "lunas", _("Lunas")
    DIBATALKAN = "dibatalkan", _("Dibatalkan")


# The only legal moves; loans.services.loan_transition checks every status change against this.
LOAN_TRANSITIONS = {
    LoanStatus.DIAJUKAN: {LoanStatus.AKTIF, LoanStatus.DIBATALKAN},
    LoanStatus.AKTIF: {LoanStatus.LUNAS},
    LoanStatus.LUNAS: set(),
    LoanStatus.DIBATALKAN: set(),
}


class AllocationQuerySet(models.QuerySet):
    def counting_at(self, at):
        """Allocations of payments that count at date `at` (DOMAIN.md: valued on or before `at` and not
        reversed on or before `at`)."""
        return self.filter(repayment__paid_on__lte=at).filter(
            Q(repayment__reversed_on__isnull=True) | Q(repayment__reversed_on__gt=at)
        )


class LoanQuerySet(LkmmScopedQuerySet):
    def with_standing(self, at):
        """Annotate each loan's standing at date `at`, in the database (no per-loan queries):

        - oldest_overdue_on: due date of the oldest installment due before `at` whose principal and
          interest are not fully paid by the end of `at` (None when nothing is past due);
        - principal_repaid, overdue_amount (unpaid principal + interest of installments due before `at`);
        - outstanding: principal minus principal repaid.

        Days past due follow from oldest_overdue_on (Loan.days_past_due). This is the one place the
        arrears engine extends.
        """
        counted = Allocation.objects.counting_at(at)
        paid_on_installment = (
            counted.filter(installment=OuterRef("pk"))
            .values("installment")
            .annotate(s=Sum(F("principal") + F("interest")))
            .values("s")
        )
        oldest_unpaid = (
            Installment.objects.filter(loan=OuterRef("pk"), due_date__lt=at)
            .annotate(paid=Coalesce(Subquery(paid_on_installment), 0))
            .filter(paid__lt=F("principal") + F("interest"))
            .order_by("due_date")
            .values("due_date")[:1]
        )
        principal_repaid = (
            counted.filter(installment__loan=OuterRef("pk"))
            .values("installment__loan")
            .annotate(s=Sum("principal"))
            .values("s")
        )
        paid_on_due = (
            counted.filter(installment__loan=OuterRef("pk"), installment__due_date__lt=at)
            .values("installment__loan")
            .annotate(s=Sum(F("principal") + F("interest")))
            .values("s")
        )
        due_before = (
            Installment.objects.filter(loan=OuterRef("pk"), due_date__lt=at)
            .values("loan")
            .annotate(s=Sum(F("principal") + F("interest")))
            .values("s")
        )
        return self.annotate(
            standing_at=models.Value(at, output_field=models.DateField()),
            oldest_overdue_on=Subquery(oldest_unpaid),
            principal_repaid=Coalesce(Subquery(principal_repaid), 0),
            overdue_amount=Coalesce(Subquery(due_before), 0) - Coalesce(Subquery(paid_on_due), 0),
            outstanding=F("principal") - F("principal_repaid"),
        )

    def past_due(self, at):
        """Disbursed loans with an installment past due at `at`."""
        return self.filter(status=LoanStatus.AKTIF).with_standing(at).filter(oldest_overdue_on__isnull=False)

    def for_list(self):
        return self.select_related("member", "product", "lkmm")


class Loan(models.Model):
    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="loans", verbose_name=_("LKMM"))
    number = models.PositiveIntegerField(_("nomor pinjaman"), editable=False)
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="loans", verbose_name=_("anggota")
    )
    product = models.ForeignKey(
        LoanProduct, on_delete=models.PROTECT, related_name="loans", verbose_name=_("produk")
    )
    # The terms are copied from the product when the loan is made: the contract must not change when
    # the product is edited later.
    principal = models.PositiveBigIntegerField(_("pokok pinjaman"))
    interest_method = models.CharField(_("metode bunga"), max_length=20, choices=InterestMethod.choices)
    frequency = models.CharField(_("frekuensi angsuran"), max_length=10, choices=Frequency.choices)
    rate_per_month = models.DecimalField(_("bunga per bulan (%)"), max_digits=5, decimal_places=2)
    installment_count = models.PositiveSmallIntegerField(_("jumlah angsuran"))
    rounding_unit = models.PositiveIntegerField(_("satuan pembulatan"))
    purpose = models.CharField(_("tujuan pinjaman"), max_length=200)
    applied_on = models.DateField(_("tanggal pengajuan"))
    disbursed_on = models.DateField(_("tanggal pencairan"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=LoanStatus.choices, default=LoanStatus.DIAJUKAN
    )
    created_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dicatat oleh"),
    )

    objects = LoanQuerySet.as_manager()

    class Meta:
        verbose_name = _("pinjaman")
        verbose_name_plural = _("pinjaman")
        ordering = ["-applied_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lkmm", "number"], name="loans_loan_unique_number"),
            models.CheckConstraint(condition=Q(principal__gt=0), name="loans_loan_principal_positive"),
            models.CheckConstraint(
                condition=Q(status="diajukan") | Q(status="dibatalkan") | Q(disbursed_on__isnull=False),
                name="loans_loan_disbursed_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.member.full_name}"

    @property
    def code(self):
        return f"P-{self.number:05d}"

    @property
    def days_past_due(self):
        """Needs LoanQuerySet.with_standing(at)."""
        if self.oldest_overdue_on is None:
            return 0
        return (self.standing_at - self.oldest_overdue_on).days

    def schedule_terms(self):
        return {
            "principal": self.principal,
            "rate_per_month": self.rate_per_month,
            "count": self.installment_count,
            "frequency": self.frequency,
            "method": self.interest_method,
            "rounding_unit": self.rounding_unit,
        }


class LoanStatusChange(models.Model):
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="status_changes", verbose_name=_("pinjaman")
    )
    from_status = models.CharField(_("dari"), max_length=20, choices=LoanStatus.choices, blank=True)
    to_status = models.CharField(_("menjadi"), max_length=20, choices=LoanStatus.choices)
    on = models.DateField(_("tanggal"))
    at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("oleh"),
    )
    reason = models.CharField(_("alasan"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("perubahan status pinjaman")
        verbose_name_plural = _("perubahan status pinjaman")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.loan.code}: {self.from_status} -> {self.to_status}"


class Installment(models.Model):
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="installments", verbose_name=_("pinjaman")
    )
    seq = models.PositiveSmallIntegerField(_("angsuran ke"))
    due_date = models.DateField(_("jatuh tempo"))
    principal = models.PositiveBigIntegerField(_("pokok"))
    interest = models.PositiveBigIntegerField(_("bunga"))

    class Meta:
        verbose_name = _("angsuran")
        verbose_name_plural = _("angsuran")
        ordering = ["loan", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="loans_installment_unique_seq"),
            models.CheckConstraint(condition=Q(principal__gt=0), name="loans_installment_principal_positive"),
        ]
        indexes = [models.Index(fields=["loan", "due_date"])]

    def __str__(self):
        return f"{self.loan.code} #{self.seq}"

    @property
    def total(self):
        return self.principal + self.interest


class RepaymentQuerySet(LkmmScopedQuerySet):
    def counting_at(self, at):
        return self.filter(paid_on__lte=at).filter(Q(reversed_on__isnull=True) | Q(reversed_on__gt=at))


class Repayment(models.Model):
    lkmm = models.ForeignKey(
        Lkmm, on_delete=models.PROTECT, related_name="repayments", verbose_name=_("LKMM")
    )
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="repayments", verbose_name=_("pinjaman")
    )
    receipt_no = models.PositiveIntegerField(_("nomor kuitansi"))
    amount = models.PositiveBigIntegerField(_("jumlah"))
    paid_on = models.DateField(_("tanggal bayar"))
    note = models.CharField(_("catatan"), max_length=200, blank=True)
    # One submitted form records one payment, however often it is resubmitted.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recorded_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("dicatat oleh"),
    )
    # Reversal (the loan engine issue adds the service and page): a payment is never edited or deleted.
    reversed_on = models.DateField(_("dibatalkan per tanggal"), null=True, blank=True)
    reversal_reason = models.CharField(_("alasan pembatalan"), max_length=200, blank=True)

    objects = RepaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("pembayaran angsuran")
        verbose_name_plural = _("pembayaran angsuran")
        ordering = ["-paid_on", "-receipt_no"]
        constraints = [
            models.UniqueConstraint(fields=["lkmm", "receipt_no"], name="loans_repayment_unique_receipt"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="loans_repayment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.receipt_code} {self.amount}"

    @property
    def receipt_code(self):
        return f"K-{self.receipt_no:06d}"


class Allocation(models.Model):
    """How much of a repayment went to which installment, and to which part of it."""

    repayment = models.ForeignKey(
        Repayment,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("pembayaran"),
    )
    installment = models.ForeignKey(
        Installment,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("angsuran"),
    )
    late_fee = models.PositiveBigIntegerField(_("denda"), default=0)
    interest = models.PositiveBigIntegerField(_("bunga"), default=0)
    principal = models.PositiveBigIntegerField(_("pokok"), default=0)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("alokasi pembayaran")
        verbose_name_plural = _("alokasi pembayaran")
        constraints = [
            models.CheckConstraint(
                condition=Q(late_fee__gt=0) | Q(interest__gt=0) | Q(principal__gt=0),
                name="loans_allocation_not_empty",
            ),
            models.UniqueConstraint(fields=["repayment", "installment"], name="loans_allocation_unique"),
        ]

    def __str__(self):
        return f"{self.repayment} -> {self.installment}"

    @property
    def total(self):
        return self.late_fee + self.interest + self.principal
