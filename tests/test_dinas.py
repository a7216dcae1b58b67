"""Several Dinas in one deployment (issue 11, item 6): each reviewer sees only their own Dinas's LKMMs,
404 on the others' across every LKMM-bearing URL pattern, lists and exports; the Dinas's settings
edited by its reviewers and audited; a reviewer writes nothing else; the commands that set one up."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from institutions.models import AuditLog, Dinas, Lkmm, Role, Staff, lkmm_scope
from institutions.services import dinas_create, dinas_settings_update, lkmm_create
from tests.factories import DinasFactory, LkmmFactory, MemberFactory, StaffFactory, jember, login
from tests.test_fuzz import _arguments, build_world, url_patterns, url_targets

pytestmark = pytest.mark.django_db


def bontang():
    return DinasFactory(code="bontang", kabupaten="Bontang", provinsi="Kalimantan Timur")


# --- the model ---------------------------------------------------------------------------------------


def test_a_dinas_has_the_default_settings():
    dinas = dinas_create(
        code="bontang", name="Dinas Koperasi Kota Bontang", kabupaten="Bontang", provinsi="Kaltim"
    )
    assert dinas.npl_threshold_pct == Decimal("5")
    assert dinas.par30_threshold_pct == Decimal("10")
    assert dinas.coverage_threshold_pct == Decimal("100")
    assert dinas.cash_limit == 500_000
    assert AuditLog.objects.filter(action="dinas.create", object_id=dinas.pk).exists()


def test_an_lkmm_takes_its_kabupaten_from_its_dinas():
    lkmm = lkmm_create(
        dinas=bontang(),
        code="guntung",
        name="LKMM Guntung",
        desa="Guntung",
        kecamatan="Bontang Utara",
        founded_on=datetime.date(2020, 1, 1),
    )
    assert lkmm.kabupaten == "Bontang"
    lkmm.refresh_from_db()
    assert lkmm.kabupaten == "Bontang"


def test_lkmm_create_needs_the_dinas_named_when_there_are_several():
    jember()
    bontang()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        lkmm_create(code="x", name="X", desa="X", kecamatan="X", founded_on=datetime.date(2020, 1, 1))


def test_a_reviewer_has_a_dinas_and_no_lkmm_constraint():
    staff = StaffFactory(dinas=True)
    assert staff.dinas.code == "jember"
    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.filter(pk=staff.pk).update(dinas=None)
    lkmm_staff = StaffFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Staff.objects.filter(pk=lkmm_staff.pk).update(dinas=jember())


def test_settings_cannot_be_negative_constraint():
    dinas = jember()
    with pytest.raises(IntegrityError), transaction.atomic():
        Dinas.objects.filter(pk=dinas.pk).update(cash_limit=-1)


def test_lkmm_scope_is_the_reviewers_own_dinas():
    a = LkmmFactory(code="a1")
    b = LkmmFactory(code="b1", dinas=bontang())
    reviewer_a = StaffFactory(dinas=True).user
    reviewer_b = StaffFactory(dinas=True, dinas_of=b.dinas).user
    assert list(Lkmm.objects.for_user(reviewer_a)) == [a]
    assert list(Lkmm.objects.for_user(reviewer_b)) == [b]
    admin = get_user_model().objects.create_superuser("root", "r@example.org", "x")
    assert lkmm_scope(admin) is None


# --- 404 across the URL patterns ---------------------------------------------------------------------


@pytest.fixture
def two_cities():
    """The fuzz world (an LKMM with an object in each state, and another LKMM) moved to Bontang, and a
    Jember reviewer who must not see any of it."""
    world = build_world()
    city = bontang()
    Lkmm.objects.filter(pk__in=[world.lkmm.pk, world.other.pk]).update(dinas=city)
    world.jember_reviewer = StaffFactory(dinas=True, user__username="dinas.jember").user
    world.bontang_reviewer = world.users["dinas"]
    Staff.objects.filter(user=world.bontang_reviewer).update(dinas=city)
    world.bontang_reviewer.staff.refresh_from_db()
    return world


def test_another_dinas_reviewer_gets_404_on_every_lkmm_bearing_url(client, two_cities):
    world = two_cities
    targets, missing = url_targets(world)
    assert not missing
    with_arguments = {name for parts, name, _pattern in url_patterns() if _arguments(parts)}
    bearing = [(n, u) for n, u in targets if n in with_arguments and not n.startswith("admin:")]
    assert len(bearing) > 20
    login(client, world.jember_reviewer)
    seen_other = []
    for name, url in bearing:
        response = client.get(url)
        assert response.status_code in (403, 404, 405), (name, url, response.status_code)
    # The same URLs answer the Bontang reviewer (so the 404s above are the scope, not broken URLs).
    client.logout()
    login(client, world.bontang_reviewer)
    for name, url in bearing:
        if client.get(url).status_code == 200:
            seen_other.append(name)
    assert len(seen_other) > 10


LISTS = [
    "/",
    "/anggota/",
    "/anggota/kelompok/",
    "/pinjaman/",
    "/risiko/tutup-buku/",
    "/jejak-audit/",
    "/jejak-audit/?format=csv",
    "/?format=csv",
]


def test_lists_and_exports_leave_out_another_dinas(client, two_cities):
    world = two_cities
    login(client, world.jember_reviewer)
    for url in LISTS:
        response = client.get(url)
        if response.status_code != 200:
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", "replace")
        assert "Semenggu" not in text and "Wonosari" not in text, url
        assert world.members[0].full_name not in text, url
    client.logout()
    login(client, world.bontang_reviewer)
    assert "LKMM Semenggu" in client.get("/").content.decode()


def test_duplicates_only_within_the_dinas(client):
    a = LkmmFactory(code="a1")
    b = LkmmFactory(code="b1", dinas=bontang())
    c = LkmmFactory(code="c1", dinas=b.dinas)
    for lkmm in (a, b, c):
        MemberFactory(lkmm=lkmm, nik="3509104501809001", full_name=f"Siti {lkmm.code}")
    login(client, StaffFactory(dinas=True))
    text = client.get(reverse("members:duplicates")).content.decode()
    assert "Siti a1" not in text  # only one LKMM of Jember has her
    client.logout()
    login(client, StaffFactory(dinas=True, dinas_of=b.dinas))
    text = client.get(reverse("members:duplicates")).content.decode()
    assert "Siti b1" in text and "Siti c1" in text and "Siti a1" not in text


def test_a_manager_cannot_open_dinas_pages(client):
    lkmm = LkmmFactory()
    for role in (Role.PENGELOLA, Role.KETUA):
        client.logout()
        login(client, StaffFactory(lkmm=lkmm, role=role))
        assert client.get(reverse("dinas:settings")).status_code == 403
        assert client.post(reverse("dinas:settings"), {"cash_limit": "1"}).status_code == 403
        assert client.get(reverse("members:duplicates")).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("dinas:settings"))
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]


# --- the Dinas settings ------------------------------------------------------------------------------

SETTINGS = {
    "npl_threshold_pct": "4,5",
    "par30_threshold_pct": "12",
    "coverage_threshold_pct": "90.25",
    "cash_limit": "750.000",
}


def test_a_reviewer_edits_the_settings_and_each_change_is_audited(client):
    reviewer = StaffFactory(dinas=True)
    login(client, reviewer)
    assert client.get(reverse("dinas:settings")).status_code == 200
    response = client.post(reverse("dinas:settings"), SETTINGS)
    assert response.status_code == 302
    dinas = Dinas.objects.get(code="jember")
    assert dinas.npl_threshold_pct == Decimal("4.5")
    assert dinas.par30_threshold_pct == Decimal("12")
    assert dinas.coverage_threshold_pct == Decimal("90.25")
    assert dinas.cash_limit == 750_000
    log = AuditLog.objects.get(action="dinas.settings")
    assert log.actor == reviewer.user
    assert log.data["changes"] == {
        "npl_threshold_pct": ["5.00", "4.50"],
        "par30_threshold_pct": ["10.00", "12.00"],
        "coverage_threshold_pct": ["100.00", "90.25"],
        "cash_limit": ["500000", "750000"],
    }
    # Unchanged: no audit row.
    client.post(reverse("dinas:settings"), SETTINGS)
    assert AuditLog.objects.filter(action="dinas.settings").count() == 1
    # The change shows on the page and in the reviewer's audit trail.
    assert "750000" in client.get(reverse("dinas:settings")).content.decode()
    assert "dinas.settings" in client.get(reverse("audit:trail")).content.decode()


def test_another_dinas_reviewer_does_not_see_the_change_in_the_audit_trail(client):
    dinas_settings_update(dinas=jember(), actor=None, cash_limit=600_000)
    login(client, StaffFactory(dinas=True, dinas_of=bontang()))
    assert "dinas.settings" not in client.get(reverse("audit:trail")).content.decode()


def test_a_reviewer_changes_only_their_own_dinas(client):
    other = bontang()
    login(client, StaffFactory(dinas=True))
    client.post(reverse("dinas:settings"), SETTINGS)
    other.refresh_from_db()
    assert other.cash_limit == 500_000


@pytest.mark.parametrize(
    "field,value",
    [
        ("npl_threshold_pct", "-1"),
        ("npl_threshold_pct", "abc"),
        ("par30_threshold_pct", "1.234"),
        ("coverage_threshold_pct", "100000"),
        ("cash_limit", "-5"),
        ("cash_limit", "1,5"),
    ],
)
def test_bad_settings_are_refused(client, field, value):
    login(client, StaffFactory(dinas=True))
    response = client.post(reverse("dinas:settings"), {**SETTINGS, field: value})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert Dinas.objects.get(code="jember").cash_limit == 500_000
    assert not AuditLog.objects.filter(action="dinas.settings").exists()


def test_a_reviewer_writes_nothing_else(client):
    """Every POST a reviewer sends outside the settings, the account pages and coaching is refused by the
    middleware, whatever the view."""
    lkmm = LkmmFactory()
    member = MemberFactory(lkmm=lkmm)
    login(client, StaffFactory(dinas=True))
    for url in [
        reverse("members:list"),
        reverse("members:detail", args=[member.pk]),
        reverse("risk:closes"),
        reverse("reports:home"),
        f"/anggota/{member.pk}/ubah/",
    ]:
        assert client.post(url, {"x": "1"}).status_code == 403, url
    # Their own account still takes a POST (the language switcher, logging out).
    assert client.post(reverse("set_language"), {"language": "en"}).status_code == 302
    assert client.post(reverse("logout")).status_code in (200, 302)


# --- the commands ------------------------------------------------------------------------------------


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_create_dinas_and_its_lkmm_and_reviewer():
    run(
        "create_dinas",
        "bontang",
        "--name",
        "Dinas Koperasi Kota Bontang",
        "--kabupaten",
        "Bontang",
        "--provinsi",
        "Kalimantan Timur",
    )
    dinas = Dinas.objects.get(code="bontang")
    assert dinas.provinsi == "Kalimantan Timur"
    # The only Dinas: --dinas may be left out.
    run(
        "create_lkmm",
        "--code",
        "guntung",
        "--name",
        "LKMM Guntung",
        "--desa",
        "Guntung",
        "--kecamatan",
        "Bontang Utara",
        "--founded",
        "2020-01-01",
    )
    lkmm = Lkmm.objects.get(code="guntung")
    assert lkmm.dinas == dinas and lkmm.kabupaten == "Bontang"
    run("create_staff", "--username", "dinas.bontang", "--role", "dinas", "--password", "Rahasia-panjang-123")
    assert Staff.objects.get(user__username="dinas.bontang").dinas == dinas
    # A second Dinas: now it must be named.
    run(
        "create_dinas",
        "jember",
        "--name",
        "Dinas Koperasi Jember",
        "--kabupaten",
        "Jember",
        "--provinsi",
        "Jawa Timur",
    )
    with pytest.raises(CommandError, match="--dinas"):
        run(
            "create_lkmm",
            "--code",
            "x",
            "--name",
            "X",
            "--desa",
            "X",
            "--kecamatan",
            "X",
            "--founded",
            "2020-01-01",
        )
    with pytest.raises(CommandError, match="--dinas"):
        run("create_staff", "--username", "d2", "--role", "dinas", "--password", "Rahasia-panjang-123")
    run(
        "create_lkmm",
        "--dinas",
        "jember",
        "--code",
        "x",
        "--name",
        "X",
        "--desa",
        "X",
        "--kecamatan",
        "X",
        "--founded",
        "2020-01-01",
    )
    assert Lkmm.objects.get(code="x").kabupaten == "Jember"
    run(
        "create_staff",
        "--username",
        "d2",
        "--role",
        "dinas",
        "--dinas",
        "jember",
        "--password",
        "Rahasia-panjang-123",
    )
    assert Staff.objects.get(user__username="d2").dinas.code == "jember"


@pytest.mark.parametrize(
    "args,message",
    [
        (["create_dinas", "jember", "--name", "X", "--kabupaten", "X", "--provinsi", "X"], "Dinas"),
        (
            [
                "create_lkmm",
                "--dinas",
                "nope",
                "--code",
                "y",
                "--name",
                "Y",
                "--desa",
                "Y",
                "--kecamatan",
                "Y",
                "--founded",
                "2020-01-01",
            ],
            "nope",
        ),
        (
            [
                "create_staff",
                "--username",
                "z",
                "--role",
                "dinas",
                "--dinas",
                "nope",
                "--password",
                "Rahasia-123-x",
            ],
            "nope",
        ),
        (
            [
                "create_staff",
                "--username",
                "z",
                "--role",
                "dinas",
                "--lkmm",
                "a1",
                "--password",
                "Rahasia-123-x",
            ],
            "--dinas",
        ),
        (
            [
                "create_staff",
                "--username",
                "z",
                "--role",
                "ketua",
                "--dinas",
                "jember",
                "--lkmm",
                "a1",
                "--password",
                "Rahasia-123-x",
            ],
            "--dinas",
        ),
    ],
)
def test_commands_refuse_with_an_error(args, message):
    jember()
    LkmmFactory(code="a1")
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_commands_exit_codes():
    """A refusal exits with status 1 from the command line (CommandError), success with 0."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "create_dinas", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    result = subprocess.run(
        [sys.executable, "manage.py", "create_dinas", "x"], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0  # required options missing


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database keeps history on PostgreSQL only")
def test_the_settings_history_is_in_the_reviewers_database_history_only(client):
    from audit.selectors import db_history

    reviewer = StaffFactory(dinas=True).user
    login(client, reviewer)
    client.post(reverse("dinas:settings"), SETTINGS)
    label = "audit.DinasTracked"
    mine = [event for event in db_history(reviewer) if event.pgh_obj_model == label]
    assert [event.pgh_label for event in mine][:1] == ["update"]
    other = StaffFactory(dinas=True, dinas_of=bontang()).user
    assert not [
        event
        for event in db_history(other)
        if event.pgh_obj_model == label and event.pgh_obj_id == str(jember().pk)
    ]


def test_admin_adds_an_lkmm_with_its_dinas_kabupaten_and_audits_a_dinas_change(client):
    city = bontang()
    login(client, get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz"))
    response = client.post(
        reverse("admin:institutions_lkmm_add"),
        {
            "code": "guntung",
            "name": "LKMM Guntung",
            "dinas": city.pk,
            "desa": "Guntung",
            "kecamatan": "Bontang Utara",
            "kabupaten": "",
            "founded_on": "2020-01-01",
            "quality_policy": Lkmm._meta.get_field("quality_policy").get_default(),
            "default_rounding_unit": 100,
            "group_min_size": 3,
            "group_max_size": 10,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Lkmm.objects.get(code="guntung").kabupaten == "Bontang"
    response = client.post(
        reverse("admin:institutions_dinas_change", args=[city.pk]),
        {
            "code": "bontang",
            "name": city.name,
            "kabupaten": "Bontang",
            "provinsi": "Kalimantan Timur",
            "npl_threshold_pct": "6",
            "par30_threshold_pct": "10",
            "coverage_threshold_pct": "100",
            "cash_limit": "500000",
        },
    )
    assert response.status_code == 302
    log = AuditLog.objects.get(action="admin.ubah", object_type="institutions.dinas")
    assert log.data["changes"]["npl_threshold_pct"] == ["5.00", "6"]
