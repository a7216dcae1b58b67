from django.contrib.auth import get_user_model
from django.db import transaction

from institutions.models import AuditLog, Lkmm, Role, Staff


def audit_record(*, actor, action, obj, lkmm=None, reason="", data=None):
    """Write the audit row of a state change; call inside the change's transaction."""
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        lkmm=lkmm,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        reason=reason,
        data=data or {},
    )


@transaction.atomic
def lkmm_create(*, actor=None, code, name, desa, kecamatan, founded_on, **fields):
    from ledger.services import chart_ensure

    lkmm = Lkmm(code=code, name=name, desa=desa, kecamatan=kecamatan, founded_on=founded_on, **fields)
    lkmm.full_clean()
    lkmm.save()
    chart_ensure(lkmm=lkmm)
    audit_record(actor=actor, action="lkmm.create", obj=lkmm, lkmm=lkmm)
    return lkmm


@transaction.atomic
def staff_create(*, actor=None, username, password, role, lkmm=None, first_name="", last_name=""):
    user = get_user_model().objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name
    )
    staff = Staff(user=user, role=role, lkmm=lkmm if role != Role.DINAS else None)
    staff.full_clean()
    staff.save()
    audit_record(actor=actor, action="staff.create", obj=staff, lkmm=staff.lkmm, data={"role": role})
    return staff
