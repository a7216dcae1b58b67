"""The database settings read from the environment (lkmm/settings.py): the pooler, persistent
connections, statement and idle-transaction timeouts, and the replica. Each test runs the settings file
afresh with its own environment and command line."""

import sys
from pathlib import Path

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

ROUTER = "lkmm.db_routers.ReplicaRouter"

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "lkmm" / "settings.py"
DATABASE_VARIABLES = [
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "DATABASE_POOLER",
    "CONN_MAX_AGE",
    "CONN_HEALTH_CHECKS",
    "DB_STATEMENT_TIMEOUT_MS",
    "DB_COMMAND_STATEMENT_TIMEOUT_MS",
    "DB_REPLICA_STATEMENT_TIMEOUT_MS",
    "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
]
PRIMARY_URL = "postgres://lkmm:secret@db.example:5432/lkmm"
REPLICA_URL = "postgres://lkmm:secret@replica.example:5432/lkmm"


def load_settings(monkeypatch, argv=("gunicorn", "lkmm.wsgi"), **variables):
    """lkmm/settings.py run afresh with these environment variables and this command line."""
    for name in DATABASE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", list(argv))
    monkeypatch.setattr(environ.Env, "read_env", lambda *args, **kwargs: None)  # a developer's .env
    # Not runpy.run_path: it replaces sys.argv[0], which the settings read.
    namespace = {"__file__": str(SETTINGS_FILE), "__name__": "settings_under_test"}
    exec(compile(SETTINGS_FILE.read_text(), SETTINGS_FILE, "exec"), namespace)
    return namespace


def options(database):
    return database.get("OPTIONS", {}).get("options")


def test_postgresql_defaults_persistent_connections_with_timeouts(monkeypatch):
    loaded = load_settings(monkeypatch, DATABASE_URL=PRIMARY_URL)

    default = loaded["DATABASES"]["default"]
    assert default["CONN_MAX_AGE"] == 60
    assert default["CONN_HEALTH_CHECKS"] is True
    assert "DISABLE_SERVER_SIDE_CURSORS" not in default
    assert options(default) == (
        "-c jit=off -c statement_timeout=30000 -c idle_in_transaction_session_timeout=60000"
    )
    assert list(loaded["DATABASES"]) == ["default"]
    assert "DATABASE_ROUTERS" not in loaded


def test_timeouts_from_the_environment(monkeypatch):
    loaded = load_settings(
        monkeypatch,
        DATABASE_URL=PRIMARY_URL,
        DB_STATEMENT_TIMEOUT_MS="5000",
        DB_IDLE_IN_TRANSACTION_TIMEOUT_MS="10000",
        CONN_HEALTH_CHECKS="off",
    )
    default = loaded["DATABASES"]["default"]
    assert "-c statement_timeout=5000 " in options(default)
    assert options(default).endswith("-c idle_in_transaction_session_timeout=10000")
    assert default["CONN_HEALTH_CHECKS"] is False


@pytest.mark.parametrize(
    ("argv", "timeout"),
    [
        (["manage.py", "check_books"], 0),
        (["/srv/lkmm/manage.py", "migrate"], 0),
        (["manage.py", "runserver"], 30000),  # serves web requests
        (["pytest"], 30000),
    ],
)
def test_management_commands_run_without_a_statement_timeout(monkeypatch, argv, timeout):
    loaded = load_settings(monkeypatch, argv=argv, DATABASE_URL=PRIMARY_URL)
    assert f"-c statement_timeout={timeout} " in options(loaded["DATABASES"]["default"])


def test_a_command_timeout_from_the_environment(monkeypatch):
    loaded = load_settings(
        monkeypatch,
        argv=["manage.py", "check_books"],
        DATABASE_URL=PRIMARY_URL,
        DB_COMMAND_STATEMENT_TIMEOUT_MS="600000",
    )
    assert "-c statement_timeout=600000 " in options(loaded["DATABASES"]["default"])


def test_pgbouncer_transaction_mode(monkeypatch):
    loaded = load_settings(monkeypatch, DATABASE_URL=PRIMARY_URL, DATABASE_POOLER="pgbouncer")

    default = loaded["DATABASES"]["default"]
    assert default["CONN_MAX_AGE"] == 0
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert options(default) is None  # PgBouncer refuses startup options: ALTER ROLE sets them


def test_an_unknown_pooler_stops_the_server(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOLER"):
        load_settings(monkeypatch, DATABASE_URL=PRIMARY_URL, DATABASE_POOLER="pgpool")


def test_a_replica_url_adds_the_alias_and_the_router(monkeypatch):
    loaded = load_settings(
        monkeypatch,
        DATABASE_URL=PRIMARY_URL,
        DATABASE_REPLICA_URL=REPLICA_URL,
        DB_REPLICA_STATEMENT_TIMEOUT_MS="120000",
    )

    replica = loaded["DATABASES"]["replica"]
    assert replica["HOST"] == "replica.example"
    assert replica["CONN_MAX_AGE"] == 60
    assert "-c statement_timeout=120000 " in options(replica)
    assert "-c statement_timeout=30000 " in options(loaded["DATABASES"]["default"])
    assert loaded["DATABASE_ROUTERS"] == [ROUTER]
    assert loaded["REPLICA_AFTER_WRITE_SECONDS"] == 10


def test_sqlite_gets_no_startup_options(monkeypatch, tmp_path):
    loaded = load_settings(monkeypatch, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert options(loaded["DATABASES"]["default"]) is None
