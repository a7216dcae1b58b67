"""Who may open which view. Data scoping itself lives in LkmmScopedQuerySet.for_user."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def _staff(user):
    return getattr(user, "staff", None)


def staff_required(view):
    """Any LKMM staff or Dinas reviewer (reading). Superusers without a role use Django admin."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if _staff(request.user) is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def recorder_required(view):
    """Pengelola or ketua of an LKMM: the people who record. Dinas reviewers get 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        staff = _staff(request.user)
        if staff is None or not staff.records:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def ketua_required(view):
    """Approvals and the LKMM's own configuration: the ketua only."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        staff = _staff(request.user)
        if staff is None or not staff.approves:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def check_approver(user, *, lkmm, recorded_by_id, what):
    """Raise unless `user` may approve `what`, recorded in `lkmm` by the user with id `recorded_by_id`.

    The ketua approves. Where the LKMM requires four eyes, approval comes from a second person: any of
    its recording staff (ketua or pengelola) except the one who recorded it. This one rule serves
    membership decisions, loan approvals and payment reversals alike.
    """
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    staff = _staff(user)
    if staff is None or not staff.records or staff.lkmm_id != lkmm.pk:
        raise PermissionDenied(_("Hanya pengurus LKMM ini yang dapat menyetujui %(what)s.") % {"what": what})
    if lkmm.four_eyes:
        if recorded_by_id == user.pk:
            raise ValidationError(
                _(
                    "LKMM ini memakai prinsip empat mata: %(what)s disetujui oleh orang lain "
                    "daripada yang mencatatnya."
                )
                % {"what": what}
            )
    elif not staff.approves:
        raise PermissionDenied(_("Hanya ketua yang dapat menyetujui %(what)s.") % {"what": what})


def may_approve(user, *, lkmm, recorded_by_id):
    """Whether to offer `user` the approval buttons (the service checks again with check_approver)."""
    from django.core.exceptions import ValidationError

    try:
        check_approver(user, lkmm=lkmm, recorded_by_id=recorded_by_id, what="")
    except (PermissionDenied, ValidationError):
        return False
    return True
