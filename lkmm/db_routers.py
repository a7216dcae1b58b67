"""Reads of report pages from a streaming replica (DATABASE_REPLICA_URL), everything else from the primary.

Only views marked with `@reads_replica` read the replica, and only for GET and HEAD. A client that sent
a POST (or any other unsafe method) in the last REPLICA_AFTER_WRITE_SECONDS carries a cookie that keeps
its reads on the primary, so the page it lands on after recording something shows what it recorded even
when the replica is a moment behind. Writes, `select_for_update()` and every query inside a transaction
on the primary always use the primary. Without a replica the router is not installed (settings.py) and
the decorator changes nothing. docs/deploy-postgresql.md describes the set-up.
"""

from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
AFTER_WRITE_COOKIE = "lkmm_primary"
SAFE_METHODS = ("GET", "HEAD")

# Set by @reads_replica for the duration of one view call, read by the router.
_reading_replica = ContextVar("reading_replica", default=False)


def reads_replica(view):
    """Let this view's GET and HEAD requests read the replica. Put it under the access decorator
    (`@staff_required`), so that the session, the user and their role are read from the primary."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in SAFE_METHODS or AFTER_WRITE_COOKIE in request.COOKIES:
            return view(request, *args, **kwargs)
        token = _reading_replica.set(True)
        try:
            return view(request, *args, **kwargs)
        finally:
            _reading_replica.reset(token)

    return wrapped


class PrimaryAfterWriteMiddleware:
    """After a request with an unsafe method, keep this client's reads on the primary for
    REPLICA_AFTER_WRITE_SECONDS (a cookie, so it holds across the redirect that follows a form and needs
    no session read to check). It does nothing when no replica is configured."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and REPLICA in settings.DATABASES:
            response.set_cookie(
                AFTER_WRITE_COOKIE,
                "1",
                max_age=settings.REPLICA_AFTER_WRITE_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


class ReplicaRouter:
    """Reads go to the replica inside a `@reads_replica` view, outside any transaction on the primary;
    all else goes to the primary. The replica is the primary's copy, so relations across the two are
    fine, and it is never migrated (it replays the primary's schema)."""

    def db_for_read(self, model, **hints):
        if _reading_replica.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
