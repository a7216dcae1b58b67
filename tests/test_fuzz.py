"""Every URL pattern and every form, fuzzed as every role: never a 500, and a refused submission leaves
every business table as it was (issue 9, "Never a 500, nothing half-saved").

How it works:
- `url_targets()` walks the URL configuration (django.urls.get_resolver()) and builds each pattern's
  URLs from a small world made through the services (`build_world`), with the values `ARGUMENTS` gives
  for each path argument. A new pattern whose arguments nothing builds fails
  `test_every_url_pattern_can_be_built`: add a line to `ARGUMENTS`.
- Each URL is read (GET) as each role, then again with fuzzed query strings; the forms on the pages
  (parsed from the HTML) give the fields to fuzz, and every URL is also posted to, as each role, with
  values drawn by hypothesis: garbage, huge, negative and non-ASCII numbers, far dates, unicode, HTML
  and SQL text, NUL bytes, missing fields, mixed with the page's own values so that some submissions
  pass the form and reach the services.
- A submission is refused when the answer is not a redirect, is a redirect to the login page, or
  carries an error message; then the row counts of every business table must be unchanged.
- Every form class of the project must derive from institutions.forms.InputLimitsMixin and must have
  been filled in at least once during the run (so a new form needs a way to reach it here).

The run is bounded (FUZZ_EXAMPLES examples per form and role, default 5) and derandomized, so CI sees the
same examples every time. The figures (patterns, URLs, forms, requests, examples) are printed at the end
(`pytest -s tests/test_fuzz.py` shows them)."""

import datetime
import importlib
import itertools
import os
import pkgutil
import re
import time
import traceback
from collections import Counter
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django import forms as django_forms
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from coaching import services as coaching_services
from institutions.forms import InputLimitsMixin
from institutions.models import BoardRole, DecisionRequest, ElectionMethod, RequestKind, Role
from institutions.services import board_elect
from ledger.models import AccountCode, EntryKind, JournalEntry
from ledger.services import entry_post
from loans import services as loan_services
from loans.models import Repayment
from members.models import Member, MemberStatus
from members.services import group_create, member_apply, member_transition
from risk import services as risk_services
from savings.models import SavingsKind
from savings.services import savings_deposit, savings_return_all
from shu import services as shu_services
from shu.models import ShuShare
from tests.factories import (
    LkmmFactory,
    LoanProductFactory,
    MemberFactory,
    StaffFactory,
    make_active_loan,
    make_approved_loan,
    make_loan,
)
from tests.factories import login as factory_login

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
PROJECT_APPS = ("institutions", "members", "loans", "ledger", "reports", "risk", "coaching", "shu")
ROLES = ("anonymous", "pengelola", "ketua", "dinas", "admin")
# Roles the app's pages answer the same whatever the object (a login redirect; 403 for an admin, who has
# no staff role): they read and post one URL per pattern.
OUTSIDERS = ("anonymous", "admin")
D = datetime.date


# --- the world: one LKMM with an object in each state, and another LKMM -----------------------------


def build_world():
    lkmm = LkmmFactory(code="semenggu", name="LKMM Semenggu")
    other = LkmmFactory(code="wonosari", name="LKMM Wonosari", desa="Wonosari")
    ketua = StaffFactory(user__username="ketua.fuzz", lkmm=lkmm, role=Role.KETUA).user
    pengelola = StaffFactory(user__username="pengelola.fuzz", lkmm=lkmm).user
    dinas = StaffFactory(user__username="dinas.fuzz", dinas=True).user
    admin = get_user_model().objects.create_superuser("admin.fuzz", "admin@example.org", "x")
    product = LoanProductFactory(lkmm=lkmm, late_fee=1_000)
    LoanProductFactory(lkmm=other)
    members = [MemberFactory(lkmm=lkmm, joined_on=D(2025, 6, 1)) for _ in range(9)]
    MemberFactory(lkmm=other)
    group = group_create(
        lkmm=lkmm,
        actor=pengelola,
        name="Mawar",
        meeting_day=0,
        meeting_place="Rumah Bu Siti",
        joint_liability=True,
        members=members[:4],
        leader=members[0],
        on=D(2025, 6, 1),
    )
    board_elect(
        lkmm=lkmm,
        actor=ketua,
        held_on=D(2024, 3, 10),
        place="Balai Desa",
        attendees=40,
        method=ElectionMethod.MUSYAWARAH,
        seats=[{"name": "Budi", "role": BoardRole.KETUA, "user": ketua}],
    )

    def applicant(n):
        return member_apply(
            lkmm=lkmm,
            actor=pengelola,
            application={
                "referee_member": members[0],
                "business_plan": "Warung",
                "requested_amount": 500_000,
            },
            full_name=f"Pendaftar {n}",
            nik=f"35091045018090{n:02d}",
            gender="P",
            birth_date=D(1980, 1, 5),
            desa="Semenggu",
            business="Warung",
            joined_on=D(2026, 1, 5),
        )

    pendaftar = applicant(1)
    rejected = applicant(2)
    member_transition(member=rejected, to=MemberStatus.DITOLAK, actor=ketua, reason="Belum dikenal")

    applied = make_loan(member=members[5], product=product, actor=pengelola)
    # An application only the edit page is given: the fuzz cancels and approves the others first.
    editable = make_loan(member=members[8], product=product, actor=pengelola)
    approved = make_approved_loan(member=members[6], product=product, approved_by=ketua)
    active = make_active_loan(member=members[0], product=product, disbursed_on=D(2026, 1, 1))
    paid = loan_services.repayment_record(loan=active, amount=124_154, paid_on=D(2026, 1, 8), actor=pengelola)
    wrong = loan_services.repayment_record(loan=active, amount=10_000, paid_on=D(2026, 1, 9), actor=pengelola)
    loan_services.repayment_reverse(repayment=wrong, actor=ketua, on=D(2026, 1, 10), reason="Salah catat")

    written_off = make_active_loan(member=members[1], product=product, disbursed_on=D(2026, 1, 1))
    paid_written_off = loan_services.repayment_record(
        loan=written_off, amount=124_154, paid_on=D(2026, 1, 8), actor=pengelola
    )
    risk_services.loan_write_off(loan=written_off, actor=ketua, on=D(2026, 6, 1), reason="Pindah kota")

    restructured = make_active_loan(member=members[2], product=product, disbursed_on=D(2026, 1, 1))
    paid_restructured = loan_services.repayment_record(
        loan=restructured, amount=124_154, paid_on=D(2026, 1, 8), actor=pengelola
    )
    new_loan = loan_services.loan_restructure(
        loan=restructured, actor=ketua, on=D(2026, 3, 2), product=product, reason="Usaha sepi"
    )
    # The year's surplus (SHU): 2024 closed and waiting for the rapat anggota's decision; 2025 (income and
    # two members' savings, one of whom left in January) shared, its held share waiting to be collected.
    for year, income in ((2024, 1_000_000), (2025, 5_000_000)):
        entry_post(
            lkmm=lkmm,
            date=D(year, 6, 30),
            memo="Pendapatan lain",
            lines=[(AccountCode.KAS, income, 0), (AccountCode.PENDAPATAN_ADMINISTRASI, 0, income)],
            kind=EntryKind.CASH_IN,
        )
    for saver in (members[3], members[4]):
        savings_deposit(
            member=saver, kind=SavingsKind.SUKARELA, amount=200_000, on=D(2025, 6, 2), actor=ketua
        )
    shu_services.rule_set(
        lkmm=lkmm,
        actor=ketua,
        from_year=2024,
        reserve=40,
        jasa_simpanan=20,
        jasa_pinjaman=20,
        dana_sosial=10,
        pengurus=10,
    )
    risk_services.month_close(lkmm=lkmm, actor=ketua, month=D(2024, 12, 1))
    shu_services.year_close(lkmm=lkmm, year=2024, actor=ketua)
    close = risk_services.month_close(lkmm=lkmm, actor=ketua, month=D(2025, 12, 1))
    savings_return_all(member=members[4], on=D(2026, 1, 5), actor=ketua)
    member_transition(member=members[4], to=MemberStatus.KELUAR, actor=ketua, reason="Pindah")
    shu_year = shu_services.year_close(lkmm=lkmm, year=2025, actor=ketua)
    shu_services.shu_distribute(
        shu_year=shu_year, actor=ketua, decided_on=D(2026, 2, 1), decision="sukarela", minutes_no="BA-1"
    )
    held = ShuShare.objects.get(shu_year=shu_year, member=members[4])
    credited = ShuShare.objects.get(shu_year=shu_year, member=members[3])
    assert held.waiting and credited.movement_id
    spending = shu_services.sosial_spend(
        lkmm=lkmm, actor=ketua, on=D(2026, 3, 1), purpose="posyandu", description="PMT balita", amount=50_000
    )
    reversed_spending = shu_services.sosial_spend(
        lkmm=lkmm, actor=ketua, on=D(2026, 3, 1), purpose="paud", description="Buku", amount=20_000
    )
    shu_services.sosial_reverse(spending=reversed_spending, actor=ketua, on=D(2026, 3, 2), reason="Salah")
    # A waiting SHU request (the held share's payout, as the pengelola would propose it under four eyes).
    shu_waiting = DecisionRequest.objects.create(
        lkmm=lkmm,
        kind=RequestKind.SHU_COLLECT,
        target=f"shu_share:{held.pk}",
        summary="SHU 2025",
        payload={"share": held.pk, "on": D(2026, 3, 5).isoformat()},
        requested_by=pengelola,
    )
    # A four-eyes request waiting for its decision (made as the pengelola would propose it).
    waiting = DecisionRequest.objects.create(
        lkmm=lkmm,
        kind=RequestKind.WRITE_OFF,
        target=f"loan:{active.pk}",
        summary="uji",
        payload={"loan": active.pk, "on": D(2026, 6, 1).isoformat(), "reason": "Macet"},
        reason="Macet",
        requested_by=pengelola,
    )
    coaching = coaching_services.coaching_record_create(
        actor=dinas, kind="kunjungan", held_on=D(2026, 1, 5), lkmms=[lkmm], attendees="Dinas", topic="Kas"
    )
    other_coaching = coaching_services.coaching_record_create(
        actor=dinas, kind="pelatihan", held_on=D(2026, 1, 6), lkmms=[other], attendees="Dinas", topic="Kas"
    )
    follow_up = coaching_services.follow_up_create(
        actor=dinas, record=coaching, lkmm=lkmm, action="Tutup kas", owner=ketua, due_on=D(2026, 2, 1)
    )
    for model in (type(applied), Repayment):
        assert model.objects.exists()
    return SimpleNamespace(
        lkmm=lkmm,
        other=other,
        users={"pengelola": pengelola, "ketua": ketua, "dinas": dinas, "admin": admin},
        members=members,
        pendaftar=pendaftar,
        rejected=rejected,
        group=group,
        loans=[applied, approved, active, written_off, restructured, new_loan],
        loan_for_new_application=members[7],
        repayments=[paid, wrong, paid_written_off, paid_restructured],
        entry=JournalEntry.objects.filter(lkmm=lkmm).order_by("number").first(),
        close=close,
        waiting=waiting,
        shu_waiting=shu_waiting,
        shares=[held, credited],
        spendings=[spending, reversed_spending],
        editable=editable,
        other_member=Member.objects.get(lkmm=other),
        coaching=[coaching, other_coaching],
        follow_up=follow_up,
    )


def _admin_object(world, pattern):
    model_admin = getattr(pattern.callback, "model_admin", None)
    if model_admin is None:
        return None
    obj = model_admin.model._default_manager.order_by("pk").first()
    return [obj.pk if obj else 1]


# The values of each path argument: "<url name>.<argument>" first, then "<argument>". Each gives a list:
# every value is tried (an object in each state, another LKMM's).
ARGUMENTS = {
    "code": lambda w, p: [w.lkmm.code, w.other.code],
    "member_pk": lambda w, p: [w.loan_for_new_application.pk, w.pendaftar.pk],
    "loan_pk": lambda w, p: [loan.pk for loan in w.loans],
    "group_pk": lambda w, p: [w.group.pk],
    "number": lambda w, p: [w.entry.number],
    "pk": lambda w, p: [loan.pk for loan in w.loans],  # loans:* and risk:write_off/recovery
    "members:*.pk": lambda w, p: [w.members[0].pk, w.pendaftar.pk, w.rejected.pk, w.other_member.pk],
    "members:group_*.pk": lambda w, p: [w.group.pk],
    "loans:receipt.pk": lambda w, p: [r.pk for r in w.repayments],
    "loans:reverse.pk": lambda w, p: [r.pk for r in w.repayments],
    "risk:reopen.pk": lambda w, p: [w.close.pk],
    "requests:*.pk": lambda w, p: [w.waiting.pk, w.shu_waiting.pk],
    "shu:collect.pk": lambda w, p: [share.pk for share in w.shares],
    "shu:sosial_reverse.pk": lambda w, p: [spending.pk for spending in w.spendings],
    "loans:edit.pk": lambda w, p: [w.editable.pk],
    "coaching:*.pk": lambda w, p: [record.pk for record in w.coaching],
    "coaching:follow_up_done.pk": lambda w, p: [w.follow_up.pk],
    "oversight:trend_kecamatan.name": lambda w, p: [w.lkmm.kecamatan, "Tidak Ada"],
    "books:preview.token": lambda w, p: ["0" * 32],
    "shu:*.year": lambda w, p: [2024, 2025],
    # Django admin
    "admin:*.object_id": _admin_object,
    "admin:view_on_site.content_type_id": lambda w, p: [ContentType.objects.get_for_model(Member).pk],
    "admin:view_on_site.object_id": lambda w, p: [w.members[0].pk],
    "admin:auth_user_password_change.id": lambda w, p: [w.users["ketua"].pk],
    "app_label": lambda w, p: [re.search(r"\(\?P<app_label>([^|)]+)", str(p.pattern)).group(1)],
    "url": lambda w, p: ["tidak-ada/"],
}


def _argument_values(name, argument, pattern, world):
    namespace = name.split(":")[0] + ":" if ":" in name else ""
    candidates = [f"{name}.{argument}"]
    globs = [key for key in ARGUMENTS if "*" in key and _glob(key, f"{name}.{argument}")]
    candidates += sorted(globs, key=len, reverse=True)  # the most specific first
    candidates += [f"{namespace}*.{argument}", argument]
    for key in candidates:
        if key in ARGUMENTS:
            values = ARGUMENTS[key](world, pattern)
            if values is not None:
                return values
    return None


def _glob(key, text):
    return re.fullmatch(re.escape(key).replace(r"\*", "[^.]*"), text) is not None


def url_patterns():
    """(route, name, pattern) of every URL pattern, the include()d ones with their prefix."""

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = ":".join(x for x in (namespace, p.namespace) if x)
                yield from walk(p.url_patterns, prefix + [p.pattern], ns)
            else:
                assert isinstance(p, URLPattern)
                name = f"{namespace}:{p.name or '?'}" if namespace else p.name or "?"
                yield prefix + [p.pattern], name, p

    return list(walk(get_resolver().url_patterns, [], ""))


_ROUTE_ARGUMENT = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<argument>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<argument>\w+)>(?:[^()]|\([^()]*\))*\)")


def _arguments(parts):
    names = []
    for part in parts:
        if isinstance(part, RoutePattern):
            names += [m["argument"] for m in _ROUTE_ARGUMENT.finditer(str(part))]
        else:
            names += [m["argument"] for m in _REGEX_GROUP.finditer(str(part))]
    return names


def _fill(parts, values):
    url = "/"
    for part in parts:
        text = str(part)
        if isinstance(part, RoutePattern):
            text = _ROUTE_ARGUMENT.sub(lambda m: str(values[m["argument"]]), text)
        else:
            assert isinstance(part, RegexPattern)
            text = _REGEX_GROUP.sub(lambda m: str(values[m["argument"]]), text).lstrip("^").rstrip("$")
            text = text.replace("\\", "")
        url += text
    return url


def url_targets(world):
    """[(name, url)] for every pattern and every combination of its argument values; and the
    [(route, name, argument)] nothing builds."""
    targets, missing = [], []
    for parts, name, pattern in url_patterns():
        arguments = _arguments(parts)
        choices = {}
        for argument in arguments:
            values = _argument_values(name, argument, pattern, world)
            if values is None:
                missing.append(("".join(map(str, parts)), name, argument))
            choices[argument] = values or []
        if any(a not in choices or not choices[a] for a in arguments):
            continue
        for combo in itertools.product(*(choices[a] for a in arguments)):
            url = _fill(parts, dict(zip(arguments, combo, strict=True)))
            match = resolve(urlsplit(url).path)
            assert match.func == pattern.callback or match.route == "".join(map(str, parts)), (name, url)
            targets.append((name, url))
    return targets, missing


# --- roles and the row counts ------------------------------------------------------------------------


def login(client, role, world):
    """Log `client` in as `role` (one place to adapt when logins need a second factor)."""
    client.logout()
    if role != "anonymous":
        factory_login(client, world.users[role])  # with its second factor where the role needs one


# Tables that a refused request may write: logs (the audit trail, sessions, login attempts) and derived
# caches that pages fill when they read.
NOT_BUSINESS = {"institutions.AuditLog", "sessions.Session", "admin.LogEntry", "ledger.MonthFigures"}


def business_models():
    return [
        model
        for model in apps.get_models()
        if model._meta.label not in NOT_BUSINESS
        and not model._meta.proxy
        and model._meta.managed
        and "attempt" not in model._meta.model_name
        and not model._meta.label.endswith("Event")
        and model._meta.app_label not in ("axes", "pghistory")
    ]


def row_counts(models):
    """Every table's row count in one query."""
    quote = connection.ops.quote_name
    parts = ", ".join(f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {parts}")
        return dict(zip([m._meta.label for m in models], cursor.fetchone(), strict=True))


# --- the pages' forms --------------------------------------------------------------------------------


class FormParser(HTMLParser):
    """The POST forms of a page: {action: {field name: {"kind", "values"}}}; the GET forms' fields."""

    def __init__(self, page_url):
        super().__init__()
        self.page_url, self.forms, self.current, self.select = page_url, {}, None, None
        self.get_fields = {}  # the filters: fields of the GET forms

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            action = attrs.get("action") or self.page_url
            self.current = self.forms.setdefault(urlsplit(action).path or self.page_url, {})
        elif tag == "form":
            self.current = self.get_fields
        elif self.current is not None and attrs.get("name") and tag in ("input", "select", "textarea"):
            kind = attrs.get("type", "text") if tag == "input" else tag
            field = self.current.setdefault(attrs["name"], {"kind": kind, "values": []})
            if (
                kind in ("checkbox", "radio", "hidden", "text", "number", "date", "month", "tel")
                and "value" in attrs
            ):
                field["values"].append(attrs["value"] or "")
            self.select = field if tag == "select" else None
        elif tag == "option" and self.select is not None and attrs.get("value"):
            self.select["values"].append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def page_forms(response, url):
    """The page's POST forms ({action: fields}) and the names its GET forms send."""
    if "html" not in response.get("Content-Type", ""):
        return {}, set()
    parser = FormParser(url)
    parser.feed(response.content.decode("utf-8", "replace"))
    return parser.forms, set(parser.get_fields)


# --- values ------------------------------------------------------------------------------------------

TODAY = datetime.date.today()
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "-5",
    "1",
    "1.5",
    "1e309",
    "NaN",
    "Infinity",
    "9" * 25,
    "-" + "9" * 25,
    "100000000000000000000",
    "9223372036854775808",
    "Rp 1.000.000.000.000.000",
    "٣٠٠",
    "３００",
    "１２３４５６",
    "𝟘𝟙",
    "²",
    "٢٠٢٦-٠١-٠١",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "1899-12-31",
    "2026-02-30",
    "2026-13-01",
    "31/12/9999",
    (TODAY + datetime.timedelta(days=400)).isoformat(),
    (TODAY + datetime.timedelta(days=1)).isoformat(),
    TODAY.isoformat(),
    "2026-01-15",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "'); DROP TABLE loans_loan; --",
    "a\x00b",
    "\x00",
    "3509114501800001\x00",
    "\x1b[31m\x7f\x85",
    '=HYPERLINK("http://x","y")',
    "+62-812",
    "Sri ‮Rahayu",
    "ñandú 漢字 🙂",
    "x" * 3000,
    "m:1",
    "b:999999999999999999999",
    "00000000-0000-0000-0000-000000000000",
    "not-a-uuid",
]


def value_strategy(field):
    own = st.sampled_from(field["values"]) if field["values"] else st.nothing()
    return st.one_of(own, own, st.sampled_from(NASTY), st.text(max_size=40), st.integers().map(str))


@st.composite
def submissions(draw, fields):
    data = {}
    for name, field in sorted(fields.items()):
        if name == "csrfmiddlewaretoken":
            continue
        choice = draw(st.sampled_from(["value", "value", "value", "missing"]))
        if choice == "missing":
            continue
        if field["kind"] == "file":
            if draw(st.booleans()):
                data[name] = SimpleUploadedFile("foto.jpg", draw(st.binary(max_size=64)), "image/jpeg")
            continue
        if field["kind"] == "checkbox" and len(field["values"]) > 1:
            data[name] = draw(st.lists(value_strategy(field), max_size=6))
            continue
        data[name] = draw(value_strategy(field))
    return data


QUERY_KEYS = ["at", "start", "end", "bulan", "status", "q", "page", "format", "kuitansi", "lkmm", "kind"]
QUERY_KEYS += ["account", "urut", "group", "arrears", "o", "p", "e", "next"]


@st.composite
def queries(draw, keys):
    keys = sorted(set(keys) | set(QUERY_KEYS))
    return {
        k: draw(st.one_of(st.sampled_from(NASTY), st.text(max_size=20)))
        for k in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True))
    }


# --- the run -----------------------------------------------------------------------------------------


class Run:
    def __init__(self, world):
        self.world = world
        self.client = Client()
        self.role = None
        self.models = business_models()
        self.failures = []
        self.figures = Counter()
        self.seconds = Counter()

    def as_role(self, role):
        if role != self.role:
            login(self.client, role, self.world)
            self.role = role

    def send(self, method, url, data):
        """The response, or None after recording an exception (a 500)."""
        self.figures[f"requests {method}"] += 1
        started = time.monotonic()
        try:
            with transaction.atomic():
                response = getattr(self.client, method.lower())(url, data)
        except Exception:
            self.failures.append((self.role, method, url, _shown(data), traceback.format_exc(limit=-3)))
            return None
        finally:
            self.seconds[(method, resolve(urlsplit(url).path).view_name)] += time.monotonic() - started
        if response.status_code >= 500:
            self.failures.append((self.role, method, url, _shown(data), f"status {response.status_code}"))
        if url.rstrip("/").endswith(("keluar", "logout")):
            self.role = None  # logged out: log in again before the next request
        return response

    def post(self, url, data):
        before = row_counts(self.models)
        response = self.send("POST", url, data)
        if response is None:
            return
        if refused(response):
            after = row_counts(self.models)
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            if changed:
                self.failures.append((self.role, "POST", url, _shown(data), f"refused but changed {changed}"))


def refused(response):
    if response.status_code not in (301, 302, 303):
        return True
    if urlsplit(response["Location"]).path == settings.LOGIN_URL or "/login/" in response["Location"]:
        return True
    # The messages this request added (not those still waiting from earlier requests).
    added = getattr(messages.get_messages(response.wsgi_request), "_queued_messages", [])
    return any(m.level >= messages.WARNING for m in added)


def _shown(data):
    return {k: (v if not isinstance(v, str) or len(v) < 60 else v[:57] + "...") for k, v in data.items()}


FUZZ_SETTINGS = hsettings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def project_form_classes():
    """Every form class defined in the project's apps (their modules imported first)."""
    for app in PROJECT_APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if not re.search(r"\.(migrations|management|tests)\b", info.name):
                importlib.import_module(info.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return {
        cls
        for cls in subclasses(django_forms.BaseForm)
        if cls.__module__.split(".")[0] in PROJECT_APPS
        and not cls.__name__.endswith("Mixin")
        and not (cls.__module__ == "institutions.forms" and cls.__name__ in ("Form", "ModelForm"))
    }


def fuzz_query(run, role, url, keys, examples):
    @hsettings(FUZZ_SETTINGS, max_examples=examples)
    @given(query=queries(keys))
    def get_page(query):
        run.as_role(role)
        run.figures["examples"] += 1
        run.send("GET", url, query)

    get_page()


def fuzz_post(run, role, url, fields, examples):
    @hsettings(FUZZ_SETTINGS, max_examples=examples)
    @given(data=submissions(fields))
    def submit(data):
        run.as_role(role)
        run.figures["examples"] += 1
        run.post(url, data)

    submit()


@pytest.fixture
def world(db):
    return build_world()


def test_every_url_pattern_can_be_built(world):
    targets, missing = url_targets(world)
    assert not missing, (
        "No value for these path arguments: add them to ARGUMENTS in tests/test_fuzz.py: " + repr(missing)
    )
    assert {name for name, _ in targets} >= {name for _, name, _ in url_patterns() if not name.endswith("?")}


def test_every_form_has_the_input_limits():
    bare = [cls for cls in project_form_classes() if not issubclass(cls, InputLimitsMixin)]
    assert not bare, f"Derive these from institutions.forms.Form or ModelForm: {bare}"


def test_fuzz_every_url_and_form_as_every_role(world, monkeypatch):
    run = Run(world)
    targets, missing = url_targets(world)
    assert not missing
    cleaned = set()
    full_clean = InputLimitsMixin.full_clean

    def recording_full_clean(self):
        if self.is_bound:
            cleaned.add(type(self))
        return full_clean(self)

    monkeypatch.setattr(InputLimitsMixin, "full_clean", recording_full_clean)

    # 1. Read every URL as every role; keep the forms the pages show and the roles that may read them.
    post_targets = {url: {} for name, url in targets if not name.startswith("admin:")}
    form_roles, readers, query_keys, query_readers = {}, {}, {}, {}
    names = {url: name for name, url in targets}
    first_url = {}
    for name, url in targets:
        first_url.setdefault(name, url)
    for role in ROLES:
        for name, url in targets:
            if name.startswith("admin:") and role not in ("admin", "anonymous"):
                continue
            if role in OUTSIDERS and not name.startswith("admin:") and first_url[name] != url:
                continue
            run.as_role(role)
            response = run.send("GET", url, {})
            if response is None or response.status_code != 200:
                continue
            readers.setdefault(url, []).append(role)
            if not name.startswith("admin:"):
                post_forms, get_keys = page_forms(response, url)
                query_keys.setdefault(url, set()).update(get_keys)
                if get_keys:
                    query_readers.setdefault(url, []).append(role)
                for action, fields in post_forms.items():
                    if resolve(action).url_name == "set_language" or action in post_targets:
                        post_targets.setdefault(action, {}).update(fields)
                        form_roles.setdefault(action, set()).add(role)

    # 2. Fuzzed query strings on every page a role may read.
    # One URL per pattern and one reader: a query string reaches the same code whatever the object and
    # whoever reads (their access was read above).
    fuzzed_patterns = set()
    for url, roles in readers.items():
        if url.startswith("/admin/") and url != "/admin/members/member/" or names[url] in fuzzed_patterns:
            continue
        fuzzed_patterns.add(names[url])
        keys = [*query_keys.get(url, ()), *post_targets.get(url, {})]
        # The role whose page has the filters (the Dinas home's month, say), else the last reader.
        role = (query_readers.get(url) or roles)[-1]
        fuzz_query(run, role, url, keys, max(1, EXAMPLES // 2))

    # 3. Fuzzed submissions to every URL (with the fields of the forms that post there) as every role.
    # URLs without a form are posted to once per pattern and role (405, 403 or a login redirect).
    seen_patterns = set()
    for url, fields in sorted(post_targets.items()):
        if url not in form_roles:
            if names.get(url) in seen_patterns:
                continue
            seen_patterns.add(names.get(url))
        fields = {
            **fields,
            **{k: {"kind": "text", "values": []} for k in ("reason", "confirm") if k not in fields},
        }
        for role in ROLES:
            if role in OUTSIDERS and first_url.get(names.get(url), url) != url:
                continue
            # Full examples for the roles shown a form that posts here; one for the others (refused).
            examples = EXAMPLES if role in form_roles.get(url, ()) else 1
            fuzz_post(run, role, url, fields, examples)

    project_forms = project_form_classes()
    run.figures["url patterns"] = len(url_patterns())
    run.figures["urls built"] = len(targets)
    run.figures["post targets"] = len(post_targets)
    run.figures["forms"] = len(project_forms)
    run.figures["forms filled in"] = len(cleaned & project_forms)
    print("\nfuzz figures:", dict(sorted(run.figures.items())))
    if os.environ.get("FUZZ_PROFILE"):
        print({k: round(v, 1) for k, v in run.seconds.most_common(25)}, round(sum(run.seconds.values()), 1))
    assert not run.failures, f"{len(run.failures)} failures, the first ones:\n" + "\n\n".join(
        repr(f) for f in run.failures[:15]
    )
    # Django admin's pages are read by the fuzz, not posted to: its forms are tested in test_audit.py.
    never = sorted(
        cls.__qualname__ for cls in project_forms - cleaned if not cls.__module__.endswith(".admin")
    )
    assert not never, (
        f"Forms never filled in by the fuzz (give the world an object that reaches them): {never}"
    )
