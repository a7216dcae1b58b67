"""Who may open which view and who may decide. Data scoping itself lives in LkmmScopedQuerySet.for_user.

One rule decides every decision (DOMAIN.md "Authority and four eyes"): authority comes from the role
alone (the ketua, or a board officer in office the LKMM named as an approver: `Staff.approves`); four
eyes adds a condition and never removes one: the person who decides must not be the one who recorded
or proposed the item. Decisions that act at once without four eyes (reversal, waiver, restructure,
write-off, recovery, reserve movements, close) become a request by a recorder or approver and a
decision by another approver under it (institutions.decisions).
"""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

DECIDE = "decide"
REQUEST = "request"


def _staff(user):
    return getattr(user, "staff", None)


def _role_required(test):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            staff = _staff(request.user)
            if staff is None or not test(staff):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# Any LKMM staff or Dinas reviewer (reading). Superusers without a role use Django admin.
staff_required = _role_required(lambda staff: True)
# Pengelola or ketua of an LKMM: the people who record. Dinas reviewers get 403.
recorder_required = _role_required(lambda staff: staff.records)
# The LKMM's own configuration (products, the board): whoever decides for it.
decider_required = _role_required(lambda staff: staff.approves)


def _own_staff(user, lkmm):
    staff = _staff(user)
    if staff is None or not staff.records or staff.lkmm_id != lkmm.pk:
        return None
    return staff


# Set only while a four-eyes request's inputs are checked by running its service in a transaction that
# is always rolled back (institutions.decisions.request_create): the proposer is not the decider there.
_checking_request = ContextVar("checking_request", default=False)


@contextmanager
def checking_request():
    token = _checking_request.set(True)
    try:
        yield
    finally:
        _checking_request.reset(token)


# Set only while an imported book's history is recorded (books.importer): the person who confirmed the
# import (a decider, checked before) stands behind every decision in those books, which were taken
# long ago by people who are not users of this system.
_recording_history = ContextVar("recording_history", default=False)


@contextmanager
def recording_history():
    token = _recording_history.set(True)
    try:
        yield
    finally:
        _recording_history.reset(token)


def check_decider(user, *, lkmm, what, recorded_by=(), requested_by=None, at_once=False):
    """Raise unless `user` may decide `what` for `lkmm`.

    `recorded_by`: ids of whoever recorded the item (an application, a payment). `at_once`: a decision
    that acts at once without four eyes; under four eyes it must come from a request (`requested_by`,
    the proposer) and is taken by another approver.
    """
    if _checking_request.get() or _recording_history.get():
        return
    staff = _own_staff(user, lkmm)
    if staff is None or not staff.approves:
        raise PermissionDenied(
            _("Hanya ketua atau penyetuju LKMM ini yang dapat memutuskan %(what)s.") % {"what": what}
        )
    if not lkmm.four_eyes:
        return
    if at_once and requested_by is None:
        raise ValidationError(
            _(
                "LKMM ini memakai prinsip empat mata: %(what)s diajukan dulu, lalu diputuskan oleh "
                "penyetuju lain."
            )
            % {"what": what}
        )
    excluded = {pk for pk in recorded_by if pk is not None}
    if requested_by is not None:
        excluded.add(requested_by.pk)
    if user.pk in excluded:
        raise ValidationError(
            _(
                "LKMM ini memakai prinsip empat mata: %(what)s diputuskan oleh penyetuju lain daripada "
                "yang mencatat atau mengajukannya."
            )
            % {"what": what}
        )


def may_decide(user, *, lkmm, recorded_by=(), requested_by=None, at_once=False):
    """Whether to offer `user` the decision buttons (the service checks again with check_decider)."""
    try:
        check_decider(
            user, lkmm=lkmm, what="", recorded_by=recorded_by, requested_by=requested_by, at_once=at_once
        )
    except (PermissionDenied, ValidationError):
        return False
    return True


def decision_mode(user, *, lkmm):
    """For a decision that acts at once without four eyes: DECIDE (act now), REQUEST (propose it, for
    another approver to decide) or None (not this person's to touch)."""
    staff = _own_staff(user, lkmm)
    if staff is None:
        return None
    if lkmm.four_eyes:
        return REQUEST
    return DECIDE if staff.approves else None


def deciders_of(lkmm, *, excluded=()):
    """Names of those who may decide, for the page that tells someone who cannot."""
    return [
        user.get_full_name() or user.get_username() for user in lkmm.deciders() if user.pk not in excluded
    ]


# The Dinas's own pages (its home, its settings): its reviewers only. LKMM staff get 403.
dinas_required = _role_required(lambda staff: staff.is_dinas)
