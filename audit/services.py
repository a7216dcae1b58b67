"""Rows of the app's audit log for events that change no business row: logins, refused accesses and
downloads of member data. They sit beside the state changes in institutions.AuditLog, so one page and
one export show them all."""

import logging

from django.conf import settings
from django.db import DatabaseError, transaction

from institutions.models import AuditLog

logger = logging.getLogger(__name__)

LOGIN = "login"
LOGIN_FAILED = "login_gagal"
LOGOUT = "logout"
LOCKED_OUT = "login_terkunci"
ACCESS_REFUSED = "akses_ditolak"
DOWNLOAD = "unduh"
SECURITY_ACTIONS = (LOGIN, LOGIN_FAILED, LOGOUT, LOCKED_OUT, ACCESS_REFUSED, DOWNLOAD)


def client_ip(request):
    """The client's address: REMOTE_ADDR, or behind our own reverse proxy (BEHIND_PROXY) the address
    that proxy appended last to X-Forwarded-For (earlier entries come from the client and can be forged)."""
    if request is None:
        return None
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:45]
    return (request.META.get("REMOTE_ADDR") or "")[:45] or None


def _lkmm_of(user):
    staff = getattr(user, "staff", None) if user is not None else None
    return staff.lkmm if staff is not None else None


def security_event(*, request, action, user=None, obj=None, lkmm=None, data=None):
    """Record `action` by `user` (default: the request's user) on `obj` (default: the user's account).

    Its own transaction, and never fatal: a failed log write is logged, the response still goes out.
    """
    if user is None and request is not None and getattr(request, "user", None) is not None:
        user = request.user
    if user is not None and not user.is_authenticated:
        user = None
    row = {
        "ip": client_ip(request),
        "path": (request.path or "")[:300] if request is not None else "",
        "method": request.method if request is not None else "",
        **(data or {}),
    }
    row = {key: value for key, value in row.items() if value not in (None, "")}
    if obj is None:
        object_type, object_id = "auth.user", user.pk if user is not None else 0
    else:
        object_type, object_id = obj._meta.label_lower, obj.pk
    try:
        with transaction.atomic():
            return AuditLog.objects.create(
                actor=user,
                lkmm=lkmm if lkmm is not None else _lkmm_of(user),
                action=action,
                object_type=object_type,
                object_id=object_id,
                data=row,
            )
    except DatabaseError:
        logger.exception("Could not record the audit event %s", action)
        return None


def download_recorded(request, *, what, lkmm=None, obj=None, fmt=""):
    """A download of member data (an export, a photo): who, when, from where, what."""
    return security_event(
        request=request, action=DOWNLOAD, obj=obj or lkmm, lkmm=lkmm, data={"what": what, "format": fmt}
    )
