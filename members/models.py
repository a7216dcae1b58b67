from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from institutions.models import Lkmm, LkmmScopedQuerySet


class Gender(models.TextChoices):
    MALE = "L", _("Laki-laki")
    FEMALE = "P", _("Perempuan")


class MemberStatus(models.TextChoices):
    # The admission workflow (pendaftar -> aktif/ditolak, ...) arrives with the members issue; for now a
    # manager registers an admitted member directly as aktif.
    PENDAFTAR = "pendaftar", _("Pendaftar")
    AKTIF = "aktif", _("Aktif")
    DITOLAK = "ditolak", _("Ditolak")
    KELUAR = "keluar", pgettext_lazy("member status", "Keluar")
    DIBLOKIR = "diblokir", _("Diblokir")


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
        return self.filter(
            models.Q(full_name__icontains=text)
            | models.Q(nik__startswith=text)
            | models.Q(phone__contains=text.lstrip("0"))
            | models.Q(desa__icontains=text)
        )


rt_rw_validator = RegexValidator(r"^\d{3}$", _("Tulis 3 angka, misalnya 004."))


class Member(models.Model):
    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="members", verbose_name=_("LKMM"))
    number = models.PositiveIntegerField(_("nomor anggota"), editable=False)
    nik = models.CharField(_("NIK"), max_length=16)
    full_name = models.CharField(_("nama lengkap"), max_length=120)
    gender = models.CharField(_("jenis kelamin"), max_length=1, choices=Gender.choices)
    birth_place = models.CharField(_("tempat lahir"), max_length=80, blank=True)
    birth_date = models.DateField(_("tanggal lahir"))
    phone = models.CharField(_("telepon/WA"), max_length=16, blank=True)
    address = models.CharField(_("alamat (jalan, nomor)"), max_length=200, blank=True)
    rt = models.CharField(_("RT"), max_length=3, blank=True, validators=[rt_rw_validator])
    rw = models.CharField(_("RW"), max_length=3, blank=True, validators=[rt_rw_validator])
    dusun = models.CharField(_("dusun"), max_length=80, blank=True)
    desa = models.CharField(_("desa/kelurahan"), max_length=80)
    business = models.CharField(
        _("usaha"), max_length=200, help_text=_("Misalnya: warung kelontong, jual sayur keliling.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=MemberStatus.choices, default=MemberStatus.AKTIF
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
        ]
        indexes = [models.Index(fields=["nik"])]

    def __str__(self):
        return f"{self.full_name} ({self.code})"

    @property
    def code(self):
        return f"A-{self.number:04d}"
