from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

ROUNDING_UNITS = [(1, "Rp1"), (100, "Rp100"), (500, "Rp500"), (1000, "Rp1.000"), (5000, "Rp5.000")]


def default_quality_policy():
    """New LKMMs follow the LKM regulation's classes (`lkm-2015`) until the Dinas chooses otherwise."""
    from risk.models import QualityPolicy

    return QualityPolicy.objects.only("pk").get(code="lkm-2015").pk


class LkmmScopedQuerySet(models.QuerySet):
    """The one place where data is limited to what a user may see.

    LKMM staff see their own LKMM's rows; Dinas reviewers the rows of their Dinas's LKMMs; superusers
    every LKMM; anyone else nothing.
    Every model that belongs to an LKMM uses this (or a subclass) as its manager.
    """

    lkmm_field = "lkmm"

    def for_user(self, user):
        scope = lkmm_scope(user)
        if scope is None:
            return self
        if isinstance(scope, list) and not scope:
            return self.none()
        return self.filter(**{f"{self.lkmm_field}__in": scope})


def lkmm_scope(user):
    """The LKMMs `user` may see: None for every LKMM (superusers), else the LKMM ids to filter on with
    `__in`: a list (LKMM staff: their own; empty: none) or, for a Dinas reviewer, a lazy subquery of
    their Dinas's LKMMs (no query of its own: it becomes part of the query it filters).

    Used by LkmmScopedQuerySet.for_user and by the audit trail's history (audit.models), which cannot
    filter on a model field.
    """
    if not user.is_authenticated:
        return []
    staff = getattr(user, "staff", None)
    if staff is None:
        return None if user.is_superuser else []
    if staff.is_dinas:
        if staff.dinas_id is None:
            return []
        return Lkmm.objects.filter(dinas_id=staff.dinas_id).values("pk")
    return [staff.lkmm_id]


# Health thresholds are percents with two decimals, the same Decimal scale as the ratios they are
# compared with (risk.selectors._percent quantizes NPL, PAR30 and coverage to 0.01): compared exactly,
# no float and no unit conversion. Coverage may exceed 100%.
def _percent_field(label, default, help_text):
    return models.DecimalField(
        label,
        max_digits=6,
        decimal_places=2,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))],
        help_text=help_text,
    )


class Dinas(models.Model):
    """A city's (kabupaten/kota) Dinas Koperasi dan UMKM: it fosters its LKMMs, and its reviewers read
    only those. Holds the Dinas's own settings (DOMAIN.md): the health thresholds of its home page and
    the cash-on-hand limit of its LKMMs."""

    code = models.SlugField(_("kode"), max_length=20, unique=True)
    name = models.CharField(_("nama"), max_length=120)
    kabupaten = models.CharField(_("kabupaten/kota"), max_length=80)
    provinsi = models.CharField(_("provinsi"), max_length=80)
    npl_threshold_pct = _percent_field(
        _("batas NPL (%)"), "5", _("LKMM bermasalah bila NPL di atas batas ini.")
    )
    par30_threshold_pct = _percent_field(
        _("batas PAR30 (%)"), "10", _("LKMM perlu perhatian bila PAR30 di atas batas ini.")
    )
    coverage_threshold_pct = _percent_field(
        _("batas cakupan cadangan (%)"),
        "100",
        _("LKMM bermasalah bila cadangan yang ada di bawah persen ini dari yang wajib."),
    )
    cash_limit = models.BigIntegerField(
        _("batas uang kas"),
        default=500_000,
        validators=[MinValueValidator(0)],
        help_text=_("Saldo kas akhir hari di atas batas ini harus disetor ke bank (rupiah)."),
    )

    class Meta:
        verbose_name = _("Dinas")
        verbose_name_plural = _("Dinas")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(npl_threshold_pct__gte=0)
                & Q(par30_threshold_pct__gte=0)
                & Q(coverage_threshold_pct__gte=0)
                & Q(cash_limit__gte=0),
                name="institutions_dinas_settings_not_negative",
                violation_error_message=_("Batas tidak boleh negatif."),
            )
        ]

    def __str__(self):
        return self.name

    @classmethod
    def only_one(cls):
        """The deployment's Dinas while it has exactly one, else None (then it must be named)."""
        dinas = list(cls.objects.all()[:2])
        return dinas[0] if len(dinas) == 1 else None


class LkmmQuerySet(LkmmScopedQuerySet):
    lkmm_field = "pk"


class Lkmm(models.Model):
    code = models.SlugField(_("kode"), max_length=20, unique=True)
    name = models.CharField(_("nama"), max_length=120)
    dinas = models.ForeignKey(
        Dinas, on_delete=models.PROTECT, related_name="lkmms", verbose_name=_("Dinas pembina")
    )
    desa = models.CharField(_("desa/kelurahan"), max_length=80)
    kecamatan = models.CharField(_("kecamatan"), max_length=80)
    # Blank: the Dinas's kabupaten (save()).
    kabupaten = models.CharField(
        _("kabupaten/kota"), max_length=80, blank=True, help_text=_("Kosongkan: kabupaten/kota Dinasnya.")
    )
    address = models.CharField(_("alamat"), max_length=200, blank=True)
    founded_on = models.DateField(_("tanggal berdiri"))
    quality_policy = models.ForeignKey(
        "risk.QualityPolicy",
        on_delete=models.PROTECT,
        default=default_quality_policy,
        related_name="lkmms",
        verbose_name=_("kebijakan kualitas pinjaman"),
    )
    default_rounding_unit = models.PositiveIntegerField(
        _("satuan pembulatan bawaan"), choices=ROUNDING_UNITS, default=100
    )
    four_eyes = models.BooleanField(
        _("empat mata"),
        default=False,
        help_text=_("Persetujuan harus oleh orang lain daripada yang mencatat."),
    )
    refuse_if_in_arrears = models.BooleanField(
        _("tolak pinjaman baru bagi yang menunggak"),
        default=False,
        help_text=_("Anggota yang masih menunggak pada pinjaman lain tidak dapat mengajukan pinjaman baru."),
    )
    group_min_size = models.PositiveSmallIntegerField(_("anggota kelompok minimal"), default=3)
    group_max_size = models.PositiveSmallIntegerField(_("anggota kelompok maksimal"), default=10)
    is_active = models.BooleanField(_("aktif"), default=True)

    objects = LkmmQuerySet.as_manager()

    class Meta:
        verbose_name = _("LKMM")
        verbose_name_plural = _("LKMM")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(group_min_size__gte=1) & Q(group_min_size__lte=F("group_max_size")),
                name="institutions_lkmm_group_sizes",
                violation_error_message=_("Ukuran kelompok minimal harus 1 sampai ukuran maksimal."),
            )
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.kabupaten and self.dinas_id is not None:
            self.kabupaten = self.dinas.kabupaten
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "kabupaten"}
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.four_eyes and self.deciders().count() < 2:
            raise ValidationError(
                {
                    "four_eyes": _(
                        "Empat mata hanya dapat dipakai bila LKMM punya sedikitnya dua orang yang dapat "
                        "memutuskan: ketua dan penyetuju lain (pengurus yang menjabat dengan akun staf)."
                    )
                }
            )

    def deciders(self, at=None):
        """The active logins who decide for this LKMM (DOMAIN.md "Authority and four eyes"): its ketua
        and the board officers in office it named as approvers."""
        from django.contrib.auth import get_user_model

        if self.pk is None:
            return get_user_model().objects.none()
        at = at or timezone.localdate()
        named = BoardMember.objects.filter(lkmm=self, decides=True).current(at).values("user_id")
        return (
            get_user_model()
            .objects.filter(is_active=True, staff__lkmm=self)
            .filter(Q(staff__role=Role.KETUA) | Q(pk__in=named))
            .order_by("first_name", "username")
        )


class Role(models.TextChoices):
    PENGELOLA = "pengelola", _("Pengelola")
    KETUA = "ketua", _("Ketua")
    DINAS = "dinas", _("Peninjau Dinas")


class Staff(models.Model):
    """The role of a login. LKMM staff belong to exactly one LKMM; Dinas reviewers to one Dinas (and no
    LKMM): they read that Dinas's LKMMs.

    Admins are Django superusers and need no Staff row; they work in Django admin.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff",
        verbose_name=_("pengguna"),
    )
    role = models.CharField(_("peran"), max_length=20, choices=Role.choices)
    lkmm = models.ForeignKey(
        Lkmm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("LKMM"),
    )
    dinas = models.ForeignKey(
        Dinas,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewers",
        verbose_name=_("Dinas"),
        help_text=_("Hanya untuk peninjau Dinas."),
    )
    phone = models.CharField(_("telepon"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("staf")
        verbose_name_plural = _("staf")
        constraints = [
            models.CheckConstraint(
                condition=(Q(role=Role.DINAS) & Q(lkmm__isnull=True) & Q(dinas__isnull=False))
                | (Q(role__in=[Role.PENGELOLA, Role.KETUA]) & Q(lkmm__isnull=False) & Q(dinas__isnull=True)),
                name="institutions_staff_role_matches_lkmm",
                violation_error_message=_(
                    "Staf LKMM harus punya LKMM dan tanpa Dinas; peninjau Dinas punya Dinas dan tanpa LKMM."
                ),
            )
        ]

    def __str__(self):
        return f"{self.user.get_username()} ({self.get_role_display()})"

    @property
    def records(self):
        """May record members, loans and repayments (for their own LKMM)."""
        return self.role in (Role.PENGELOLA, Role.KETUA)

    @cached_property
    def approves(self):
        """Decides for the LKMM: the ketua, or a board officer in office named as an approver."""
        if self.role == Role.KETUA:
            return True
        if self.role != Role.PENGELOLA:
            return False
        return (
            BoardMember.objects.filter(lkmm_id=self.lkmm_id, user_id=self.user_id, decides=True)
            .current(timezone.localdate())
            .exists()
        )

    @property
    def is_dinas(self):
        return self.role == Role.DINAS


class AuditLog(models.Model):
    """Who did what, when and why: one row for every state or money change (append-only)."""

    created_at = models.DateTimeField(_("waktu"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("oleh"),
    )
    lkmm = models.ForeignKey(
        Lkmm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("LKMM"),
    )
    action = models.CharField(_("tindakan"), max_length=50, db_index=True)
    object_type = models.CharField(_("jenis objek"), max_length=50)
    object_id = models.BigIntegerField(_("id objek"))
    reason = models.TextField(_("alasan"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    objects = LkmmScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("catatan audit")
        verbose_name_plural = _("catatan audit")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class BoardRole(models.TextChoices):
    KETUA = "ketua", _("Ketua")
    SEKRETARIS = "sekretaris", _("Sekretaris")
    BENDAHARA = "bendahara", _("Bendahara")
    PENGAWAS = "pengawas", _("Pengawas")


class ElectionMethod(models.TextChoices):
    MUSYAWARAH = "musyawarah", _("Musyawarah mufakat")
    VOTING = "voting", _("Pemungutan suara")
    AKLAMASI = "aklamasi", _("Aklamasi")


class CommunityMeeting(models.Model):
    """The musyawarah in which the community chose a board: managers are chosen, not appointed."""

    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("LKMM"))
    held_on = models.DateField(_("tanggal musyawarah"))
    place = models.CharField(_("tempat"), max_length=120)
    attendees = models.PositiveIntegerField(_("jumlah hadir"))
    method = models.CharField(_("cara memilih"), max_length=20, choices=ElectionMethod.choices)
    notes = models.TextField(_("catatan"), blank=True)
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
        verbose_name = _("musyawarah pemilihan pengurus")
        verbose_name_plural = _("musyawarah pemilihan pengurus")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return f"{self.lkmm} {self.held_on:%d/%m/%Y}"


class BoardMemberQuerySet(LkmmScopedQuerySet):
    def current(self, at):
        return self.filter(term_start__lte=at).filter(Q(term_end__isnull=True) | Q(term_end__gte=at))


class BoardMember(models.Model):
    """A seat on an LKMM's board (pengurus) for a term; past terms are the history of past boards."""

    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="board", verbose_name=_("LKMM"))
    meeting = models.ForeignKey(
        CommunityMeeting, on_delete=models.PROTECT, related_name="board_members", verbose_name=_("dipilih di")
    )
    name = models.CharField(_("nama"), max_length=120)
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="board_seats",
        verbose_name=_("anggota"),
        help_text=_("Jika pengurus juga anggota LKMM."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="board_seats",
        verbose_name=_("akun staf"),
    )
    role = models.CharField(_("jabatan"), max_length=20, choices=BoardRole.choices)
    decides = models.BooleanField(
        _("penyetuju"),
        default=False,
        help_text=_("Memutus seperti ketua selama menjabat (perlu akun staf LKMM ini)."),
    )
    term_start = models.DateField(_("mulai menjabat"))
    term_end = models.DateField(_("akhir masa jabatan"), null=True, blank=True)

    objects = BoardMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("pengurus")
        verbose_name_plural = _("pengurus")
        ordering = ["lkmm", "-term_start", "role"]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_end__isnull=True) | Q(term_end__gte=F("term_start")),
                name="institutions_board_term_ends_after_start",
                violation_error_message=_("Akhir masa jabatan tidak boleh sebelum mulainya."),
            ),
            models.CheckConstraint(
                condition=Q(decides=False) | Q(user__isnull=False),
                name="institutions_board_approver_has_login",
                violation_error_message=_("Penyetuju harus punya akun staf."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_role_display()})"


class RequestKind(models.TextChoices):
    """The decisions that act at once without four eyes and become a request under it."""

    REVERSAL = "reversal", _("Pembatalan pembayaran")
    WAIVER = "waiver", _("Pembebasan denda")
    RESTRUCTURE = "restructure", _("Restrukturisasi")
    WRITE_OFF = "write_off", _("Hapus buku")
    RECOVERY = "recovery", _("Pemulihan pinjaman hapus buku")
    RESERVE = "reserve", _("Alokasi cadangan risiko")
    CLOSE = "close", _("Tutup buku")
    REOPEN = "reopen", _("Buka kembali bulan")
    WITHDRAWAL = "withdrawal", _("Penarikan simpanan")
    SAVINGS_REVERSAL = "savings_reversal", _("Pembatalan mutasi simpanan")
    SAVINGS_RETURN = "savings_return", _("Pengembalian simpanan anggota keluar")
    YEAR_CLOSE = "year_close", _("Tutup tahun (SHU)")
    SHU_DISTRIBUTION = "shu_distribution", _("Pembagian SHU")
    SHU_REVERSAL = "shu_reversal", _("Pembatalan pembagian SHU")
    SHU_COLLECT = "shu_collect", _("Pembayaran SHU yang ditahan")
    FUND_SPEND = "fund_spend", _("Penggunaan dana sosial/pengurus")
    FUND_REVERSAL = "fund_reversal", _("Pembatalan penggunaan dana")


class RequestStatus(models.TextChoices):
    WAITING = "menunggu", _("Menunggu keputusan")
    APPROVED = "disetujui", _("Disetujui")
    REJECTED = "ditolak", _("Ditolak")
    WITHDRAWN = "ditarik", _("Ditarik")


class DecisionRequestQuerySet(LkmmScopedQuerySet):
    def waiting(self):
        return self.filter(status=RequestStatus.WAITING)


class DecisionRequest(models.Model):
    """Under four eyes: a decision proposed by one person and taken, or refused, by another approver.

    `payload` holds the proposed decision's inputs (dates as ISO text, objects by id); on approval the
    same service that acts at once without four eyes runs with the approver as its actor, so the books
    and the audit trail are the same either way (institutions.decisions).
    """

    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="requests", verbose_name=_("LKMM"))
    kind = models.CharField(_("jenis"), max_length=20, choices=RequestKind.choices)
    # What the request is about ("loan:12", "repayment:40", "month:2026-11"): one waiting request each.
    target = models.CharField(_("tentang"), max_length=40)
    summary = models.CharField(_("ringkasan"), max_length=200)
    payload = models.JSONField(_("isi"), default=dict)
    reason = models.TextField(_("alasan"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.WAITING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("diajukan oleh")
    )
    requested_at = models.DateTimeField(_("diajukan pada"), auto_now_add=True)
    # Who recorded the item decided on (a payment's recorder): excluded from deciding, like the requester.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dicatat oleh"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("diputuskan oleh"),
    )
    decided_at = models.DateTimeField(_("diputuskan pada"), null=True, blank=True)
    decision_note = models.TextField(_("catatan keputusan"), blank=True)

    objects = DecisionRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("permintaan keputusan")
        verbose_name_plural = _("permintaan keputusan")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lkmm", "kind", "target"],
                condition=Q(status="menunggu"),
                name="institutions_one_waiting_request_per_target",
                violation_error_message=_("Permintaan yang sama sudah menunggu keputusan."),
            )
        ]
        indexes = [models.Index(fields=["lkmm", "status"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.summary}"

    @property
    def excluded_ids(self):
        """Who may not decide this request under four eyes: whoever proposed it or recorded its item."""
        return {pk for pk in (self.requested_by_id, self.recorded_by_id) if pk is not None}


class LoginSession(models.Model):
    """Which session a user logged in with, so that deactivating the user or changing their role can end
    every one of them (institutions.security.end_sessions). Rows go with the logout or the ending."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("pengguna")
    )
    session_key = models.CharField(_("kunci sesi"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("masuk pada"), auto_now_add=True)

    class Meta:
        verbose_name = _("sesi masuk")
        verbose_name_plural = _("sesi masuk")

    def __str__(self):
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"
