#!/usr/bin/env python
"""Generate a province-sized book on PostgreSQL for the benchmarks (see bench/README.md).

Writes LKMMs, staff logins, members, loan products, loans, installments, repayments and allocations,
the kept standing of every loan and installment (loans.standing) and the ledger (chart of accounts,
one journal entry per disbursement and per repayment), straight to the tables with COPY: the services
would take hours at this size. The rows are what the services would have written, so
`manage.py check_books` is clean:

    /work/main/.venv/bin/python bench/generate.py --size small            # 40 LKMMs, 6,000 loans
    /work/main/.venv/bin/python bench/generate.py --size province         # 2,000 LKMMs, 300,000 loans
    /work/main/.venv/bin/python bench/generate.py --size small --check 5  # and check_books 5 LKMMs

Every repayment pays exactly one installment (its late fee if any, its interest, its principal), oldest
first, which is what the allocation engine does; allocations are unversioned (no reversals).
"""

import argparse
import datetime
import io
import os
import random
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_URL = f"{SERVER}/lkmm_bench"
# name: (LKMMs, loans, database)
SIZES = {
    "small": (40, 6_000, "lkmm_bench_small"),
    "province": (2_000, 300_000, "lkmm_bench"),
}
# Every generated login has this password: pengelola-<lkmm code>, ketua-<lkmm code> and dinas.
PASSWORD = "bench-sandi-2026"
DINAS_USERNAME = "dinas"
PRINCIPALS = [500_000, 750_000, 1_000_000, 1_500_000, 2_000_000, 2_500_000, 3_000_000, 5_000_000]
PRINCIPAL_WEIGHTS = [10, 8, 20, 15, 18, 10, 12, 7]
FIRST_NAMES = [
    "Siti",
    "Nur",
    "Sri",
    "Dewi",
    "Rina",
    "Wati",
    "Yuli",
    "Endang",
    "Lilik",
    "Umi",
    "Ani",
    "Sumarni",
    "Tutik",
    "Ernawati",
    "Ahmad",
    "Budi",
    "Slamet",
    "Agus",
    "Joko",
    "Hadi",
    "Imam",
    "Rudi",
    "Eko",
    "Bambang",
    "Mohammad",
    "Suparman",
    "Heru",
    "Samsul",
    "Fatimah",
    "Khoirul",
]
LAST_NAMES = [
    "Rahayu",
    "Wahyuni",
    "Lestari",
    "Handayani",
    "Kusuma",
    "Susanti",
    "Hidayat",
    "Santoso",
    "Prasetyo",
    "Wibowo",
    "Setiawan",
    "Saputra",
    "Hasanah",
    "Maulida",
    "Rohmah",
    "Fauzi",
    "Syahputra",
    "Nugroho",
    "Yulianti",
    "Purnomo",
]
KECAMATAN = [
    "Sumbersari",
    "Patrang",
    "Kaliwates",
    "Ajung",
    "Arjasa",
    "Jelbuk",
    "Pakusari",
    "Mayang",
    "Kalisat",
    "Ledokombo",
    "Sukowono",
    "Sumberjambe",
    "Silo",
    "Mumbulsari",
    "Jenggawah",
    "Rambipuji",
    "Balung",
    "Puger",
    "Wuluhan",
    "Ambulu",
    "Tempurejo",
    "Panti",
    "Sukorambi",
    "Bangsalsari",
    "Tanggul",
    "Sumberbaru",
    "Umbulsari",
    "Semboro",
    "Jombang",
    "Kencong",
    "Gumukmas",
]
KABUPATEN = [
    "Jember",
    "Banyuwangi",
    "Bondowoso",
    "Situbondo",
    "Lumajang",
    "Probolinggo",
    "Pasuruan",
    "Malang",
    "Blitar",
    "Kediri",
    "Tulungagung",
    "Trenggalek",
    "Ponorogo",
    "Pacitan",
    "Madiun",
    "Magetan",
    "Ngawi",
    "Bojonegoro",
    "Tuban",
    "Lamongan",
    "Gresik",
    "Mojokerto",
    "Jombang",
    "Nganjuk",
    "Sidoarjo",
    "Bangkalan",
    "Sampang",
    "Pamekasan",
    "Sumenep",
]
BUSINESSES = ["warung kelontong", "jual sayur keliling", "jahit", "gorengan", "ternak ayam", "tambal ban"]


# --- database -------------------------------------------------------------------------------------


def ensure_database(url):
    import psycopg2
    from psycopg2 import sql

    parts = urlparse(url)
    name = unquote(parts.path.lstrip("/"))
    conn = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    conn.close()
    return name


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "lkmm.settings"
    os.environ.setdefault("CONN_MAX_AGE", "0")
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"migrate: {time.perf_counter() - started:.1f} s")


# --- COPY -----------------------------------------------------------------------------------------


def _copy_text(value):
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


class CopyTable:
    """Rows for one model's table: the given columns per row, every other column its model default
    (computed once; auto_now_add fields get `now`). Flushed with COPY every `batch` rows."""

    def __init__(self, cursor, model, columns, now, batch=250_000):
        self.cursor, self.model, self.batch = cursor, model, batch
        self.table = model._meta.db_table
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in fields]
        if unknown:
            raise SystemExit(f"{self.table}: no such fields {unknown}")
        rest, tail = [], []
        for name, field in fields.items():
            if name in columns or field.primary_key:
                continue
            if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
                value = now
            else:
                value = field.get_default()
                if value is None and not field.null:
                    raise SystemExit(f"{self.table}.{field.column}: not null and no default; give it")
            rest.append(field.column)
            tail.append(_copy_text(value))
        self.columns = [fields[c].column for c in columns] + rest
        self.tail = ("\t" + "\t".join(tail) if tail else "") + "\n"
        self.buffer, self.pending, self.count = io.StringIO(), 0, 0

    def add(self, *values):
        """Values already in COPY text form (str), in the order of `columns`."""
        self.buffer.write("\t".join(values) + self.tail)
        self.pending += 1
        if self.pending >= self.batch:
            self.flush()

    def flush(self):
        if not self.pending:
            return
        self.buffer.seek(0)
        self.cursor.copy_expert(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN", self.buffer)
        self.count += self.pending
        self.buffer, self.pending = io.StringIO(), 0


# --- generation -----------------------------------------------------------------------------------

# Emptied (TRUNCATE ... CASCADE) before generating; CASCADE also empties what refers to them.
BOOK_TABLES = [
    "django_session",
    "institutions_auditlog",
    "risk_closedloanfigure",
    "ledger_periodclose",
    "risk_recovery",
    "ledger_journalline",
    "ledger_journalentry",
    "ledger_account",
    "loans_allocation",
    "loans_waiver",
    "loans_repayment",
    "loans_installment",
    "loans_loanstatuschange",
    "loans_loan",
    "loans_loanproduct",
    "members_member",
    "institutions_staff",
    "auth_user",
    "institutions_lkmm",
]
COUNTED_TABLES = [
    "institutions_lkmm",
    "auth_user",
    "members_member",
    "loans_loanproduct",
    "loans_loan",
    "loans_installment",
    "loans_repayment",
    "loans_allocation",
    "ledger_account",
    "ledger_journalentry",
    "ledger_journalline",
]


def book_size():
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM institutions_lkmm), (SELECT count(*) FROM loans_loan)")
        return cur.fetchone()


def split(total, parts, rng):
    """`total` split into `parts` uneven whole shares (lognormal sizes, as LKMMs differ)."""
    weights = [rng.lognormvariate(0, 0.5) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [int(w * scale) for w in weights]
    for i in sorted(range(parts), key=lambda i: -(weights[i] * scale - shares[i]))[: total - sum(shares)]:
        shares[i] += 1
    return shares


def generate(args, today):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from institutions.models import Dinas, Lkmm, Role, Staff
    from ledger.models import Account, AccountCode, EntryKind, JournalEntry, JournalLine
    from ledger.services import STANDARD_CHART
    from loans import schedule
    from loans.models import Allocation, Installment, Loan, LoanProduct, Repayment
    from members.models import Member
    from risk.models import QualityPolicy

    rng = random.Random(args.seed)
    # The cash management has its own stream, so the loans stay the ones the seed always gave.
    cash_rng = random.Random(args.seed + 1)
    now = timezone.now()
    policies = dict(QualityPolicy.objects.values_list("code", "pk"))
    iso = {}

    def d(date):
        text = iso.get(date)
        if text is None:
            text = iso[date] = date.isoformat()
        return text

    # Every generated LKMM and the reviewer belong to one Dinas (kept across runs: no book table).
    dinas_id = str(
        Dinas.objects.get_or_create(
            code="jember",
            defaults={
                "name": "Dinas Koperasi dan UMKM Kabupaten Jember",
                "kabupaten": "Jember",
                "provinsi": "Jawa Timur",
            },
        )[0].pk
    )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(BOOK_TABLES)} RESTART IDENTITY CASCADE")
        # The generated rows are consistent by construction: skip the FK triggers (and the ledger's
        # balance triggers, which check at commit what entries_balance checks afterwards) while loading.
        cur.execute("SET LOCAL session_replication_role = replica")
        lkmms = CopyTable(
            cur,
            Lkmm,
            [
                "id",
                "code",
                "name",
                "dinas_id",
                "desa",
                "kecamatan",
                "kabupaten",
                "founded_on",
                "quality_policy_id",
            ],
            now,
        )
        users = CopyTable(
            cur,
            get_user_model(),
            [
                "id",
                "username",
                "password",
                "first_name",
                "last_name",
                "is_superuser",
                "is_staff",
                "is_active",
            ],
            now,
        )
        staff = CopyTable(cur, Staff, ["id", "user_id", "role", "lkmm_id", "dinas_id"], now)
        members = CopyTable(
            cur,
            Member,
            [
                "id",
                "lkmm_id",
                "number",
                "nik",
                "full_name",
                "gender",
                "birth_date",
                "desa",
                "business",
                "joined_on",
                "status",
            ],
            now,
        )
        products = CopyTable(
            cur,
            LoanProduct,
            [
                "id",
                "lkmm_id",
                "name",
                "interest_method",
                "frequency",
                "rate_per_month",
                "installment_count",
                "rounding_unit",
                "max_amount",
                "admin_fee_percent",
                "late_fee",
            ],
            now,
        )
        loans = CopyTable(
            cur,
            Loan,
            [
                "id",
                "lkmm_id",
                "number",
                "member_id",
                "product_id",
                "principal",
                "interest_method",
                "frequency",
                "rate_per_month",
                "installment_count",
                "rounding_unit",
                "admin_fee",
                "late_fee",
                "purpose",
                "applied_on",
                "disbursed_on",
                "status",
                "principal_outstanding_derived",
                "oldest_unpaid_due_derived",
                "standing_as_of_derived",
            ],
            now,
        )
        installments = CopyTable(
            cur,
            Installment,
            [
                "id",
                "loan_id",
                "seq",
                "due_date",
                "principal",
                "interest",
                "principal_paid_derived",
                "interest_paid_derived",
                "late_fee_paid_derived",
                "settled_on_derived",
                "open_derived",
            ],
            now,
        )
        repayments = CopyTable(
            cur, Repayment, ["id", "lkmm_id", "loan_id", "receipt_no", "amount", "paid_on", "token"], now
        )
        allocations = CopyTable(
            cur,
            Allocation,
            ["id", "repayment_id", "installment_id", "late_fee", "interest", "principal"],
            now,
        )
        accounts = CopyTable(cur, Account, ["id", "lkmm_id", "code", "name", "kind"], now)
        entries = CopyTable(
            cur,
            JournalEntry,
            ["id", "lkmm_id", "number", "date", "memo", "kind", "loan_id", "source_type", "source_id"],
            now,
        )
        lines_ = CopyTable(cur, JournalLine, ["id", "entry_id", "account_id", "debit", "credit"], now)

        # One password hash for every login (the hash is slow on purpose; the salt need not differ).
        password = make_password(PASSWORD)
        users.add("1", DINAS_USERNAME, password, "Peninjau", "Dinas", "f", "f", "t")
        staff.add("1", "1", Role.DINAS.value, "\\N", dinas_id)
        user_id = 1

        # Two products per LKMM, the same terms everywhere: weekly flat and monthly annuity.
        kinds = {
            "weekly": {
                "name": "Mingguan 10x",
                "method": "flat",
                "frequency": "weekly",
                "rate": Decimal("2.00"),
                "count": 10,
                "unit": 500,
                "late_fee": 0,
            },
            "monthly": {
                "name": "Bulanan 6x",
                "method": "annuity",
                "frequency": "monthly",
                "rate": Decimal("2.50"),
                "count": 6,
                "unit": 1000,
                "late_fee": 5_000,
            },
        }
        parts_cache = {}

        def parts(principal, kind):
            key = (principal, kind)
            if key not in parts_cache:
                k = kinds[kind]
                lines = schedule.build_schedule(
                    principal=principal,
                    rate_per_month=k["rate"],
                    count=k["count"],
                    frequency=k["frequency"],
                    method=k["method"],
                    rounding_unit=k["unit"],
                    first_due=today,
                )
                parts_cache[key] = [
                    (str(x.principal), str(x.interest), x.principal, x.interest) for x in lines
                ]
            return parts_cache[key]

        chart = [(code, name, kind) for code, name, kind in STANDARD_CHART]
        loan_counts = split(args.loans, args.lkmms, rng)
        member_id = product_id = loan_id = inst_id = rep_id = entry_id = line_id = 0
        behaviour = {"on time": 0, "late": 0, "defaulted": 0}
        for lkmm_id, n_loans in enumerate(loan_counts, start=1):
            kab = KABUPATEN[lkmm_id % len(KABUPATEN)]
            kec = KECAMATAN[(lkmm_id // len(KABUPATEN)) % len(KECAMATAN)]
            desa = f"Desa {lkmm_id:04d}"
            code = f"lkmm-{lkmm_id:04d}"
            # One LKMM in ten follows the five-class bank policy, so both policies are in the CASEs.
            policy = policies["bank-5"] if lkmm_id % 10 == 0 else policies["lkm-2015"]
            founded = today - datetime.timedelta(days=rng.randint(400, 4000))
            lkmms.add(str(lkmm_id), code, f"LKMM {desa}", dinas_id, desa, kec, kab, d(founded), str(policy))
            for role in (Role.PENGELOLA, Role.KETUA):
                user_id += 1
                users.add(
                    str(user_id), f"{role.value}-{code}", password, str(role.label), desa, "f", "f", "t"
                )
                staff.add(str(user_id), str(user_id), role.value, str(lkmm_id), "\\N")
            account = {}
            for code_, name, kind in chart:
                account_id = (lkmm_id - 1) * len(chart) + len(account) + 1
                account[code_] = str(account_id)
                accounts.add(str(account_id), str(lkmm_id), code_, name, kind)

            n_members = max(1, round(n_loans / 1.2))
            first_member = member_id + 1
            names = []
            for number in range(1, n_members + 1):
                member_id += 1
                female = rng.random() < 0.8
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                names.append(name)
                birth = datetime.date(rng.randint(1960, 2000), rng.randint(1, 12), rng.randint(1, 28))
                members.add(
                    str(member_id),
                    str(lkmm_id),
                    str(number),
                    f"35{lkmm_id:04d}{number:010d}",
                    name,
                    "P" if female else "L",
                    d(birth),
                    desa,
                    rng.choice(BUSINESSES),
                    d(founded),
                    "aktif",
                )
            product_ids = {}
            for kind, k in kinds.items():
                product_id += 1
                product_ids[kind] = str(product_id)
                products.add(
                    str(product_id),
                    str(lkmm_id),
                    k["name"],
                    k["method"],
                    k["frequency"],
                    str(k["rate"]),
                    str(k["count"]),
                    str(k["unit"]),
                    "5000000",
                    "1.00",
                    str(k["late_fee"]),
                )

            # (paid_on, loan_id, seq, amount, installment_id, late_fee, interest, principal, loan number)
            payments = []
            # Journal entries of the LKMM, numbered 1..N in date order: (date, 0, number, ...) for a
            # disbursement, (date, 1, receipt number, ...) for a repayment.
            events = []
            loan_names = {}
            for number in range(1, n_loans + 1):
                loan_id += 1
                kind = "weekly" if rng.random() < 0.7 else "monthly"
                k = kinds[kind]
                principal = rng.choices(PRINCIPALS, PRINCIPAL_WEIGHTS)[0]
                disbursed = today - datetime.timedelta(days=rng.randint(1, 365))
                applied = disbursed - datetime.timedelta(days=rng.randint(0, 7))
                lines = parts(principal, kind)
                dates = schedule.due_dates(
                    first_due=schedule.first_due_after(disbursed, k["frequency"]),
                    frequency=k["frequency"],
                    count=k["count"],
                )
                r = rng.random()
                if r < 0.80:
                    who, delay, stop = "on time", 0, k["count"]
                elif r < 0.92:
                    who, stop = "late", k["count"]
                    delay = rng.randint(1, 20) if kind == "weekly" else rng.randint(1, 45)
                else:
                    who, delay, stop = "defaulted", 0, rng.randint(0, k["count"] - 1)
                behaviour[who] += 1
                paid_all = stop == k["count"]
                # The kept standing (loans.standing.expected): each installment paid in full by one
                # payment settles on that payment's date and is closed (its late fee, if charged, is
                # paid with it); the unpaid ones are open and untouched.
                principal_paid, oldest_unpaid, as_of = 0, None, disbursed
                for seq, (due, (p, i, p_int, i_int)) in enumerate(zip(dates, lines, strict=True), start=1):
                    inst_id += 1
                    paid_on = due + datetime.timedelta(days=delay)
                    if seq > stop or paid_on > today:
                        paid_all = False
                        oldest_unpaid = oldest_unpaid or due
                        installments.add(
                            str(inst_id), str(loan_id), str(seq), d(due), p, i, "0", "0", "0", "\\N", "t"
                        )
                        continue
                    fee = k["late_fee"] if delay else 0
                    installments.add(
                        str(inst_id), str(loan_id), str(seq), d(due), p, i, p, i, str(fee), d(paid_on), "f"
                    )
                    principal_paid += p_int
                    as_of = max(as_of, paid_on)
                    payments.append(
                        (paid_on, loan_id, seq, p_int + i_int + fee, inst_id, fee, i_int, p_int, number)
                    )
                member = rng.randint(first_member, member_id)
                loan_names[loan_id] = f"P-{number:05d} {names[member - first_member]}"
                fee = principal // 100
                loans.add(
                    str(loan_id),
                    str(lkmm_id),
                    str(number),
                    str(member),
                    product_ids[kind],
                    str(principal),
                    k["method"],
                    k["frequency"],
                    str(k["rate"]),
                    str(k["count"]),
                    str(k["unit"]),
                    str(fee),
                    str(k["late_fee"]),
                    "modal usaha",
                    d(applied),
                    d(disbursed),
                    "lunas" if paid_all else "aktif",
                    str(principal - principal_paid),
                    d(oldest_unpaid) if oldest_unpaid else "\\N",
                    d(as_of),
                )
                # loans.services.loan_disburse: Dr piutang / Cr kas, Cr pendapatan administrasi (the
                # fee is deducted from what the member receives).
                events.append(
                    (
                        disbursed,
                        0,
                        number,
                        loan_id,
                        EntryKind.DISBURSEMENT,
                        "loans.loan",
                        loan_id,
                        f"Pencairan {loan_names[loan_id]}",
                        [
                            (AccountCode.PIUTANG, principal, 0),
                            (AccountCode.KAS, 0, principal - fee),
                            (AccountCode.PENDAPATAN_ADMINISTRASI, 0, fee),
                        ],
                    )
                )
            # Receipts are numbered per LKMM in value order.
            payments.sort()
            for receipt_no, (paid_on, lid, _seq, amount, iid, fee, i, p, _n) in enumerate(payments, start=1):
                rep_id += 1
                token = uuid.UUID(int=(args.seed << 64) | rep_id, version=4)
                repayments.add(
                    str(rep_id), str(lkmm_id), str(lid), str(receipt_no), str(amount), d(paid_on), str(token)
                )
                allocations.add(str(rep_id), str(rep_id), str(iid), str(fee), str(i), str(p))
                # loans.services._post_loan_entry: Dr kas; Cr piutang, pendapatan bunga, pendapatan denda.
                events.append(
                    (
                        paid_on,
                        1,
                        receipt_no,
                        lid,
                        EntryKind.REPAYMENT,
                        "loans.repayment",
                        rep_id,
                        f"Angsuran {loan_names[lid]}, K-{receipt_no:06d}",
                        [
                            (AccountCode.KAS, amount, 0),
                            (AccountCode.PIUTANG, 0, p),
                            (AccountCode.PENDAPATAN_BUNGA, 0, i),
                            (AccountCode.PENDAPATAN_DENDA, 0, fee),
                        ],
                    )
                )
            events += cash_management(events, today=today, rng=cash_rng, leaky=lkmm_id % LEAKY_EVERY == 0)
            events.sort(key=lambda e: e[:3])
            for entry_no, (date, _o, _n, lid, kind, source_type, source_id, memo, entry_lines) in enumerate(
                events, start=1
            ):
                entry_id += 1
                entries.add(
                    str(entry_id),
                    str(lkmm_id),
                    str(entry_no),
                    d(date),
                    memo,
                    kind,
                    "\\N" if lid is None else str(lid),
                    source_type,
                    "\\N" if source_id is None else str(source_id),
                )
                for account_code, debit, credit in entry_lines:
                    if debit or credit:
                        line_id += 1
                        lines_.add(
                            str(line_id), str(entry_id), account[account_code], str(debit), str(credit)
                        )

        tables = [
            lkmms,
            users,
            staff,
            accounts,
            members,
            products,
            loans,
            installments,
            repayments,
            allocations,
            entries,
            lines_,
        ]
        for table in tables:
            table.flush()
        cur.execute("SET LOCAL session_replication_role = origin")
        for table in tables:
            # Table names of the models above, never input.
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table.table}), false)"  # nosec B608
            )
        # The accounts' kept balances (entry_post keeps them; COPY went past it).
        cur.execute(
            "UPDATE ledger_account a SET balance_derived = s.b FROM (SELECT account_id,"
            " SUM(debit) - SUM(credit) AS b FROM ledger_journalline GROUP BY account_id) s"
            " WHERE s.account_id = a.id"
        )
    # And the kas balance at the end of each day (entry_post keeps it; COPY went past it).
    from ledger.services import cash_days_refresh

    cash_days_refresh()
    generated = time.perf_counter() - started
    print(f"generated in {generated:.1f} s (COPY, FK triggers off, one transaction)")
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE: {time.perf_counter() - started:.1f} s")
    print("behaviour: " + ", ".join(f"{k} {v:,}" for k, v in behaviour.items()))
    return {t.table: t.count for t in tables}, generated


# Kas at the end of a day above the Dinas's limit (Rp500.000 by default) goes to the bank; one LKMM in
# LEAKY_EVERY kept it over the last days before today, so the Dinas home's list of LKMMs over their limit
# has rows, for 1 to LEAKY_DAYS consecutive days.
CASH_LIMIT = 500_000
LEAKY_EVERY = 25
LEAKY_DAYS = 10


def cash_management(events, *, today, rng, leaky):
    """The entries that keep an LKMM's kas as an LKMM keeps it: the Dinas's starting grant into the bank
    (Dr bank / Cr modal hibah) the day before its first event, a withdrawal from the bank before a day
    whose disbursements kas cannot pay, and a deposit of the kas above what is kept for change at the end
    of a day above the limit. `events` are the LKMM's loan entries, (date, order, number, loan id, kind,
    source type, source id, memo, lines), disbursements (order 0) before repayments (order 1) in a day."""
    from ledger.models import AccountCode, EntryKind

    if not events:
        return []
    by_day = {}
    for event in events:
        by_day.setdefault(event[0], []).append(event)
    leaky_from = today - datetime.timedelta(days=rng.randint(1, LEAKY_DAYS)) if leaky else None
    kas = bank = lowest_bank = 0
    added = []
    for day in sorted(by_day):
        moves = [
            debit - credit
            for event in by_day[day]
            for code, debit, credit in event[8]
            if code == AccountCode.KAS
        ]
        paid_out = -sum(m for m in moves if m < 0)
        if paid_out > kas:
            amount = _round_up(paid_out - kas, 100_000)  # whole Rp100.000 notes
            kas, bank = kas + amount, bank - amount
            lowest_bank = min(lowest_bank, bank)
            added.append(
                _transfer(day, 0, amount, AccountCode.KAS, AccountCode.BANK, "Tarik tunai dari bank")
            )
        kas += sum(moves)
        if kas > CASH_LIMIT and day < today and not (leaky_from and day >= leaky_from):
            amount = kas - rng.randrange(50_000, 400_001, 1_000)  # what stays for change
            kas, bank = kas - amount, bank + amount
            added.append(
                _transfer(day, 2, amount, AccountCode.BANK, AccountCode.KAS, "Setor kelebihan kas ke bank")
            )
    grant = _round_up(-lowest_bank, 1_000_000) + rng.randrange(1_000_000, 5_000_001, 1_000_000)
    first = min(by_day) - datetime.timedelta(days=1)
    grant_lines = [(AccountCode.BANK, grant, 0), (AccountCode.MODAL_HIBAH, 0, grant)]
    added.append((first, 0, 0, None, EntryKind.OPENING, "", None, "Hibah modal dari Dinas", grant_lines))
    return added


def _round_up(amount, unit):
    return (amount + unit - 1) // unit * unit


def _transfer(day, order, amount, debit, credit, memo):
    """A pemindahbukuan between kas and bank: `order` 0 before the day's loan entries, 2 after them."""
    from ledger.models import EntryKind

    return (
        day,
        order,
        0,
        None,
        EntryKind.TRANSFER,
        "",
        None,
        memo,
        [(debit, amount, 0), (credit, 0, amount)],
    )


def row_counts():
    from django.db import connection

    counts = {}
    with connection.cursor() as cur:
        for table in COUNTED_TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")  # nosec B608  # COUNTED_TABLES: constant names
            counts[table] = cur.fetchone()[0]
        cur.execute("SELECT status, count(*) FROM loans_loan GROUP BY status ORDER BY status")
        counts["loans by status"] = dict(cur.fetchall())
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        counts["database size"] = cur.fetchone()[0]
    return counts


def largest_lkmm():
    """The LKMM with the most loans (the lowest id among equals)."""
    from django.db.models import Count

    from institutions.models import Lkmm

    return Lkmm.objects.annotate(n=Count("loans")).order_by("-n", "pk").first()


def sample_lkmms(n, seed=1):
    """`n` LKMM codes to check: the largest, the smallest and others chosen at random (by `seed`)."""
    from django.db.models import Count

    from institutions.models import Lkmm

    codes = list(Lkmm.objects.annotate(n=Count("loans")).order_by("-n", "pk").values_list("code", flat=True))
    chosen = codes[:1] + codes[-1:]
    rest = [c for c in codes if c not in chosen]
    chosen += random.Random(seed).sample(rest, min(max(n - 2, 0), len(rest)))
    return chosen[:n]


def check_books(url, codes):
    """`manage.py check_books --lkmm CODE` for each code, as a separate process; {code: (ok, output)}."""
    results = {}
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "lkmm.settings"}
    for code in codes:
        done = subprocess.run(
            [sys.executable, "manage.py", "check_books", "--lkmm", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        output = (done.stdout + done.stderr).strip()
        results[code] = (done.returncode == 0, output)
    return results


def database_url(name):
    return f"{SERVER}/{name}"


def with_database(url, name):
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{name}"))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=SIZES, default="small", help="small (default) or province")
    p.add_argument("--lkmms", type=int, help="number of LKMMs (default: from --size)")
    p.add_argument("--loans", type=int, help="number of loans (default: from --size)")
    p.add_argument("--database-url", help="default: postgres://postgres@127.0.0.1:5432/<the size's database>")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--reuse", action="store_true", help="keep the book if it already has this size")
    p.add_argument("--check", type=int, default=0, metavar="N", help="then run check_books on N LKMMs")
    p.add_argument("--today", type=datetime.date.fromisoformat, help="date the book ends on (default today)")
    args = p.parse_args()
    lkmms, loans, name = SIZES[args.size]
    args.lkmms = args.lkmms or lkmms
    args.loans = args.loans or loans
    args.database_url = args.database_url or database_url(name)
    return args


def ensure_book(args):
    """Create and migrate the database, then generate the book unless --reuse finds one of this size."""
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.utils import timezone

    today = args.today or timezone.localdate()
    lkmms, loans = book_size()
    if args.reuse and (lkmms, loans) == (args.lkmms, args.loans):
        print(f"reusing the book: {lkmms:,} LKMMs, {loans:,} loans")
        return today, None
    if (lkmms or loans) and "bench" not in args.database_url.rsplit("/", 1)[-1]:
        raise SystemExit("refusing to replace data in a database whose name has no 'bench' in it")
    print(f"generating {args.lkmms:,} LKMMs, {args.loans:,} loans up to {today} ...")
    return today, generate(args, today)


def main():
    args = parse_args()
    started = time.perf_counter()
    ensure_book(args)
    for table, n in row_counts().items():
        print(f"  {table:<24} {n:,}" if isinstance(n, int) else f"  {table:<24} {n}")
    print(f"total {time.perf_counter() - started:.1f} s")
    if args.check:
        failed = 0
        for code, (ok, output) in check_books(args.database_url, sample_lkmms(args.check, args.seed)).items():
            failed += not ok
            print(f"check_books --lkmm {code}: {'clean' if ok else 'PROBLEMS'}")
            print("    " + output.replace("\n", "\n    "))
        if failed:
            raise SystemExit(f"check_books found problems in {failed} LKMM(s)")


if __name__ == "__main__":
    main()
