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
