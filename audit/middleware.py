import pghistory.middleware
from django.db import connection

from audit import services


class HistoryContextMiddleware(pghistory.middleware.HistoryMiddleware):
    """Attach the acting user, the client's IP and the request path to every write of the request.

    pghistory prefixes each statement with `set_config('pghistory.context_metadata', ..., true)`: the
    value is local to the statement's transaction, so it stays right behind PgBouncer in transaction
    mode, where consecutive transactions of one client may run on different server connections. The
    database triggers read it when they copy a row into the history (audit/models.py). Only PostgreSQL
    has the triggers; on SQLite the middleware does nothing. Place it after AuthenticationMiddleware.
    """

    def get_context(self, request):
        return {**super().get_context(request), "ip": services.client_ip(request)}

    def __call__(self, request):
        if connection.vendor != "postgresql":
            return self.get_response(request)
        return super().__call__(request)


class RefusedAccessMiddleware:
    """Record 403 and 404 answers to logged-in users (`akses_ditolak`): who tried to open what.

    Anonymous requests are left out: they are redirected to the login page, and a 404 to a crawler
    says nothing about anyone's access. Place it after AuthenticationMiddleware.
    """

    STATUSES = (403, 404)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if response.status_code in self.STATUSES and user is not None and user.is_authenticated:
            services.security_event(
                request=request, action=services.ACCESS_REFUSED, data={"status": response.status_code}
            )
        return response
