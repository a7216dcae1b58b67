import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
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


class FeeMode(models.TextChoices):
    DEDUCTED = "deducted", _("Dipotong dari pencairan")
    CASH = "cash", _("Dibayar tunai saat pencairan")


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
    admin_fee_percent = models.DecimalField(
        _("biaya administrasi (%)"),
        max_digits=4,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    admin_fee_mode = models.CharField(
        _("cara bayar biaya administrasi"), max_length=10, choices=FeeMode.choices, default=FeeMode.DEDUCTED
    )
    late_fee = models.PositiveBigIntegerField(
        _("denda per angsuran terlambat"), default=0, help_text=_("0 berarti tanpa denda.")
    )
    waive_interest_on_payoff = models.BooleanField(
        _("pelunasan dipercepat membebaskan bunga angsuran yang belum jatuh tempo"), default=False
    )
    requires_group = models.BooleanField(_("hanya untuk anggota kelompok"), default=False)
    one_loan_at_a_time = models.BooleanField(
        _("satu pinjaman sekaligus"),
        default=False,
        help_text=_("Anggota yang masih punya pinjaman berjalan atau diajukan tidak dapat mengajukan lagi."),
    )
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
    DISETUJUI = "disetujui", _("Disetujui")
    DITOLAK = "ditolak", _("Ditolak")
    AKTIF = "aktif", _("Aktif")
    LUNAS = "lunas", _("Lunas")
    DIHAPUSBUKUKAN = "dihapusbukukan", _("Dihapusbukukan")
    DIRESTRUKTURISASI = "direstrukturisasi", _("Direstrukturisasi")
    DIBATALKAN = "dibatalkan", _("Dibatalkan")


# The only legal moves, and whether each needs a reason; loans.services.loan_transition checks every
# status change against this. A reversal can reopen a paid-off loan (lunas -> aktif).
LOAN_TRANSITIONS = {
    (LoanStatus.DIAJUKAN, LoanStatus.DISETUJUI): False,
    (LoanStatus.DIAJUKAN, LoanStatus.DITOLAK): True,
    (LoanStatus.DIAJUKAN, LoanStatus.DIBATALKAN): True,
    (LoanStatus.DISETUJUI, LoanStatus.AKTIF): False,
    (LoanStatus.DISETUJUI, LoanStatus.DIBATALKAN): True,
    (LoanStatus.AKTIF, LoanStatus.LUNAS): False,
    (LoanStatus.LUNAS, LoanStatus.AKTIF): True,
    (LoanStatus.AKTIF, LoanStatus.DIRESTRUKTURISASI): True,
    (LoanStatus.AKTIF, LoanStatus.DIHAPUSBUKUKAN): True,
}
# Statuses in which a loan has money out and its schedule is fixed.
DISBURSED_STATUSES = (
    LoanStatus.AKTIF,
    LoanStatus.LUNAS,
    LoanStatus.DIRESTRUKTURISASI,
    LoanStatus.DIHAPUSBUKUKAN,
)


class AllocationQuerySet(models.QuerySet):
    def counting_at(self, at):
        """Allocations of payments that count at date `at` (DOMAIN.md: valued on or before `at` and not
        reversed on or before `at`)."""
        return (
            self.filter(repayment__paid_on__lte=at)
            .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at))
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=at))
        )


class OpenInstallmentsSum(models.Expression):
    """A sum over the loan's open installments due before `at` (kept standing), written as one small
    correlated subquery on the partial index of open installments. Plain SQL rather than a Subquery of a
    QuerySet: every page with loans builds it, and building and compiling nested QuerySets cost more
    than running them."""

    OVERDUE = (
        "i.principal + i.interest - i.interest_waived_derived - i.principal_paid_derived"
        " - i.interest_paid_derived",
        "",
    )
    # A late fee is charged on an installment not settled by the end of its due date.
    LATE_FEES = (
        "CASE WHEN {loan}.late_fee > i.late_fee_waived_derived + i.late_fee_paid_derived"
        " THEN {loan}.late_fee - i.late_fee_waived_derived - i.late_fee_paid_derived ELSE 0 END",
        " AND (i.settled_on_derived IS NULL OR i.settled_on_derived > i.due_date)",
    )
    output_field = models.BigIntegerField()

    def __init__(self, what, at):
        super().__init__()
        self.what, self.at = what, at

    def as_sql(self, compiler, connection):
        loan = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        amount, condition = (part.format(loan=loan) for part in self.what)
        # Only the class's constant fragments and the query's own alias go into the text; `at` is a
        # parameter.
        sql = (
            f"CAST(COALESCE((SELECT SUM({amount}) FROM loans_installment i WHERE i.loan_id = {loan}.id"
            f" AND i.open_derived AND i.due_date < %s{condition}), 0) AS BIGINT)"  # nosec B608
        )
        return sql, [self.at]

    def get_group_by_cols(self):
        return [self]


class LoanQuerySet(LkmmScopedQuerySet):
    def with_standing(self, at):
        """Annotate each loan's standing at date `at`: oldest_overdue_on (Loan.days_past_due follows),
        outstanding, principal_repaid, overdue_amount and overdue_fees.

        From today on, every event of every loan lies on or before `at`, so the kept standing holds and
        only what changes with time alone is computed (with_kept_standing); an earlier date replays the
        versioned allocation (with_history_standing).
        """
        if at >= timezone.localdate():
            return self.with_kept_standing(at)
        return self.with_history_standing(at)

    def with_kept_standing(self, at):
        """The standing at `at` from the kept columns (loans.standing), valid when `at` is on or after
        each loan's standing_as_of_derived: the outstanding principal and the oldest unpaid due date are
        columns; the overdue amount and the late fees charged by `at` are sums over the loan's open
        installments due before `at` (a partial index holds only open installments)."""
        disbursed = Q(disbursed_on__isnull=False)
        return self.annotate(
            standing_at=models.Value(at, output_field=models.DateField()),
            oldest_overdue_on=Case(
                When(oldest_unpaid_due_derived__lt=at, then=F("oldest_unpaid_due_derived")),
                default=Value(None),
                output_field=models.DateField(),
            ),
            outstanding=Case(
                When(disbursed, then=F("principal_outstanding_derived")),
                default=F("principal"),
                output_field=models.BigIntegerField(),
            ),
            principal_repaid=Case(
                When(
                    disbursed,
                    then=F("principal")
                    - F("principal_outstanding_derived")
                    - F("written_off_principal")
                    - F("transferred_principal"),
                ),
                default=Value(0),
                output_field=models.BigIntegerField(),
            ),
            overdue_amount=OpenInstallmentsSum(OpenInstallmentsSum.OVERDUE, at),
            overdue_fees=OpenInstallmentsSum(OpenInstallmentsSum.LATE_FEES, at),
        )

    def with_history_standing(self, at):
        """Annotate each loan's standing at date `at` from the versioned allocation, in the database (no
        per-loan queries):

        - oldest_overdue_on: due date of the oldest installment due before `at` whose principal and
          interest (less any waived) are not fully paid by the end of `at` (None when nothing is past
          due); Loan.days_past_due follows from it;
        - principal_repaid, outstanding (principal minus principal repaid);
        - overdue_amount: unpaid principal + interest of installments due before `at`;
        - late_fees_owed, late_fees_paid, overdue_fees: a fixed fee per installment not fully paid by the
          end of its due date, as far as those dates lie before `at`, less fees waived.

        Payments count at `at` as DOMAIN.md says (AllocationQuerySet.counting_at). This is the one
        place the arrears engine extends.
        """
        counted = Allocation.objects.counting_at(at)
        waived_interest = (
            Waiver.objects.filter(installment=OuterRef("pk"), on__lte=at)
            .values("installment")
            .annotate(s=Sum("interest"))
            .values("s")
        )
        paid_on_installment = (
            counted.filter(installment=OuterRef("pk"))
            .values("installment")
            .annotate(s=Sum(F("principal") + F("interest")))
            .values("s")
        )
        paid_by_due_date = (
            counted.filter(installment=OuterRef("pk"), repayment__paid_on__lte=OuterRef("due_date"))
            .values("installment")
            .annotate(s=Sum(F("principal") + F("interest")))
            .values("s")
        )
        due_before = Installment.objects.filter(loan=OuterRef("pk"), due_date__lt=at).annotate(
            owed=F("principal") + F("interest") - Coalesce(Subquery(waived_interest), 0)
        )
        oldest_unpaid = (
            due_before.annotate(paid=Coalesce(Subquery(paid_on_installment), 0))
            .filter(paid__lt=F("owed"))
            .order_by("due_date")
            .values("due_date")[:1]
        )
        # Per installment, what is still unpaid, never below zero (a waiver dated after a payment that
        # a back-dated payment re-allocated must not make another installment owe less).
        overdue = (
            due_before.annotate(paid=Coalesce(Subquery(paid_on_installment), 0))
            .values("loan")
            .annotate(s=Sum(Greatest(F("owed") - F("paid"), Value(0))))
            .values("s")
        )
        fee_paid = (
            counted.filter(installment=OuterRef("pk")).values("installment").annotate(s=Sum("late_fee"))
        )
        fee_waived = (
            Waiver.objects.filter(installment=OuterRef("pk"), on__lte=at)
            .values("installment")
            .annotate(s=Sum("late_fee"))
        )
        unpaid_fees = (
            due_before.annotate(paid=Coalesce(Subquery(paid_by_due_date), 0))
            .filter(paid__lt=F("owed"))
            .annotate(
                unpaid_fee=Greatest(
                    F("loan__late_fee")
                    - Coalesce(Subquery(fee_waived.values("s")), 0)
                    - Coalesce(Subquery(fee_paid.values("s")), 0),
                    Value(0),
                )
            )
            .values("loan")
            .annotate(s=Sum("unpaid_fee"))
            .values("s")
        )
        late_installments = (
            due_before.annotate(paid=Coalesce(Subquery(paid_by_due_date), 0))
            .filter(paid__lt=F("owed"))
            .values("loan")
            .annotate(n=Count("pk"))
            .values("n")
        )

        def loan_sum(queryset, expression):
            return Coalesce(
                Subquery(queryset.values("installment__loan").annotate(s=Sum(expression)).values("s")), 0
            )

        mine = counted.filter(installment__loan=OuterRef("pk"))
        fees_waived = Coalesce(
            Subquery(
                Waiver.objects.filter(loan=OuterRef("pk"), on__lte=at)
                .values("loan")
                .annotate(s=Sum("late_fee"))
                .values("s")
            ),
            0,
        )
        # A loan whose principal moved to a restructured loan, or was written off against the reserve,
        # owes nothing from that date on and leaves the outstanding portfolio.
        written_off = Q(written_off_on__isnull=False, written_off_on__lte=at)
        moved = Q(transferred_on__isnull=False, transferred_on__lte=at) | written_off

        def unless_moved(expression, output_field=None):
            return Case(When(moved, then=Value(0)), default=expression, output_field=output_field)

        return self.annotate(
            standing_at=models.Value(at, output_field=models.DateField()),
            oldest_overdue_on=Case(When(moved, then=Value(None)), default=Subquery(oldest_unpaid)),
            principal_repaid=loan_sum(mine, "principal"),
            overdue_amount=unless_moved(Coalesce(Subquery(overdue), 0), models.BigIntegerField()),
            outstanding=F("principal")
            - F("principal_repaid")
            - Case(When(written_off, then=F("written_off_principal")), default=Value(0))
            - Case(
                When(
                    Q(transferred_on__isnull=False, transferred_on__lte=at), then=F("transferred_principal")
                ),
                default=Value(0),
            ),
            late_fees_owed=unless_moved(
                F("late_fee") * Coalesce(Subquery(late_installments), 0) - fees_waived,
                models.BigIntegerField(),
            ),
            late_fees_paid=loan_sum(mine, "late_fee"),
            overdue_fees=unless_moved(Coalesce(Subquery(unpaid_fees), 0), models.BigIntegerField()),
        )

    def past_due(self, at):
        """Disbursed loans with an installment past due at `at`."""
        return self.filter(status=LoanStatus.AKTIF).with_standing(at).filter(oldest_overdue_on__isnull=False)

    def for_list(self):
        return self.select_related("member", "product", "lkmm")


class Loan(models.Model):
    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="loans", verbose_name=_("LKMM"))
    number = models.PositiveIntegerField(_("nomor pinjaman"), editable=False)
    # The application form's token: the same form posted twice records one application.
    token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
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
    admin_fee = models.PositiveBigIntegerField(_("biaya administrasi"), default=0)
    admin_fee_mode = models.CharField(
        _("cara bayar biaya administrasi"), max_length=10, choices=FeeMode.choices, default=FeeMode.DEDUCTED
    )
    late_fee = models.PositiveBigIntegerField(_("denda per angsuran terlambat"), default=0)
    waive_interest_on_payoff = models.BooleanField(
        _("pelunasan dipercepat membebaskan bunga yang belum jatuh tempo"), default=False
    )
    purpose = models.CharField(_("tujuan pinjaman"), max_length=200)
    # The loan's reference in the books it was imported from (books.importer); empty for loans made in
    # the app, whose reference is their code.
    loan_ref = models.CharField(_("nomor pinjaman asal"), max_length=40, blank=True, default="")
    # Restructuring (DOMAIN.md): the outstanding principal moves to a new loan on new terms. The old loan
    # records what moved and when; the new loan points back to it and counts as restructured.
    restructured_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="restructured_into",
        verbose_name=_("restrukturisasi dari"),
    )
    transferred_on = models.DateField(_("dipindahkan per tanggal"), null=True, blank=True)
    transferred_principal = models.PositiveBigIntegerField(_("pokok yang dipindahkan"), default=0)
    # Write-off against the risk reserve: the principal leaves the portfolio; recoveries may follow.
    written_off_on = models.DateField(_("dihapusbukukan per tanggal"), null=True, blank=True)
    written_off_principal = models.PositiveBigIntegerField(_("pokok yang dihapusbukukan"), default=0)
    applied_on = models.DateField(_("tanggal pengajuan"))
    disbursed_on = models.DateField(_("tanggal pencairan"), null=True, blank=True)
    # The loan's current standing, kept as data (Fineract's *_derived columns): written only by
    # loans.standing in the same transaction as every money event, checked against a recomputation from
    # the schedule and the payments by check_books. Valid at every date on or after standing_as_of.
    principal_outstanding_derived = models.BigIntegerField(
        _("sisa pokok (terkini)"), default=0, editable=False
    )
    oldest_unpaid_due_derived = models.DateField(
        _("jatuh tempo tertua yang belum lunas (terkini)"), null=True, blank=True, editable=False
    )
    standing_as_of_derived = models.DateField(
        _("posisi terkini berlaku sejak"), null=True, blank=True, editable=False
    )
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
            models.UniqueConstraint(
                fields=["lkmm", "loan_ref"], condition=~Q(loan_ref=""), name="loans_loan_unique_ref"
            ),
            models.CheckConstraint(condition=Q(principal__gt=0), name="loans_loan_principal_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["diajukan", "disetujui", "ditolak", "dibatalkan"])
                | Q(disbursed_on__isnull=False),
                name="loans_loan_disbursed_has_date",
            ),
        ]
        indexes = [
            # Today's portfolio reads only the loans with principal outstanding.
            models.Index(
                fields=["lkmm"],
                condition=Q(principal_outstanding_derived__gt=0),
                name="loans_loan_outstanding",
            )
        ]

    def __str__(self):
        return f"{self.code} {self.member.full_name}"

    @property
    def code(self):
        return f"P-{self.number:05d}"

    @property
    def ref(self):
        """The reference exports use: the imported one, or the code shown on the loan's page."""
        return self.loan_ref or self.code

    @property
    def is_restructured(self):
        return self.restructured_from_id is not None

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
    # What the installment has received and had waived, under every payment and waiver that counts now,
    # and the date its principal and interest were first fully paid (loans.standing writes these).
    principal_paid_derived = models.BigIntegerField(_("pokok terbayar"), default=0, editable=False)
    interest_paid_derived = models.BigIntegerField(_("bunga terbayar"), default=0, editable=False)
    late_fee_paid_derived = models.BigIntegerField(_("denda terbayar"), default=0, editable=False)
    interest_waived_derived = models.BigIntegerField(_("bunga dibebaskan"), default=0, editable=False)
    late_fee_waived_derived = models.BigIntegerField(_("denda dibebaskan"), default=0, editable=False)
    settled_on_derived = models.DateField(_("lunas pada"), null=True, blank=True, editable=False)
    # False once nothing can ever be owed on it again: principal and interest settled and any late fee
    # paid or waived, or the loan's principal moved (restructure, write-off). Reads scan open rows only.
    open_derived = models.BooleanField(_("masih terbuka"), default=True, editable=False)

    class Meta:
        verbose_name = _("angsuran")
        verbose_name_plural = _("angsuran")
        ordering = ["loan", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="loans_installment_unique_seq"),
            models.CheckConstraint(condition=Q(principal__gt=0), name="loans_installment_principal_positive"),
        ]
        indexes = [
            models.Index(fields=["loan", "due_date"]),
            models.Index(
                fields=["loan", "due_date"], condition=Q(open_derived=True), name="loans_inst_open_due"
            ),
            # Every LKMM's open installments past due at a date (the portfolio at today).
            models.Index(fields=["due_date"], condition=Q(open_derived=True), name="loans_inst_open_by_due"),
        ]

    def __str__(self):
        return f"{self.loan.code} #{self.seq}"

    @property
    def paid_total(self):
        return self.principal_paid_derived + self.interest_paid_derived + self.late_fee_paid_derived

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
    # Tanggung renteng: a member of the borrower's group may pay for them; recorded as such.
    paid_by = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments_for_others",
        verbose_name=_("dibayar oleh (tanggung renteng)"),
    )
    # A payment is never edited or deleted: a wrong one is reversed from a date on (DOMAIN.md).
    reversed_on = models.DateField(_("dibatalkan per tanggal"), null=True, blank=True)
    reversal_reason = models.CharField(_("alasan pembatalan"), max_length=200, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dibatalkan oleh"),
    )
    reversed_at = models.DateTimeField(_("pembatalan dicatat pada"), null=True, blank=True)

    objects = RepaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("pembayaran angsuran")
        verbose_name_plural = _("pembayaran angsuran")
        ordering = ["-paid_on", "-receipt_no"]
        constraints = [
            # A kuitansi may carry one member's lines of one collection sheet save (two loans, a deposit:
            # ledger/checks.py receipt_numbers checks the sharing); it never carries one loan twice.
            models.UniqueConstraint(
                fields=["lkmm", "receipt_no", "loan"], name="loans_repayment_unique_receipt_loan"
            ),
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
    # Allocations are versioned by date: a row counts at dates D in [valid_from, valid_to) (open ends
    # are None) with its payment valued on or before D. Rows are only appended or closed (valid_to set),
    # never deleted: a payment appends its rows; a reversal, a back-dated payment or a waiver closes the
    # rows it changes from its date on and appends their new version (loans.standing). A row closed on
    # or before its payment's date never counted.
    valid_from = models.DateField(_("berlaku sejak"), null=True, blank=True)
    valid_to = models.DateField(_("berlaku sampai"), null=True, blank=True)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("alokasi pembayaran")
        verbose_name_plural = _("alokasi pembayaran")
        constraints = [
            models.CheckConstraint(
                condition=Q(late_fee__gt=0) | Q(interest__gt=0) | Q(principal__gt=0),
                name="loans_allocation_not_empty",
            ),
        ]

    def __str__(self):
        return f"{self.repayment} -> {self.installment}"

    @property
    def total(self):
        return self.late_fee + self.interest + self.principal


class Waiver(models.Model):
    """Interest or late fees the LKMM will not collect, with reason and approver (never silently)."""

    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="waivers", verbose_name=_("pinjaman")
    )
    installment = models.ForeignKey(
        Installment, on_delete=models.PROTECT, related_name="waivers", verbose_name=_("angsuran")
    )
    on = models.DateField(_("berlaku sejak"))
    interest = models.PositiveBigIntegerField(_("bunga dibebaskan"), default=0)
    late_fee = models.PositiveBigIntegerField(_("denda dibebaskan"), default=0)
    reason = models.CharField(_("alasan"), max_length=200)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("disetujui oleh"),
    )
    created_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)

    class Meta:
        verbose_name = _("pembebasan")
        verbose_name_plural = _("pembebasan")
        ordering = ["on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(interest__gt=0) | Q(late_fee__gt=0), name="loans_waiver_not_empty"
            )
        ]

    def __str__(self):
        return f"{self.loan.code} #{self.installment.seq} {self.on:%d/%m/%Y}"
