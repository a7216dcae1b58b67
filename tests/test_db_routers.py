"""Reads from the replica (lkmm/db_routers.py).

The test settings add a "replica" alias that mirrors the test database. The page tests here turn the
router on and run without the test-wide transaction (transaction=True): the replica is a connection of
its own, which would not see rows written inside another connection's transaction. Each page test
captures the queries of both connections and checks which one read the page's data.
"""

import io
from contextlib import ExitStack, contextmanager

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connections, router, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from institutions.models import Lkmm
from lkmm.db_routers import AFTER_WRITE_COOKIE, REPLICA, ReplicaRouter, reads_replica
from tests.factories import PASSWORD, LkmmFactory, StaffFactory, login, pass_second_factor

ROUTER = "lkmm.db_routers.ReplicaRouter"
BOTH = ["default", REPLICA]
HOME = reverse("reports:home")
# The session, the user and their role: what the access decorators read before the view runs.
AUTH_TABLES = ('"django_session"', '"auth_user"', '"institutions_staff"', '"otp_totp_totpdevice"')


@pytest.fixture
def routing(settings):
    settings.DATABASE_ROUTERS = [ROUTER]


@contextmanager
def captured():
    """The queries run on each alias inside the block: {"default": [sql, ...], "replica": [...]}."""
    with ExitStack() as stack:
        contexts = {alias: stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in BOTH}
        queries = {alias: [] for alias in BOTH}
        yield queries
    for alias, context in contexts.items():
        queries[alias].extend(q["sql"] for q in context.captured_queries)


def reads(sqls, table):
    return any(f'"{table}"' in sql for sql in sqls)


def only_auth(sqls):
    """Only the login's reads, and the download's audit row (audit.services), touch the primary."""
    return all(any(table in sql for table in AUTH_TABLES) or _audit_write(sql) for sql in sqls)


def _audit_write(sql):
    # On PostgreSQL the audit trail's context (audit.middleware) comes first in the same statement.
    if sql.startswith("SELECT set_config('pghistory.context_id'"):
        sql = sql.split("; ", 1)[-1]
    return sql.startswith(
        ('INSERT INTO "institutions_auditlog"', "BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "COMMIT")
    )


# --- pages -----------------------------------------------------------------------------------------

# serialized_rollback: the flush after a committing test must not take the data migrations' rows with it.
pages = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=BOTH)


@pages
def test_decorated_get_reads_the_replica(routing, client):
    LkmmFactory(code="semenggu")
    login(client, StaffFactory(dinas=True))
    call_command("store_month_figures", stdout=io.StringIO())  # as the daily job has done

    with captured() as queries:
        response = client.get(HOME)  # the Dinas overview

    assert response.status_code == 200
    assert reads(queries[REPLICA], "institutions_lkmm")
    assert not reads(queries["default"], "institutions_lkmm")
    assert only_auth(queries["default"])


@pages
def test_decorated_report_and_ledger_pages_read_the_replica(routing, client):
    lkmm = LkmmFactory(code="semenggu")
    login(client, StaffFactory(lkmm=lkmm, ketua=True))
    urls = [
        reverse("reports:lkmm", args=[lkmm.code]),
        reverse("reports:arrears", args=[lkmm.code]),
        reverse("reports:quality", args=[lkmm.code]) + "?format=csv",
        reverse("risk:reserve", args=[lkmm.code]),
        reverse("risk:closes"),
        reverse("ledger:trial_balance", args=[lkmm.code]),
        reverse("ledger:cash_book", args=[lkmm.code]),
    ]
    for url in urls:
        with captured() as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        assert queries[REPLICA], url
        assert only_auth(queries["default"]), (url, queries["default"])


@pages
def test_post_to_a_decorated_view_reads_the_primary(routing, client):
    lkmm = LkmmFactory(code="semenggu")
    login(client, StaffFactory(lkmm=lkmm, ketua=True))

    with captured() as queries:
        response = client.post(reverse("reports:lkmm", args=[lkmm.code]))

    assert response.status_code == 200  # the dashboard does not look at the method
    assert queries[REPLICA] == []
    assert reads(queries["default"], "institutions_lkmm")


@pages
def test_after_a_post_the_next_pages_read_the_primary_until_the_marker_expires(routing, client, settings):
    settings.REPLICA_AFTER_WRITE_SECONDS = 7
    LkmmFactory(code="semenggu")
    dinas = StaffFactory(dinas=True)

    # Logging in is a write (the session); the page it redirects to must not miss it on a late replica.
    response = client.post(reverse("login"), {"username": dinas.user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies[AFTER_WRITE_COOKIE]["max-age"] == 7
    assert response.cookies[AFTER_WRITE_COOKIE]["httponly"]
    pass_second_factor(client, dinas)  # the code page, which is no read of the LKMM's figures

    with captured() as queries:
        assert client.get(HOME).status_code == 200
    assert queries[REPLICA] == []
    assert reads(queries["default"], "institutions_lkmm")

    del client.cookies[AFTER_WRITE_COOKIE]  # what the browser does after max-age seconds
    with captured() as queries:
        assert client.get(HOME).status_code == 200
    assert reads(queries[REPLICA], "institutions_lkmm")


@pages
def test_a_get_sets_no_marker(routing, client):
    login(client, StaffFactory(dinas=True))
    assert AFTER_WRITE_COOKIE not in client.get(HOME).cookies


@pages
def test_undecorated_view_reads_the_primary(routing, client):
    lkmm = LkmmFactory(code="semenggu")
    login(client, StaffFactory(lkmm=lkmm))

    with captured() as queries:
        response = client.get(reverse("loans:list"))

    assert response.status_code == 200
    assert queries[REPLICA] == []


@pages
def test_without_the_router_a_decorated_view_reads_the_primary(client):
    # As without DATABASE_REPLICA_URL: the test settings leave DATABASE_ROUTERS empty.
    LkmmFactory(code="semenggu")
    login(client, StaffFactory(dinas=True))

    with captured() as queries:
        assert client.get(HOME).status_code == 200

    assert queries[REPLICA] == []
    assert reads(queries["default"], "institutions_lkmm")


# --- the router and the decorator ------------------------------------------------------------------


@reads_replica
def where_reads_go(request):
    """The alias each kind of query would use inside a decorated view."""
    seen = {
        "read": Lkmm.objects.all().db,
        "write": router.db_for_write(Lkmm),
        "locking read": Lkmm.objects.select_for_update().db,
    }
    with transaction.atomic():
        seen["read in a transaction"] = Lkmm.objects.all().db
    return seen


@pages
def test_inside_a_decorated_get_only_plain_reads_outside_transactions_use_the_replica(routing):
    seen = where_reads_go(RequestFactory().get("/"))

    assert seen == {
        "read": REPLICA,
        "write": "default",
        "locking read": "default",
        "read in a transaction": "default",
    }
    assert Lkmm.objects.all().db == "default"  # the marker ends with the view


@pages
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_unsafe_methods_read_the_primary(routing, method):
    seen = where_reads_go(getattr(RequestFactory(), method)("/"))
    assert set(seen.values()) == {"default"}


@pages
def test_the_after_write_cookie_reads_the_primary(routing):
    request = RequestFactory().get("/")
    request.COOKIES[AFTER_WRITE_COOKIE] = "1"
    assert set(where_reads_go(request).values()) == {"default"}


def test_the_marker_is_reset_when_the_view_raises(routing):
    @reads_replica
    def failing(request):
        assert Lkmm.objects.all().db == REPLICA
        raise RuntimeError

    with pytest.raises(RuntimeError):
        failing(RequestFactory().get("/"))
    assert Lkmm.objects.all().db == "default"


def test_the_replica_is_never_migrated_and_relations_across_aliases_are_allowed():
    replica_router = ReplicaRouter()
    assert replica_router.allow_migrate("default", "loans")
    assert not replica_router.allow_migrate(REPLICA, "loans")
    primary, copy = Group(pk=1), Group(pk=2)
    primary._state.db, copy._state.db = "default", REPLICA
    assert replica_router.allow_relation(primary, copy)


def test_test_settings_mirror_the_replica_on_the_test_database():
    assert django_settings.DATABASES[REPLICA]["TEST"]["MIRROR"] == "default"
