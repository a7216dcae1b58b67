from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from institutions.models import Lkmm, LkmmScopedQuerySet


class Gender(models.TextChoices):
    MALE = "L", _("Laki-laki")
    FEMALE = "P", _("Perempuan")


class MemberStatus(models.TextChoices):
    PENDAFTAR = "pendaftar", _("Pendaftar")
    AKTIF = "aktif", _("Aktif")
    DITOLAK = "ditolak", _("Ditolak")
    KELUAR = "keluar", pgettext_lazy("member status", "Keluar")
    DIBLOKIR = "diblokir", _("Diblokir")


# The only legal status changes, with whether each needs a reason. members.services.member_transition
# checks every change against this table and records it.
MEMBER_TRANSITIONS = {
    (MemberStatus.PENDAFTAR, MemberStatus.AKTIF): False,
    (MemberStatus.PENDAFTAR, MemberStatus.DITOLAK): True,
    (MemberStatus.DITOLAK, MemberStatus.PENDAFTAR): False,
    (MemberStatus.AKTIF, MemberStatus.KELUAR): True,
    (MemberStatus.AKTIF, MemberStatus.DIBLOKIR): True,
    (MemberStatus.DIBLOKIR, MemberStatus.AKTIF): True,
    (MemberStatus.KELUAR, MemberStatus.PENDAFTAR): False,
}


class BusinessType(models.Model):
    """The editable list of business kinds (warung, dagang keliling, ...), shared by every LKMM."""

    name = models.CharField(_("nama"), max_length=60, unique=True)
    position = models.PositiveSmallIntegerField(_("urutan"), default=0)
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("jenis usaha")
        verbose_name_plural = _("jenis usaha")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class MemberQuerySet(LkmmScopedQuerySet):
    def in_arrears(self, at):
        """Members with a loan past due at `at` (see LoanQuerySet.past_due)."""
        from loans.models import Loan

        overdue = Loan.objects.past_due(at).filter(member=OuterRef("pk"))
        return self.filter(Exists(overdue))

    def search(self, text):
        text = (text or "").strip()
        if not text:
            return self
        query = (
            models.Q(full_name__icontains=text)
            | models.Q(desa__icontains=text)
            | models.Q(
                group_memberships__left_on__isnull=True, group_memberships__group__name__icontains=text
            )
        )
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits and len(digits) >= len(text.replace(" ", "").replace("-", "").lstrip("+")):
            query |= models.Q(nik__startswith=digits)
            # Phones are stored as +62...; "0812..." and "812..." find the same number.
            national = digits[2:] if digits.startswith("62") else digits.lstrip("0")
            if national:
                query |= models.Q(phone__contains=national)
        return self.filter(query).distinct()

    def in_group(self, group):
        return self.filter(group_memberships__group=group, group_memberships__left_on__isnull=True)

    def with_current_group(self):
        """Annotate current_group_id and current_group_name (a member is in at most one active group)."""
        active = GroupMembership.objects.filter(member=OuterRef("pk"), left_on__isnull=True)
        return self.annotate(
            current_group_id=Subquery(active.values("group_id")[:1]),
            current_group_name=Subquery(active.values("group__name")[:1]),
        )


rt_rw_validator = RegexValidator(r"^\d{3}$", _("Tulis 3 angka, misalnya 004."))
kk_validator = RegexValidator(r"^\d{16}$", _("Nomor KK harus 16 angka."))


# Age at joining: an adult who runs a business (DOMAIN.md admits members on trust, not on paper).
MIN_AGE, MAX_AGE = 17, 100


class Member(models.Model):
    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="members", verbose_name=_("LKMM"))
    number = models.PositiveIntegerField(_("nomor anggota"), editable=False)
    nik = models.CharField(_("NIK"), max_length=16)
    full_name = models.CharField(_("nama lengkap"), max_length=120)
    gender = models.CharField(_("jenis kelamin"), max_length=1, choices=Gender.choices)
    birth_place = models.CharField(_("tempat lahir"), max_length=80, blank=True)
    birth_date = models.DateField(_("tanggal lahir"))
    kk_number = models.CharField(_("nomor KK"), max_length=16, blank=True, validators=[kk_validator])
    phone = models.CharField(_("telepon/WA"), max_length=16, blank=True)
    # Messages (receipts, reminders) go to the member's WhatsApp only with their recorded consent.
    whatsapp_consent = models.BooleanField(
        _("bersedia dihubungi lewat WhatsApp"),
        default=False,
        help_text=_("Kuitansi dan pengingat angsuran boleh dikirim ke nomor ini lewat WhatsApp."),
    )
    provinsi = models.CharField(_("provinsi"), max_length=80, default="Jawa Timur")
    kabupaten = models.CharField(_("kabupaten/kota"), max_length=80, default="Jember")
    kecamatan = models.CharField(_("kecamatan"), max_length=80, blank=True)
    desa = models.CharField(_("desa/kelurahan"), max_length=80)
    dusun = models.CharField(_("dusun"), max_length=80, blank=True)
    rt = models.CharField(_("RT"), max_length=3, blank=True, validators=[rt_rw_validator])
    rw = models.CharField(_("RW"), max_length=3, blank=True, validators=[rt_rw_validator])
    address = models.CharField(_("alamat (jalan, nomor)"), max_length=200, blank=True)
    household_size = models.PositiveSmallIntegerField(
        _("jumlah anggota keluarga"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    dtsen_listed = models.BooleanField(_("terdaftar di DTSEN"), default=False)
    dtsen_decile = models.PositiveSmallIntegerField(
        _("desil DTSEN"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    dtsen_verified_on = models.DateField(_("DTSEN diperiksa pada"), null=True, blank=True)
    photo = models.ImageField(_("foto"), upload_to="members/%Y/", blank=True)
    business_type = models.ForeignKey(
        BusinessType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("jenis usaha"),
    )
    business = models.CharField(
        _("usaha"), max_length=200, help_text=_("Misalnya: warung kelontong, jual sayur keliling.")
    )
    business_started = models.DateField(_("usaha dimulai"), null=True, blank=True)
    business_location = models.CharField(_("lokasi usaha"), max_length=200, blank=True)
    turnover_at_admission = models.PositiveBigIntegerField(
        _("omzet per bulan saat masuk"), null=True, blank=True
    )
    net_income_at_admission = models.BigIntegerField(
        _("pendapatan bersih per bulan saat masuk"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=MemberStatus.choices, default=MemberStatus.PENDAFTAR
    )
    joined_on = models.DateField(_("tanggal masuk"))
    created_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dicatat oleh"),
    )

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("anggota")
        verbose_name_plural = _("anggota")
        ordering = ["full_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lkmm", "nik"],
                name="members_member_unique_nik_per_lkmm",
                violation_error_message=_("NIK ini sudah terdaftar sebagai anggota LKMM ini."),
            ),
            models.UniqueConstraint(fields=["lkmm", "number"], name="members_member_unique_number_per_lkmm"),
            models.CheckConstraint(
                condition=models.Q(nik__regex=r"^[0-9]{16}$"), name="members_member_nik_16_digits"
            ),
            models.CheckConstraint(
                condition=Q(dtsen_listed=True) | Q(dtsen_decile__isnull=True),
                name="members_member_decile_only_if_listed",
                violation_error_message=_("Desil DTSEN hanya diisi bila terdaftar di DTSEN."),
            ),
            models.CheckConstraint(
                condition=Q(dtsen_decile__isnull=True) | Q(dtsen_decile__gte=1, dtsen_decile__lte=10),
                name="members_member_decile_1_to_10",
            ),
        ]
        indexes = [
            models.Index(fields=["nik"]),
            # Active members per LKMM (the Dinas home counts them for every LKMM), from the index alone.
            models.Index(fields=["lkmm", "status"], name="members_member_lkmm_status"),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.code})"

    def clean(self):
        """Dates that make sense: joined neither in the future nor before the LKMM existed, aged 17 to
        100 at joining."""
        super().clean()
        errors = {}
        today = timezone.localdate()
        if self.birth_date and self.birth_date > today:
            errors["birth_date"] = _("Tanggal lahir tidak boleh di masa depan.")
        if self.joined_on:
            if self.joined_on > today:
                errors["joined_on"] = _("Tanggal masuk tidak boleh di masa depan.")
            elif self.lkmm_id and self.joined_on < self.lkmm.founded_on:
                errors["joined_on"] = _("Tanggal masuk tidak boleh sebelum LKMM berdiri (%(d)s).") % {
                    "d": self.lkmm.founded_on.strftime("%d/%m/%Y")
                }
            if self.birth_date and "birth_date" not in errors:
                born, joined = self.birth_date, self.joined_on
                age = joined.year - born.year - ((joined.month, joined.day) < (born.month, born.day))
                if not MIN_AGE <= age <= MAX_AGE:
                    errors["birth_date"] = _(
                        "Umur saat masuk harus %(min)s sampai %(max)s tahun; menurut tanggal ini "
                        "%(age)s tahun."
                    ) % {"min": MIN_AGE, "max": MAX_AGE, "age": age}
        if errors:
            raise ValidationError(errors)

    @property
    def code(self):
        return f"A-{self.number:04d}"


class MemberStatusChange(models.Model):
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="status_changes", verbose_name=_("anggota")
    )
    from_status = models.CharField(_("dari"), max_length=20, choices=MemberStatus.choices, blank=True)
    to_status = models.CharField(_("menjadi"), max_length=20, choices=MemberStatus.choices)
    at = models.DateTimeField(_("waktu"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("oleh"),
    )
    reason = models.TextField(_("alasan"), blank=True)

    class Meta:
        verbose_name = _("perubahan status anggota")
        verbose_name_plural = _("perubahan status anggota")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.member}: {self.from_status or '-'} -> {self.to_status}"


class Decision(models.TextChoices):
    APPROVED = "approved", _("Disetujui")
    REJECTED = "rejected", _("Ditolak")


class ApplicationQuerySet(LkmmScopedQuerySet):
    lkmm_field = "member__lkmm"

    def pending(self):
        return self.filter(decision="")


class MembershipApplication(models.Model):
    """An application for membership: someone vouches for the applicant (admission on trust)."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="applications", verbose_name=_("pendaftar")
    )
    referee_member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vouched_for",
        verbose_name=_("penjamin (anggota)"),
    )
    referee_board = models.ForeignKey(
        "institutions.BoardMember",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vouched_for",
        verbose_name=_("penjamin (pengurus)"),
    )
    business_plan = models.TextField(_("rencana usaha"))
    requested_amount = models.PositiveBigIntegerField(_("pinjaman pertama yang diminta"))
    submitted_at = models.DateTimeField(_("diajukan pada"), auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dicatat oleh"),
    )
    decision = models.CharField(_("keputusan"), max_length=10, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(_("diputuskan pada"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("diputuskan oleh"),
    )
    decision_reason = models.TextField(_("alasan keputusan"), blank=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("permohonan keanggotaan")
        verbose_name_plural = _("permohonan keanggotaan")
        ordering = ["submitted_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(referee_member__isnull=False, referee_board__isnull=True)
                | Q(referee_member__isnull=True, referee_board__isnull=False),
                name="members_application_one_referee",
                violation_error_message=_("Pilih satu penjamin: seorang anggota atau seorang pengurus."),
            ),
            models.UniqueConstraint(
                fields=["member"], condition=Q(decision=""), name="members_application_one_pending_per_member"
            ),
        ]

    def __str__(self):
        return f"{self.member} {self.submitted_at:%d/%m/%Y}"

    @property
    def referee(self):
        return self.referee_member or self.referee_board


class Weekday(models.IntegerChoices):
    SENIN = 0, _("Senin")
    SELASA = 1, _("Selasa")
    RABU = 2, _("Rabu")
    KAMIS = 3, _("Kamis")
    JUMAT = 4, _("Jumat")
    SABTU = 5, _("Sabtu")
    MINGGU = 6, _("Minggu")


class GroupQuerySet(LkmmScopedQuerySet):
    def with_size(self):
        return self.annotate(
            size=models.Count("memberships", filter=Q(memberships__left_on__isnull=True), distinct=True)
        )


class Group(models.Model):
    """A kelompok (pokmas): members who meet weekly and, with joint liability, stand for each other."""

    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="groups", verbose_name=_("LKMM"))
    name = models.CharField(_("nama kelompok"), max_length=80)
    leader = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ketua kelompok"),
    )
    meeting_day = models.PositiveSmallIntegerField(_("hari pertemuan"), choices=Weekday.choices)
    meeting_place = models.CharField(_("tempat pertemuan"), max_length=120)
    joint_liability = models.BooleanField(_("tanggung renteng"), default=True)
    is_active = models.BooleanField(_("aktif"), default=True)
    created_at = models.DateTimeField(_("dibentuk pada"), auto_now_add=True)

    objects = GroupQuerySet.as_manager()

    class Meta:
        verbose_name = _("kelompok")
        verbose_name_plural = _("kelompok")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["lkmm", "name"],
                name="members_group_unique_name",
                violation_error_message=_("LKMM ini sudah punya kelompok dengan nama ini."),
            )
        ]

    def __str__(self):
        return self.name


class GroupMembership(models.Model):
    group = models.ForeignKey(
        Group, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("kelompok")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="group_memberships", verbose_name=_("anggota")
    )
    joined_on = models.DateField(_("masuk kelompok"))
    left_on = models.DateField(_("keluar kelompok"), null=True, blank=True)

    class Meta:
        verbose_name = _("keanggotaan kelompok")
        verbose_name_plural = _("keanggotaan kelompok")
        ordering = ["joined_on", "id"]
        constraints = [
            # A member is in at most one active group.
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(left_on__isnull=True),
                name="members_one_active_group_per_member",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="members_groupmembership_left_after_joined",
            ),
        ]

    def __str__(self):
        return f"{self.member} @ {self.group}"


class IncomeRecord(models.Model):
    """A dated follow-up of a member's business (for example each loan cycle)."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="income_records", verbose_name=_("anggota")
    )
    recorded_on = models.DateField(_("tanggal"))
    turnover = models.PositiveBigIntegerField(_("omzet per bulan"))
    net_income = models.BigIntegerField(_("pendapatan bersih per bulan"))
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

    class Meta:
        verbose_name = _("catatan pendapatan")
        verbose_name_plural = _("catatan pendapatan")
        ordering = ["recorded_on", "id"]

    def __str__(self):
        return f"{self.member} {self.recorded_on:%d/%m/%Y}"
