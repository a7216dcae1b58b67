#!/usr/bin/env bash
# End-to-end check of the read replica (lkmm/db_routers.py) on two throwaway local clusters:
#
#   lkmm_primary on port 5440, and lkmm_standby on port 5441, a streaming standby made with
#   pg_basebackup -R. The app is migrated and loaded with the demo (seed_demo) on the primary, then
#   served by gunicorn with DATABASE_URL on the primary and DATABASE_REPLICA_URL on the standby.
#
# The check pauses WAL replay on the standby and changes data on the primary. From then on a page that
# reads the standby shows the data as it was, and a page that reads the primary shows the change. Both
# clusters also run with log_statement=all, and each fetch counts the statements on app tables that each
# cluster logged. A statement on the session, the user or the staff role does not count: the access
# decorators read those from the primary.
#
# Prints one PASS or FAIL line per check. It exits 1 on any FAIL and always drops both clusters
# (pg_dropcluster --stop). The main cluster (15/main) is never touched.
#
# Not run in CI. It needs PostgreSQL's Debian cluster tools (pg_createcluster), curl, and root or the
# postgres user. Usage, from anywhere:
#
#   bash bench/replica_check.sh
#   PYTHON=/path/to/venv/bin/python bash bench/replica_check.sh
set -euo pipefail

cd "$(dirname "$0")/.."

PG_VERSION=${PG_VERSION:-15}
PRIMARY=lkmm_primary
PRIMARY_PORT=5440
STANDBY=lkmm_standby
STANDBY_PORT=5441
APP_PORT=${APP_PORT:-8040}
PYTHON=${PYTHON:-.venv/bin/python}
AFTER_WRITE=3 # REPLICA_AFTER_WRITE_SECONDS for this run: the check waits 4 s for the cookie to expire
BASE=http://127.0.0.1:$APP_PORT
PRIMARY_URL=postgres://lkmm@127.0.0.1:$PRIMARY_PORT/lkmm
STANDBY_URL=postgres://lkmm@127.0.0.1:$STANDBY_PORT/lkmm
PRIMARY_LOG=/var/log/postgresql/postgresql-$PG_VERSION-$PRIMARY.log
STANDBY_LOG=/var/log/postgresql/postgresql-$PG_VERSION-$STANDBY.log
WORK=$(mktemp -d)
APP_PID=
failures=0

say() { printf '\n==> %s\n' "$*"; }
pass() { printf 'PASS  %s\n' "$*"; }
fail() {
    printf 'FAIL  %s\n' "$*"
    failures=$((failures + 1))
}
check() { # check DESCRIPTION COMMAND...: PASS when the command succeeds
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

sql() { # sql PORT DATABASE STATEMENT: one statement as the superuser, unaligned output
    psql -h 127.0.0.1 -p "$1" -U postgres -d "$2" -v ON_ERROR_STOP=1 -qAtX -c "$3"
}

cluster_exists() { pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$1" '$1 == v && $2 == c {f = 1} END {exit !f}'; }

drop_clusters() {
    local cluster
    for cluster in "$STANDBY" "$PRIMARY"; do
        if cluster_exists "$cluster"; then pg_dropcluster --stop "$PG_VERSION" "$cluster"; fi
    done
}

teardown() {
    set +e
    if [ -n "$APP_PID" ]; then
        kill "$APP_PID" 2>/dev/null
        wait "$APP_PID" 2>/dev/null
    fi
    say "Teardown: pg_dropcluster --stop $PG_VERSION $STANDBY and $PRIMARY"
    drop_clusters
    rm -rf "$WORK"
}
trap teardown EXIT

wait_for() { # wait_for SECONDS COMMAND...: until the command succeeds, or fail after SECONDS
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
        sleep 0.2
    done
}

standby_caught_up() {
    local lsn
    lsn=$(sql "$PRIMARY_PORT" postgres "SELECT pg_current_wal_lsn()")
    wait_for 60 test "$(sql "$STANDBY_PORT" postgres "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t
}

# --- clusters ----------------------------------------------------------------------------------------

say "Clusters $PG_VERSION/$PRIMARY (port $PRIMARY_PORT) and $PG_VERSION/$STANDBY (port $STANDBY_PORT)"
drop_clusters # left over from an interrupted run: these two names belong to this script
common=(--start-conf=manual -o log_statement=all)
pg_createcluster "$PG_VERSION" "$PRIMARY" --port "$PRIMARY_PORT" "${common[@]}" \
    -o wal_level=replica -o max_wal_senders=4 -- --auth-local=trust --auth-host=trust >/dev/null
pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PRIMARY" start
sql "$PRIMARY_PORT" postgres "CREATE ROLE lkmm LOGIN"
sql "$PRIMARY_PORT" postgres "CREATE DATABASE lkmm OWNER lkmm"
# The primary switch for JIT (docs/deploy-postgresql.md): it holds for every connection of the role,
# through a pooler too, and the standby has it as soon as it replays the catalog.
sql "$PRIMARY_PORT" postgres "ALTER ROLE lkmm SET jit = off"

pg_createcluster "$PG_VERSION" "$STANDBY" --port "$STANDBY_PORT" "${common[@]}" \
    -o hot_standby=on -- --auth-local=trust --auth-host=trust >/dev/null
standby_data=/var/lib/postgresql/$PG_VERSION/$STANDBY
# Emptied rather than removed: its parent belongs to root, so pg_basebackup could not create it again.
find "$standby_data" -mindepth 1 -delete
# -R writes standby.signal and primary_conninfo; -X stream brings the WAL written during the copy.
as_postgres pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$standby_data" -R -X stream -c fast
pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$STANDBY" start

say "Migrate and load the demo on the primary"
export DATABASE_URL=$PRIMARY_URL
"$PYTHON" manage.py migrate --noinput -v 0
"$PYTHON" manage.py seed_demo
standby_caught_up

say "Serve the app: DATABASE_URL=$PRIMARY_URL DATABASE_REPLICA_URL=$STANDBY_URL"
DATABASE_REPLICA_URL=$STANDBY_URL REPLICA_AFTER_WRITE_SECONDS=$AFTER_WRITE \
    "$PYTHON" -m gunicorn lkmm.wsgi:application --bind "127.0.0.1:$APP_PORT" --workers 2 \
    2>"$WORK/gunicorn.log" &
APP_PID=$!
wait_for 30 curl -sf -o /dev/null "$BASE/akun/masuk/" || {
    cat "$WORK/gunicorn.log"
    exit 1
}

# --- HTTP as the demo users ------------------------------------------------------------------------

jar() { echo "$WORK/$1.cookies"; }

login() { # login USER: the demo password, through the login form
    curl -sS -c "$(jar "$1")" -b "$(jar "$1")" -o /dev/null "$BASE/akun/masuk/"
    local token status
    token=$(awk '$6 == "csrftoken" {print $7}' "$(jar "$1")")
    status=$(curl -sS -c "$(jar "$1")" -b "$(jar "$1")" -o /dev/null -w '%{http_code}' \
        --data-urlencode "csrfmiddlewaretoken=$token" --data-urlencode "username=$1" \
        --data-urlencode "password=lkmm-demo" "$BASE/akun/masuk/")
    [ "$status" = 302 ]
}

# fetch USER PATH: GET as USER; the body goes to $WORK/body.html and the counts of statements on app
# tables that each cluster logged meanwhile to $on_primary and $on_standby.
fetch() {
    local primary_from standby_from
    primary_from=$(stat -c %s "$PRIMARY_LOG")
    standby_from=$(stat -c %s "$STANDBY_LOG")
    status=$(curl -sS -c "$(jar "$1")" -b "$(jar "$1")" -o "$WORK/body.html" -w '%{http_code}' "$BASE$2")
    sleep 0.3 # the server writes its log line as it runs the statement; give it a moment to land
    on_primary=$(app_statements "$PRIMARY_LOG" "$primary_from")
    on_standby=$(app_statements "$STANDBY_LOG" "$standby_from")
    printf '      GET %-45s as %-15s -> %s, app statements: primary %3s, standby %3s\n' \
        "$2" "$1" "$status" "$on_primary" "$on_standby"
}

app_statements() { # app_statements LOG OFFSET: statements on app tables logged after OFFSET
    tail -c +"$(($2 + 1))" "$1" | grep 'statement: ' |
        grep -cE '"(institutions_lkmm|members_|loans_|ledger_|risk_)' || true
}

# What a check asks of the last fetch; `all A B` holds when each of A and B does.
all() {
    local test
    for test; do "$test" || return 1; done
}
body_has() { grep -qF -- "$1" "$WORK/body.html"; }
read_standby() { [ "$status" = 200 ] && [ "$on_standby" -gt 0 ] && [ "$on_primary" -eq 0 ]; }
read_primary() { [ "$status" = 200 ] && [ "$on_primary" -gt 0 ] && [ "$on_standby" -eq 0 ]; }
old_name() { body_has "LKMM Semenggu" && ! body_has "LKMM Semenggu Baru"; }
new_name() { body_has "LKMM Semenggu Baru"; }
has_memo() { body_has "$memo"; }
not_found() { [ "$status" = 404 ]; }
standby_only() { [ "$on_standby" -gt 0 ] && [ "$on_primary" -eq 0 ]; }
entry_recorded() { [[ $entry == /buku/semenggu/jurnal/*/ ]]; }

# --- checks ------------------------------------------------------------------------------------------

say "Checks"
check "the standby streams from the primary" test \
    "$(sql "$PRIMARY_PORT" postgres "SELECT string_agg(state, ',') FROM pg_stat_replication")" = streaming
check "the standby is read-only (in recovery)" test "$(sql "$STANDBY_PORT" postgres "SELECT pg_is_in_recovery()")" = t
check "ALTER ROLE lkmm SET jit = off holds on the standby" \
    test "$(psql -h 127.0.0.1 -p "$STANDBY_PORT" -U lkmm -d lkmm -qAtX -c "SHOW jit")" = off


# What the app's own connections run with (lkmm/settings.py): `python -c` counts as web, manage.py as a
# command.
SHOW_SETTINGS='from django.db import connections
with connections[ALIAS].cursor() as cursor:
    cursor.execute("SELECT current_setting(%s), current_setting(%s), current_setting(%s)",
                   ["statement_timeout", "idle_in_transaction_session_timeout", "jit"])
    print(*cursor.fetchone())'
web_settings() {
    DATABASE_REPLICA_URL=$STANDBY_URL DJANGO_SETTINGS_MODULE=lkmm.settings "$PYTHON" -c \
        "import django; django.setup(); ${SHOW_SETTINGS/ALIAS/\"$1\"}"
}
command_settings() { "$PYTHON" manage.py shell -v 0 -c "${SHOW_SETTINGS/ALIAS/\"default\"}"; }
seen=$(web_settings default)
check "web connections to the primary: statement_timeout 30s, idle in transaction 1min, jit off ($seen)" \
    test "$seen" = "30s 1min off"
seen=$(web_settings replica)
check "web connections to the standby: the same ($seen)" test "$seen" = "30s 1min off"
seen=$(command_settings)
check "manage.py commands: no statement timeout ($seen)" test "$seen" = "0 1min off"

sql "$STANDBY_PORT" postgres "SELECT pg_wal_replay_pause()" >/dev/null
wait_for 10 test "$(sql "$STANDBY_PORT" postgres "SELECT pg_get_wal_replay_pause_state()")" = paused
sql "$PRIMARY_PORT" lkmm "UPDATE institutions_lkmm SET name = 'LKMM Semenggu Baru' WHERE code = 'semenggu'"
echo "      replay paused on the standby; on the primary, LKMM Semenggu is now 'LKMM Semenggu Baru'"

check "dinas logs in" login dinas
check "ketua.semenggu logs in" login ketua.semenggu
sleep $((AFTER_WRITE + 1)) # logging in is a POST: its cookie keeps the next reads on the primary

fetch dinas /
check "Dinas overview (decorated) reads the standby: the old name, no app statement on the primary" \
    all read_standby old_name
for path in /lkmm/semenggu/ /laporan/semenggu/tunggakan/ "/laporan/semenggu/kolektibilitas/?format=csv" \
    /risiko/cadangan/semenggu/ /buku/semenggu/ /buku/semenggu/kas/; do
    fetch dinas "$path"
    check "Dinas page $path (decorated) reads the standby" read_standby
done
fetch ketua.semenggu /
check "ketua's dashboard (decorated) reads the standby: the old name" \
    all read_standby old_name
fetch ketua.semenggu /pinjaman/
check "ketua's loan list (not decorated) reads the primary: the new name" \
    all read_primary new_name

# A cash voucher: the POST writes the entry on the primary and redirects to the entry's page.
memo="replica check $(cat /proc/sys/kernel/random/uuid)"
token=$(awk '$6 == "csrftoken" {print $7}' "$(jar ketua.semenggu)")
entry=$(curl -sS -c "$(jar ketua.semenggu)" -b "$(jar ketua.semenggu)" -o /dev/null -w '%{redirect_url}' \
    --data-urlencode "csrfmiddlewaretoken=$token" \
    --data-urlencode "date=$(TZ=Asia/Jakarta date +%d/%m/%Y)" \
    --data-urlencode "cash_account_code=1101" --data-urlencode "account_code=3101" \
    --data-urlencode "amount=50000" --data-urlencode "memo=$memo" \
    --data-urlencode "token=$(cat /proc/sys/kernel/random/uuid)" \
    "$BASE/buku/semenggu/bukti/baru/?kind=cash_in")
entry=${entry#"$BASE"}
check "ketua.semenggu records a cash voucher (POST, redirected to ${entry:-nothing})" \
    entry_recorded
fetch ketua.semenggu "$entry"
check "the entry's page right after the POST (decorated) reads the primary: the new entry" \
    all read_primary has_memo
fetch dinas "$entry"
check "the same page for dinas, who wrote nothing, reads the standby: not replayed yet, 404" \
    all not_found standby_only

sql "$STANDBY_PORT" postgres "SELECT pg_wal_replay_resume()" >/dev/null
check "the standby catches up once replay resumes" standby_caught_up
fetch dinas "$entry"
check "then dinas reads the entry from the standby" all read_standby has_memo
sleep $((AFTER_WRITE + 1))
fetch ketua.semenggu /
check "and ketua's dashboard, from the standby again, has the new name" \
    all read_standby new_name

if grep -q "Traceback" "$WORK/gunicorn.log"; then
    fail "gunicorn logged an error:"
    cat "$WORK/gunicorn.log"
fi

say "Result"
if [ "$failures" -eq 0 ]; then
    echo "PASS  all checks"
else
    echo "FAIL  $failures check(s)"
    exit 1
fi
