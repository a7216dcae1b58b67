"""Pembinaan: the Dinas's visits, trainings and quarterly meetings with LKMMs, what they found, and the
follow-up actions agreed, each with an owner and a due date (DOMAIN.md "Dinas staff coach the managers
and members in stages"). Reviewers record them (coaching.services); LKMM staff read their own LKMM's."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from institutions.models import Lkmm, LkmmScopedQuerySet, lkmm_scope


class CoachingKind(models.TextChoices):
    KUNJUNGAN = "kunjungan", _("Kunjungan")
    PELATIHAN = "pelatihan", _("Pelatihan")
    RAPAT_TRIWULAN = "rapat_triwulan", _("Rapat triwulan")


class CoachingRecordQuerySet(models.QuerySet):
    def for_user(self, user):
        """A record covers one or more LKMMs: LKMM staff see it when it covers their LKMM, a reviewer
        when it covers any LKMM in their scope (institutions.models.lkmm_scope)."""
        scope = lkmm_scope(user)
        if scope is None:
            return self
        if not scope:
            return self.none()
        covered = CoachingRecord.lkmms.through.objects.filter(coachingrecord=OuterRef("pk"), lkmm__in=scope)
        return self.filter(Exists(covered))


class CoachingRecord(models.Model):
    kind = models.CharField(_("jenis"), max_length=20, choices=CoachingKind.choices)
    held_on = models.DateField(_("tanggal"))
    lkmms = models.ManyToManyField(Lkmm, related_name="coaching_records", verbose_name=_("LKMM"))
    attendees = models.TextField(_("yang hadir"), max_length=1000)
    topic = models.CharField(_("topik"), max_length=200)
    findings = models.TextField(_("temuan"), max_length=4000, blank=True)
    recorded_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("dicatat oleh")
    )

    objects = CoachingRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("catatan pembinaan")
        verbose_name_plural = _("catatan pembinaan")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.held_on:%d/%m/%Y}: {self.topic}"


class FollowUpQuerySet(LkmmScopedQuerySet):
    def open(self):
        return self.filter(done_on__isnull=True)

    def overdue(self, today=None):
        """Open and due before `today` (an action due today is not late yet)."""
        return self.open().filter(due_on__lt=today or timezone.localdate())

    def for_box(self):
        """Open follow-ups, the most overdue first, with what the box shows (coaching/_followups_box.html)."""
        return self.open().select_related("record", "lkmm", "owner").order_by("due_on", "pk")


class FollowUp(models.Model):
    """An action agreed at a coaching record for one of its LKMMs, owned by someone of that LKMM or of
    the Dinas, due by a date; marked done by its owner or a reviewer."""

    record = models.ForeignKey(
        CoachingRecord, on_delete=models.PROTECT, related_name="follow_ups", verbose_name=_("pembinaan")
    )
    lkmm = models.ForeignKey(Lkmm, on_delete=models.PROTECT, related_name="+", verbose_name=_("LKMM"))
    action = models.CharField(_("tindak lanjut"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="coaching_follow_ups",
        verbose_name=_("penanggung jawab"),
    )
    due_on = models.DateField(_("batas waktu"))
    done_on = models.DateField(_("selesai pada"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("diselesaikan oleh"),
    )
    note = models.CharField(_("catatan"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("dicatat oleh")
    )

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("tindak lanjut pembinaan")
        verbose_name_plural = _("tindak lanjut pembinaan")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_on__isnull=True, done_by__isnull=True)
                | Q(done_on__isnull=False, done_by__isnull=False),
                name="coaching_followup_done_with_whom",
            )
        ]
        indexes = [
            models.Index(fields=["lkmm", "due_on"], condition=Q(done_on__isnull=True), name="coaching_open")
        ]

    def __str__(self):
        return self.action

    @property
    def is_overdue(self):
        return self.done_on is None and self.due_on < timezone.localdate()
