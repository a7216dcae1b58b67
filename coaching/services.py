"""Writes of coaching records and their follow-ups: keyword-only, one transaction each, with their audit
rows. Only a Dinas reviewer records coaching (DOMAIN.md: the reviewer writes only coaching records and
the Dinas's own settings), for the LKMMs in their scope; a follow-up's owner or a reviewer marks it done."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coaching.models import CoachingRecord, FollowUp
from institutions.models import Lkmm
from institutions.services import audit_record

RECORDED = "pembinaan_dicatat"
FOLLOW_UP_ADDED = "tindak_lanjut_dicatat"
FOLLOW_UP_DONE = "tindak_lanjut_selesai"


def is_reviewer(user):
    staff = getattr(user, "staff", None)
    return staff is not None and staff.is_dinas


def _check_reviewer(actor, lkmms):
    if not is_reviewer(actor):
        raise PermissionDenied(_("Hanya peninjau Dinas yang mencatat pembinaan."))
    visible = set(
        Lkmm.objects.for_user(actor).filter(pk__in=[lkmm.pk for lkmm in lkmms]).values_list("pk", flat=True)
    )
    if any(lkmm.pk not in visible for lkmm in lkmms):
        raise PermissionDenied(_("LKMM ini di luar wilayah Anda."))


@transaction.atomic
def coaching_record_create(*, actor, kind, held_on, lkmms, attendees, topic, findings=""):
    """A visit, training or quarterly meeting covering `lkmms` (one or more), with one audit row for each
    LKMM, so each LKMM's audit trail shows it."""
    lkmms = list(lkmms)
    if not lkmms:
        raise ValidationError({"lkmms": _("Pilih sedikitnya satu LKMM.")})
    _check_reviewer(actor, lkmms)
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": _("Tanggal ini tidak boleh di masa depan.")})
    record = CoachingRecord(
        kind=kind, held_on=held_on, attendees=attendees, topic=topic, findings=findings, recorded_by=actor
    )
    record.full_clean()
    record.save()
    record.lkmms.set(lkmms)
    for lkmm in lkmms:
        audit_record(
            actor=actor,
            action=RECORDED,
            obj=record,
            lkmm=lkmm,
            data={"kind": kind, "held_on": held_on.isoformat(), "topic": topic, "lkmms": len(lkmms)},
        )
    return record


def may_own(user, lkmm):
    """A follow-up's owner is someone of that LKMM or of the Dinas."""
    staff = getattr(user, "staff", None)
    if staff is None or not user.is_active:
        return False
    return staff.is_dinas or staff.lkmm_id == lkmm.pk


@transaction.atomic
def follow_up_create(*, actor, record, lkmm, action, owner, due_on):
    _check_reviewer(actor, [lkmm])
    if not record.lkmms.filter(pk=lkmm.pk).exists():
        raise ValidationError({"lkmm": _("Pembinaan ini tidak mencakup LKMM tersebut.")})
    if not may_own(owner, lkmm):
        raise ValidationError({"owner": _("Penanggung jawab harus orang dari LKMM itu atau dari Dinas.")})
    follow_up = FollowUp(
        record=record, lkmm=lkmm, action=action, owner=owner, due_on=due_on, created_by=actor
    )
    follow_up.full_clean()
    follow_up.save()
    audit_record(
        actor=actor,
        action=FOLLOW_UP_ADDED,
        obj=follow_up,
        lkmm=lkmm,
        data={"record": record.pk, "action": action, "owner": owner.pk, "due_on": due_on.isoformat()},
    )
    return follow_up


def may_mark_done(user, follow_up):
    return follow_up.done_on is None and (user.pk == follow_up.owner_id or is_reviewer(user))


@transaction.atomic
def follow_up_done(*, actor, follow_up, done_on, note=""):
    """Mark a follow-up done: by its owner, or by a reviewer (whose scope the caller has checked by
    reading the follow-up through FollowUp.objects.for_user)."""
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if actor.pk != follow_up.owner_id and not is_reviewer(actor):
        raise PermissionDenied(_("Hanya penanggung jawab atau peninjau Dinas yang menandai selesai."))
    if follow_up.done_on is not None:
        raise ValidationError(_("Tindak lanjut ini sudah selesai."))
    if done_on > timezone.localdate():
        raise ValidationError({"done_on": _("Tanggal ini tidak boleh di masa depan.")})
    if done_on < follow_up.record.held_on:
        raise ValidationError({"done_on": _("Tanggal selesai tidak boleh sebelum tanggal pembinaan.")})
    follow_up.done_on, follow_up.done_by, follow_up.note = done_on, actor, note
    follow_up.full_clean()
    follow_up.save(update_fields=["done_on", "done_by", "note"])
    audit_record(
        actor=actor,
        action=FOLLOW_UP_DONE,
        obj=follow_up,
        lkmm=follow_up.lkmm,
        data={"done_on": done_on.isoformat(), "note": note},
    )
    return follow_up
