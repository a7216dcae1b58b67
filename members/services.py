"""Writes for members: admission on trust, status changes, groups and income follow-ups.

Every function is one transaction that records its audit row; status changes go through
member_transition, which checks MEMBER_TRANSITIONS and records who, when and why.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.access import check_decider
from institutions.models import BoardMember, Lkmm
from institutions.services import audit_record
from members.models import (
    MEMBER_TRANSITIONS,
    Decision,
    Group,
    GroupMembership,
    IncomeRecord,
    Member,
    MembershipApplication,
    MemberStatus,
    MemberStatusChange,
)


def _check_referee(*, lkmm, applicant, referee_member=None, referee_board=None):
    if (referee_member is None) == (referee_board is None):
        raise ValidationError({"referee": _("Pilih satu penjamin: seorang anggota atau seorang pengurus.")})
    if referee_member is not None:
        if referee_member.lkmm_id != lkmm.pk or referee_member.status != MemberStatus.AKTIF:
            raise ValidationError({"referee": _("Penjamin harus anggota aktif LKMM ini.")})
        if applicant is not None and referee_member.pk == applicant.pk:
            raise ValidationError({"referee": _("Pendaftar tidak dapat menjamin dirinya sendiri.")})
    if referee_board is not None:
        current = BoardMember.objects.current(timezone.localdate()).filter(pk=referee_board.pk, lkmm=lkmm)
        if not current.exists():
            raise ValidationError({"referee": _("Penjamin harus pengurus LKMM ini yang sedang menjabat.")})


def _application_create(
    *, member, actor, referee_member=None, referee_board=None, business_plan, requested_amount
):
    _check_referee(
        lkmm=member.lkmm, applicant=member, referee_member=referee_member, referee_board=referee_board
    )
    application = MembershipApplication(
        member=member,
        referee_member=referee_member,
        referee_board=referee_board,
        business_plan=business_plan,
        requested_amount=requested_amount,
        submitted_by=actor,
    )
    application.full_clean()
    application.save()
    return application


@transaction.atomic
def member_apply(*, lkmm, actor, application, **fields):
    """Register an applicant (pendaftar) with their application: who vouches, the plan, the first loan.

    `application` holds referee_member or referee_board, business_plan and requested_amount.
    """
    # Lock the LKMM row so that two registrations at once cannot take the same number.
    Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    last = Member.objects.filter(lkmm=lkmm).aggregate(n=Max("number"))["n"] or 0
    member = Member(lkmm=lkmm, number=last + 1, created_by=actor, status=MemberStatus.PENDAFTAR, **fields)
    member.full_clean()
    member.save()
    _application_create(member=member, actor=actor, **application)
    MemberStatusChange.objects.create(
        member=member, from_status="", to_status=MemberStatus.PENDAFTAR, by=actor
    )
    audit_record(actor=actor, action="member.apply", obj=member, lkmm=lkmm)
    return member


@transaction.atomic
def member_transition(*, member, to, actor, reason="", application=None):
    """Change a member's status if MEMBER_TRANSITIONS allows it, and record who, when and why.

    Leaving `pendaftar` decides the pending application (the ketua; with four eyes, not the person
    who recorded it). Entering `pendaftar` again needs a new application (`application` dict).
    """
    member = Member.objects.select_for_update().select_related("lkmm").get(pk=member.pk)
    key = (member.status, to)
    if key not in MEMBER_TRANSITIONS:
        raise ValidationError(
            _("Status anggota tidak dapat diubah dari %(from)s menjadi %(to)s.")
            % {"from": member.get_status_display(), "to": MemberStatus(to).label}
        )
    reason = (reason or "").strip()
    if MEMBER_TRANSITIONS[key] and not reason:
        raise ValidationError({"reason": _("Tulis alasannya.")})
    if member.status == MemberStatus.PENDAFTAR:
        _decide_application(member=member, actor=actor, approve=to == MemberStatus.AKTIF, reason=reason)
    if key == (MemberStatus.DIBLOKIR, MemberStatus.AKTIF):
        check_decider(actor, lkmm=member.lkmm, what=_("pembukaan blokir anggota"))
    if to == MemberStatus.KELUAR:
        from loans.models import Loan, LoanStatus

        if Loan.objects.filter(member=member, status__in=[LoanStatus.AKTIF, LoanStatus.DIAJUKAN]).exists():
            raise ValidationError(
                _("Anggota masih punya pinjaman yang berjalan atau diajukan; lunasi atau batalkan dulu.")
            )
        from savings.models import SavingsAccount

        if SavingsAccount.objects.filter(member=member, balance_derived__gt=0).exists():
            raise ValidationError(
                _("Anggota masih punya saldo simpanan; kembalikan simpanannya dulu (halaman simpanan).")
            )
    if to == MemberStatus.PENDAFTAR:
        if not application:
            raise ValidationError(_("Pendaftaran ulang memerlukan permohonan baru."))
        _application_create(member=member, actor=actor, **application)
    if to in (MemberStatus.KELUAR, MemberStatus.DIBLOKIR):
        # Leaving or being blocked ends the group membership; the group page shows the smaller group.
        GroupMembership.objects.filter(member=member, left_on__isnull=True).update(
            left_on=timezone.localdate()
        )
    MemberStatusChange.objects.create(
        member=member, from_status=member.status, to_status=to, by=actor, reason=reason
    )
    audit_record(
        actor=actor,
        action=f"member.{to}",
        obj=member,
        lkmm=member.lkmm,
        reason=reason,
        data={"from": member.status, "to": to},
    )
    member.status = to
    member.save(update_fields=["status"])
    if to == MemberStatus.AKTIF:
        from savings.services import accounts_open

        accounts_open(member=member)
    return member


def member_edits(member_ids):
    """{member id: [(when, who)]} of the corrections of those members' details, in one query."""
    from institutions.models import AuditLog

    edits = {}
    rows = AuditLog.objects.filter(
        object_type="members.member", object_id__in=list(member_ids), action="member.edit"
    ).values_list("object_id", "created_at", "actor_id")
    for member_id, at, actor_id in rows:
        edits.setdefault(member_id, []).append((at, actor_id))
    return edits


def application_recorders(application, edits=None):
    """Who recorded a membership application: its submitter and whoever edited the applicant's details
    since (an edit counts as recording, DOMAIN.md). `edits`: member_edits() of a page, read once."""
    if edits is None:
        edits = member_edits([application.member_id])
    since = application.submitted_at
    editors = [actor for at, actor in edits.get(application.member_id, []) if at >= since]
    return [application.submitted_by_id, *editors]


def _decide_application(*, member, actor, approve, reason):
    application = MembershipApplication.objects.select_for_update().filter(member=member).pending().first()
    if application is None:
        raise ValidationError(_("Tidak ada permohonan yang menunggu keputusan."))
    check_decider(
        actor, lkmm=member.lkmm, recorded_by=application_recorders(application), what=_("permohonan anggota")
    )
    application.decision = Decision.APPROVED if approve else Decision.REJECTED
    application.decided_by = actor
    application.decided_at = timezone.now()
    application.decision_reason = reason
    application.save(update_fields=["decision", "decided_by", "decided_at", "decision_reason"])


def _active_group_members(group):
    return GroupMembership.objects.filter(group=group, left_on__isnull=True)


def _check_joinable(*, lkmm, member):
    if member.lkmm_id != lkmm.pk or member.status != MemberStatus.AKTIF:
        raise ValidationError(
            {"members": _("%(name)s bukan anggota aktif LKMM ini.") % {"name": member.full_name}}
        )
    if GroupMembership.objects.filter(member=member, left_on__isnull=True).exists():
        raise ValidationError(
            {"members": _("%(name)s sudah masuk kelompok lain.") % {"name": member.full_name}}
        )


@transaction.atomic
def group_create(*, lkmm, actor, name, meeting_day, meeting_place, joint_liability, members, leader, on=None):
    on = on or timezone.localdate()
    lkmm = Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    members = list({m.pk: m for m in members}.values())
    if not lkmm.group_min_size <= len(members) <= lkmm.group_max_size:
        raise ValidationError(
            {
                "members": _("Kelompok di LKMM ini beranggota %(min)d sampai %(max)d orang; dipilih %(n)d.")
                % {"min": lkmm.group_min_size, "max": lkmm.group_max_size, "n": len(members)}
            }
        )
    for member in members:
        _check_joinable(lkmm=lkmm, member=member)
    if leader is None or leader.pk not in {m.pk for m in members}:
        raise ValidationError({"leader": _("Ketua kelompok harus salah satu anggota kelompok.")})
    group = Group(
        lkmm=lkmm,
        name=name,
        meeting_day=meeting_day,
        meeting_place=meeting_place,
        joint_liability=joint_liability,
        leader=leader,
    )
    group.full_clean()
    group.save()
    GroupMembership.objects.bulk_create(GroupMembership(group=group, member=m, joined_on=on) for m in members)
    audit_record(
        actor=actor, action="group.create", obj=group, lkmm=lkmm, data={"members": [m.pk for m in members]}
    )
    return group


@transaction.atomic
def group_update(*, group, actor, name, meeting_day, meeting_place, joint_liability, leader):
    group = Group.objects.select_for_update().get(pk=group.pk)
    if leader is None or not _active_group_members(group).filter(member=leader).exists():
        raise ValidationError({"leader": _("Ketua kelompok harus salah satu anggota kelompok.")})
    fields = ("name", "meeting_day", "meeting_place", "joint_liability", "leader")

    def shown(name):
        display = getattr(group, f"get_{name}_display", None)
        return _shown(display() if display else getattr(group, name))

    before = {name: shown(name) for name in fields}
    group.name, group.meeting_day, group.meeting_place = name, meeting_day, meeting_place
    group.joint_liability, group.leader = joint_liability, leader
    group.full_clean()
    group.save()
    after = {name: shown(name) for name in fields}
    changes = {name: [before[name], after[name]] for name in fields if before[name] != after[name]}
    audit_record(actor=actor, action="group.update", obj=group, lkmm=group.lkmm, data={"changes": changes})
    return group


@transaction.atomic
def group_add_member(*, group, member, actor, on=None):
    group = Group.objects.select_for_update().select_related("lkmm").get(pk=group.pk)
    if not group.is_active:
        raise ValidationError(_("Kelompok ini sudah tidak aktif."))
    if _active_group_members(group).count() >= group.lkmm.group_max_size:
        raise ValidationError(
            {
                "member": _("Kelompok sudah penuh (maksimal %(max)d orang).")
                % {"max": group.lkmm.group_max_size}
            }
        )
    try:
        _check_joinable(lkmm=group.lkmm, member=member)
    except ValidationError as exc:
        raise ValidationError({"member": exc.message_dict["members"]}) from None
    membership = GroupMembership.objects.create(
        group=group, member=member, joined_on=on or timezone.localdate()
    )
    audit_record(
        actor=actor, action="group.add_member", obj=group, lkmm=group.lkmm, data={"member": member.pk}
    )
    return membership


@transaction.atomic
def group_remove_member(*, group, member, actor, reason, on=None):
    group = Group.objects.select_for_update().select_related("lkmm").get(pk=group.pk)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Tulis alasannya.")})
    membership = _active_group_members(group).filter(member=member).first()
    if membership is None:
        raise ValidationError(_("%(name)s bukan anggota kelompok ini.") % {"name": member.full_name})
    if group.leader_id == member.pk:
        raise ValidationError(_("Ganti ketua kelompok dulu sebelum mengeluarkannya."))
    if _active_group_members(group).count() - 1 < group.lkmm.group_min_size:
        raise ValidationError(
            _("Kelompok minimal %(min)d orang; tambah anggota dulu.") % {"min": group.lkmm.group_min_size}
        )
    membership.left_on = on or timezone.localdate()
    membership.full_clean()
    membership.save(update_fields=["left_on"])
    audit_record(
        actor=actor,
        action="group.remove_member",
        obj=group,
        lkmm=group.lkmm,
        reason=reason,
        data={"member": member.pk},
    )
    return membership


@transaction.atomic
def income_record(*, member, actor, recorded_on, turnover, net_income, note=""):
    if member.status != MemberStatus.AKTIF:
        raise ValidationError(_("Pendapatan usaha dicatat untuk anggota aktif."))
    if recorded_on > timezone.localdate():
        raise ValidationError({"recorded_on": _("Tanggal tidak boleh di masa depan.")})
    if recorded_on < member.joined_on:
        raise ValidationError(
            {
                "recorded_on": _("Tanggal tidak boleh sebelum anggota masuk (%(d)s).")
                % {"d": member.joined_on.strftime("%d/%m/%Y")}
            }
        )
    record = IncomeRecord(
        member=member,
        recorded_on=recorded_on,
        turnover=turnover,
        net_income=net_income,
        note=note,
        created_by=actor,
    )
    record.full_clean()
    record.save()
    audit_record(actor=actor, action="member.income", obj=record, lkmm=member.lkmm)
    return record


IDENTITY_FIELDS = ("nik", "birth_date")


def _shown(value):
    """A value as the history shows it: dates dd/mm/yyyy, objects by name, files by name."""
    if value is None or value is False:
        return ""
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, File):  # a photo: its file name
        return value.name or ""
    return str(value)


@transaction.atomic
def member_update(*, member, actor, reason, changes):
    """Correct a member's details with a reason; NIK and birth date only by who decides for the LKMM.
    The audit row keeps each field's old and new value: the member page shows it as the history."""
    member = Member.objects.select_for_update().select_related("lkmm").get(pk=member.pk)
    staff = getattr(actor, "staff", None)
    if staff is None or not staff.records or staff.lkmm_id != member.lkmm_id:
        raise PermissionDenied(_("Hanya pengurus LKMM ini yang dapat mengubah data anggota."))
    if set(changes) & set(IDENTITY_FIELDS) and not staff.approves:
        raise PermissionDenied(_("NIK dan tanggal lahir hanya diubah oleh ketua."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tulis alasan perubahan.")})
    before = {name: getattr(member, name) for name in changes}
    for name, value in changes.items():
        setattr(member, name, value)
    member.full_clean()
    changed = [name for name in changes if _shown(before[name]) != _shown(getattr(member, name))]
    if not changed:
        raise ValidationError(_("Tidak ada yang berubah."))
    member.save(update_fields=changed)
    audit_record(
        actor=actor,
        action="member.edit",
        obj=member,
        lkmm=member.lkmm,
        reason=reason,
        data={"changes": {name: [_shown(before[name]), _shown(getattr(member, name))] for name in changed}},
    )
    return member
