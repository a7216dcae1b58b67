import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from institutions.models import AuditLog, Dinas, Lkmm, Role, Staff


def audit_row(*, actor, action, obj, lkmm=None, reason="", data=None):
    """The (unsaved) audit row of a state change: audit_record saves one, audit_records many."""
    return AuditLog(
        actor=actor if actor is not None and actor.is_authenticated else None,
        lkmm=lkmm,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        reason=reason,
        data=data or {},
    )


def audit_record(*, actor, action, obj, lkmm=None, reason="", data=None):
    """Write the audit row of a state change; call inside the change's transaction."""
    row = audit_row(actor=actor, action=action, obj=obj, lkmm=lkmm, reason=reason, data=data)
    row.save()
    return row


def audit_records(rows):
    """Write the audit rows (audit_row) of many state changes of one transaction in one query, in order."""
    return AuditLog.objects.bulk_create(rows)


def dinas_for(code=None):
    """The Dinas named by `code`, or the only one when none is named (an error while there are several
    or none): the deployment of one city never has to name it."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if code:
        dinas = Dinas.objects.filter(code=code).first()
        if dinas is None:
            raise ValidationError(_("Tidak ada Dinas dengan kode %(code)s.") % {"code": code})
        return dinas
    dinas = Dinas.only_one()
    if dinas is None:
        raise ValidationError(
            _("Sebutkan Dinasnya (--dinas KODE): ada %(n)d Dinas.") % {"n": Dinas.objects.count()}
        )
    return dinas


@transaction.atomic
def dinas_create(*, actor=None, code, name, kabupaten, provinsi, **settings):
    dinas = Dinas(code=code, name=name, kabupaten=kabupaten, provinsi=provinsi, **settings)
    dinas.full_clean()
    dinas.save()
    audit_record(actor=actor, action="dinas.create", obj=dinas)
    return dinas


DINAS_SETTINGS = ["npl_threshold_pct", "par30_threshold_pct", "coverage_threshold_pct", "cash_limit"]


@transaction.atomic
def dinas_settings_update(*, dinas, actor, **changes):
    """Change the Dinas's own settings (thresholds, cash limit); one audit row with before and after."""
    from django.core.exceptions import ValidationError

    unknown = set(changes) - set(DINAS_SETTINGS)
    if unknown:
        raise ValidationError(f"Not a Dinas setting: {', '.join(sorted(unknown))}")
    dinas = Dinas.objects.select_for_update().get(pk=dinas.pk)
    before = {name: getattr(dinas, name) for name in DINAS_SETTINGS}
    for name, value in changes.items():
        if isinstance(value, Decimal):  # stored with two decimals: compare and record them so
            value = value.quantize(Decimal("0.01"))
        setattr(dinas, name, value)
    dinas.full_clean()
    after = {name: getattr(dinas, name) for name in DINAS_SETTINGS}
    changed = {
        name: [str(before[name]), str(after[name])] for name in DINAS_SETTINGS if before[name] != after[name]
    }
    if not changed:
        return dinas
    dinas.save(update_fields=list(changed))
    audit_record(actor=actor, action="dinas.settings", obj=dinas, data={"changes": changed})
    return dinas


@transaction.atomic
def lkmm_create(*, actor=None, code, name, desa, kecamatan, founded_on, dinas=None, **fields):
    """A new LKMM under `dinas` (the only Dinas when not given); its kabupaten defaults to the Dinas's."""
    from ledger.services import chart_ensure

    dinas = dinas or dinas_for()
    if not fields.get("kabupaten"):
        fields["kabupaten"] = dinas.kabupaten
    lkmm = Lkmm(
        code=code, name=name, desa=desa, kecamatan=kecamatan, founded_on=founded_on, dinas=dinas, **fields
    )
    lkmm.full_clean()
    lkmm.save()
    chart_ensure(lkmm=lkmm)
    from savings.services import products_ensure

    products_ensure(lkmm=lkmm)
    audit_record(actor=actor, action="lkmm.create", obj=lkmm, lkmm=lkmm)
    return lkmm


@transaction.atomic
def staff_create(*, actor=None, username, password, role, lkmm=None, dinas=None, first_name="", last_name=""):
    """A login with its role: LKMM staff of `lkmm`; a Dinas reviewer of `dinas` (the only Dinas when
    not given)."""
    if role == Role.DINAS:
        lkmm, dinas = None, dinas or dinas_for()
    else:
        dinas = None
    user = get_user_model().objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name
    )
    staff = Staff(user=user, role=role, lkmm=lkmm, dinas=dinas)
    staff.full_clean()
    staff.save()
    audit_record(actor=actor, action="staff.create", obj=staff, lkmm=staff.lkmm, data={"role": role})
    return staff


@transaction.atomic
def board_elect(*, lkmm, actor, held_on, place, attendees, method, notes="", seats):
    """Record the musyawarah that chose a board and seat the people it chose.

    `seats` is a list of dicts (name, role, member, user, term_end). The seats of the board in office
    end the day before the new board starts, so the previous board becomes history.
    """
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from institutions.models import BoardMember, BoardRole, CommunityMeeting

    if not any(seat["role"] == BoardRole.KETUA for seat in seats):
        raise ValidationError({"seats": _("Pengurus harus punya seorang ketua.")})
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": _("Tanggal musyawarah tidak boleh di masa depan.")})
    if attendees < 1:
        raise ValidationError({"attendees": _("Musyawarah harus dihadiri warga.")})
    Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    meeting = CommunityMeeting(
        lkmm=lkmm,
        held_on=held_on,
        place=place,
        attendees=attendees,
        method=method,
        notes=notes,
        created_by=actor,
    )
    meeting.full_clean()
    meeting.save()
    previous_end = held_on - datetime.timedelta(days=1)
    BoardMember.objects.filter(lkmm=lkmm, term_start__lte=previous_end).filter(
        Q(term_end__isnull=True) | Q(term_end__gt=previous_end)
    ).update(term_end=previous_end)
    for seat in seats:
        member = seat.get("member")
        if member is not None and member.lkmm_id != lkmm.pk:
            raise ValidationError({"seats": _("Pengurus yang anggota harus anggota LKMM ini.")})
        user = seat.get("user")
        if user is not None and getattr(getattr(user, "staff", None), "lkmm_id", None) != lkmm.pk:
            raise ValidationError({"seats": _("Akun staf pengurus harus akun staf LKMM ini.")})
        if seat.get("term_end") is not None and seat["term_end"] < held_on:
            raise ValidationError({"seats": _("Akhir masa jabatan tidak boleh sebelum musyawarah.")})
        board_member = BoardMember(
            lkmm=lkmm,
            meeting=meeting,
            term_start=held_on,
            name=seat["name"],
            role=seat["role"],
            member=member,
            user=seat.get("user"),
            decides=bool(seat.get("decides")),
            term_end=seat.get("term_end"),
        )
        board_member.full_clean()
        board_member.save()
    if lkmm.four_eyes and lkmm.deciders(at=held_on).count() < 2:
        raise ValidationError(
            {
                "seats": _(
                    "LKMM ini memakai empat mata: tunjuk sedikitnya satu penyetuju selain ketua "
                    "(pengurus dengan akun staf)."
                )
            }
        )
    audit_record(actor=actor, action="board.elect", obj=meeting, lkmm=lkmm, data={"seats": len(seats)})
    return meeting
