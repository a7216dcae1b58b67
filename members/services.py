from django.db import transaction
from django.db.models import Max

from institutions.models import Lkmm
from institutions.services import audit_record
from members.models import Member


@transaction.atomic
def member_register(*, lkmm, actor, **fields):
    """Register an admitted member of `lkmm` with the next member number of that LKMM."""
    # Lock the LKMM row so that two registrations at once cannot take the same number.
    Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    last = Member.objects.filter(lkmm=lkmm).aggregate(n=Max("number"))["n"] or 0
    member = Member(lkmm=lkmm, number=last + 1, created_by=actor, **fields)
    member.full_clean()
    member.save()
    audit_record(actor=actor, action="member.register", obj=member, lkmm=lkmm)
    return member
