"""Login and session hardening (issue 9, part 5): lockout, second factor, timeouts, a form kept over a
login, sessions ended on a change of access, no-store, Content-Security-Policy, HTTPS in production.
README "Keamanan / Security" names these tests."""

import datetime
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessLog
from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from institutions.models import LoginSession, Role
from institutions.security import LAST_SEEN, LOGIN_AT, SAVED_POST
from loans.models import Repayment
from tests.factories import PASSWORD, MemberFactory, StaffFactory, login, make_active_loan

BASE_DIR = Path(__file__).resolve().parent.parent
LOGIN = reverse("login")
HOME = reverse("reports:home")
VERIFY = reverse("otp_verify")
SECURITY = reverse("account_security")


def password_login(client, username, password=PASSWORD, ip="10.0.0.1", **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra}, REMOTE_ADDR=ip)


def code_of(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


# --- lockout (django-axes) --------------------------------------------------------------------------


def test_five_failures_lock_the_login_until_the_cool_off(client, pengelola):
    for _ in range(4):
        assert password_login(client, "pengelola.test", "salah").status_code == 200
    locked = password_login(client, "pengelola.test", "salah")
    assert locked.status_code == 429
    assert "Terlalu banyak percobaan masuk yang gagal" in locked.content.decode()

    refused = password_login(client, "pengelola.test")  # the right password, still refused
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    assert 'name="username"' in refused.content.decode()  # the login page, not a raw axes page

    # 15 minutes later the lockout has ended by itself.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=16))
    assert password_login(client, "pengelola.test").status_code == 302
    assert client.session["_auth_user_id"] == str(pengelola.user.pk)


def test_an_admin_reset_lifts_a_lockout(client, pengelola):
    for _ in range(5):
        password_login(client, "pengelola.test", "salah")
    assert password_login(client, "pengelola.test").status_code == 429
    axes_reset(username="pengelola.test")  # what deleting the row in admin's "Access attempts" does
    assert password_login(client, "pengelola.test").status_code == 302


def test_a_lockout_holds_one_username_from_one_address_only(client, pengelola, ketua):
    for _ in range(5):
        password_login(client, "pengelola.test", "salah", ip="10.0.0.66")
    assert password_login(Client(), "pengelola.test", ip="10.0.0.66").status_code == 429
    # The stranger at .66 has not locked the pengelola out of her own phone, nor the ketua out.
    assert password_login(Client(), "pengelola.test", ip="10.0.0.1").status_code == 302
    assert password_login(Client(), "ketua.test", ip="10.0.0.66").status_code == 302


def test_axes_records_attempts_and_the_admin_lists_them(client, pengelola):
    password_login(client, "pengelola.test", "salah")
    password_login(client, "pengelola.test")
    assert AccessLog.objects.filter(username="pengelola.test").exists()
    admin = login(Client(), get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz"))
    for name in ("accessattempt", "accesslog"):
        assert admin.get(reverse(f"admin:axes_{name}_changelist")).status_code == 200


# --- second factor (django-otp) ---------------------------------------------------------------------

DINAS_PAGES = [HOME, reverse("members:list"), reverse("loans:list"), reverse("password_change"), "/admin/"]


def test_a_dinas_login_without_its_second_factor_reaches_no_page(client, dinas):
    response = password_login(client, "dinas.test")
    assert response.status_code == 302
    for url in DINAS_PAGES:
        page = client.get(url)
        assert page.status_code == 302, url
        assert page["Location"].startswith(SECURITY), url  # no device yet: set one up first
    TOTPDevice.objects.create(user=dinas.user, name="hp", confirmed=True)
    for url in DINAS_PAGES:
        assert client.get(url)["Location"].startswith(VERIFY), url
    assert client.post(reverse("members:list")).status_code == 302


def test_a_dinas_login_with_the_code_reaches_its_pages(client, dinas):
    device = TOTPDevice.objects.create(user=dinas.user, name="hp", confirmed=True)
    assert password_login(client, "dinas.test", next=reverse("loans:list"))["Location"] == reverse(
        "loans:list"
    )
    assert client.get(reverse("loans:list"))["Location"] == f"{VERIFY}?next=%2Fpinjaman%2F"

    wrong = client.post(VERIFY, {"code": "000000", "next": reverse("loans:list")})
    assert wrong.status_code == 200 and "Kode salah" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp slows down after a wrong code; this test need not wait
    device.save()
    right = client.post(VERIFY, {"code": code_of(device), "next": reverse("loans:list")})
    assert right["Location"] == reverse("loans:list")
    assert client.get(reverse("loans:list")).status_code == 200


def test_a_recovery_code_works_once(client, dinas):
    TOTPDevice.objects.create(user=dinas.user, name="hp", confirmed=True)
    static = StaticDevice.objects.create(user=dinas.user, name="recovery", confirmed=True)
    static.token_set.create(token="abcd2345")
    password_login(client, "dinas.test")
    assert client.post(VERIFY, {"code": "ABCD 2345"})["Location"] == HOME
    assert client.get(HOME).status_code == 200
    assert not StaticToken.objects.exists()

    other = Client()
    password_login(other, "dinas.test")
    assert other.post(VERIFY, {"code": "abcd2345"}).status_code == 200  # used up


def test_setting_up_the_authenticator_shows_secret_uri_qr_and_recovery_codes_once(client, pengelola):
    login(client, pengelola)
    page = client.get(SECURITY)
    html = page.content.decode()
    assert page.status_code == 200
    assert "otpauth://totp/" in html and '<svg width="' in html and page.context["secret"] in html
    device = TOTPDevice.objects.get(user=pengelola.user, confirmed=False)

    assert client.post(SECURITY, {"code": "000000"}).status_code == 200
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp slows down after a wrong code; this test need not wait
    device.save()
    done = client.post(SECURITY, {"code": code_of(device)})
    codes = done.context["codes"]
    assert len(codes) == 10 and all(code in done.content.decode() for code in codes)
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=pengelola.user).count() == 10
    again = client.get(SECURITY).content.decode()
    assert "Verifikasi dua langkah aktif" in again and codes[0] not in again

    # From now on this pengelola, too, gives the code at every login.
    fresh = Client()
    password_login(fresh, "pengelola.test")
    assert fresh.get(HOME)["Location"].startswith(VERIFY)


def test_a_password_alone_cannot_replace_the_second_factor(client, dinas):
    TOTPDevice.objects.create(user=dinas.user, name="hp", confirmed=True)
    password_login(client, "dinas.test")
    assert client.get(SECURITY)["Location"].startswith(VERIFY)
    assert client.post(SECURITY, {"code": "123456"})["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=dinas.user).count() == 1


def test_who_chose_the_second_factor_may_drop_it_but_not_the_dinas(pengelola, dinas):
    remove = reverse("second_factor_remove")
    TOTPDevice.objects.create(user=pengelola.user, name="hp", confirmed=True)
    own = login(Client(), pengelola)
    assert own.post(remove)["Location"] == SECURITY
    assert not TOTPDevice.objects.filter(user=pengelola.user).exists()
    assert own.get(HOME).status_code == 200

    reviewer = login(Client(), dinas)
    reviewer.post(remove)
    assert TOTPDevice.objects.filter(user=dinas.user).exists()


def test_django_admin_needs_the_second_factor(client, db):
    root = get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz")
    client.force_login(root)
    assert client.get("/admin/")["Location"].startswith(SECURITY)
    login(client, root)
    assert client.get("/admin/").status_code == 200
    # Admin's own login page hands over to the app's, with its lockout and its code page.
    assert Client().get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert Client().get("/admin/login/?next=/admin/")["Location"] == f"{LOGIN}?next=/admin/"


def test_admin_resets_a_lost_phone(client, dinas):
    login(Client(), dinas)
    StaticDevice.objects.create(user=dinas.user, name="recovery", confirmed=True)
    admin = login(client, get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz"))
    response = admin.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [dinas.user.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=dinas.user).exists()
    assert not StaticDevice.objects.filter(user=dinas.user).exists()
    assert not LoginSession.objects.filter(user=dinas.user).exists()


# --- session timeouts -------------------------------------------------------------------------------


def age_session(client, *, idle=0, since_login=0):
    session = client.session
    now = int(time.time())
    session[LAST_SEEN] = now - idle
    session[LOGIN_AT] = now - since_login
    session.save()


@pytest.mark.parametrize(
    ("who", "idle", "still_in"),
    [
        ("pengelola", 2 * 3600 - 60, True),
        ("pengelola", 2 * 3600 + 60, False),
        ("ketua", 2 * 3600 + 60, False),
        ("dinas", 29 * 60, True),
        ("dinas", 31 * 60, False),
    ],
)
def test_idle_timeout_by_role(client, db, request, who, idle, still_in):
    login(client, request.getfixturevalue(who))
    age_session(client, idle=idle)
    response = client.get(HOME)
    assert (response.status_code == 200) is still_in
    if not still_in:
        assert response["Location"] == f"{LOGIN}?next=/"
        assert "Sesi Anda berakhir" in client.get(LOGIN).content.decode()


def test_an_admin_idles_out_after_30_minutes(client, db):
    login(client, get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz"))
    age_session(client, idle=31 * 60)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_a_busy_session_still_ends_12_hours_after_its_login(pengelola_client):
    age_session(pengelola_client, idle=60, since_login=12 * 3600 + 60)
    assert pengelola_client.get(HOME)["Location"] == f"{LOGIN}?next=/"


def test_a_repayment_posted_after_the_session_ended_comes_back_filled_in(client, pengelola, lkmm):
    loan = make_active_loan(
        member=MemberFactory(lkmm=lkmm), disbursed_on=timezone.localdate() - datetime.timedelta(30)
    )
    url = reverse("loans:repay", args=[loan.pk])
    login(client, pengelola)
    client.get(url)
    age_session(client, idle=3 * 3600)
    data = {
        "amount": "124.154",
        "paid_on": timezone.localdate().isoformat(),
        "token": str(uuid.uuid4()),
        "note": "Setoran kelompok Mawar",
    }

    expired = client.post(url, data)
    assert expired["Location"] == f"{LOGIN}?next={url}"
    assert not Repayment.objects.exists()
    assert "Isian formulir yang Anda kirim disimpan" in client.get(LOGIN).content.decode()

    assert password_login(client, "pengelola.test", next=url)["Location"] == url
    page = client.get(url)
    form = page.context["form"]
    assert form.is_bound and form.data["note"] == "Setoran kelompok Mawar"
    assert 'value="Setoran kelompok Mawar"' in page.content.decode()
    assert "ditampilkan lagi" in page.content.decode()
    assert not Repayment.objects.exists()  # shown again, never recorded for the user
    assert SAVED_POST not in client.session
    assert client.get(url).context["form"].is_bound is False  # once

    assert client.post(url, dict(form.data.items()))["Location"].startswith("/pinjaman/kuitansi/")
    assert Repayment.objects.get().note == "Setoran kelompok Mawar"


def test_a_kept_form_is_not_shown_to_another_login(client, pengelola, lkmm):
    other = StaffFactory(user__username="pengelola.dua", lkmm=lkmm)
    login(client, pengelola)
    age_session(client, idle=3 * 3600)
    client.post(reverse("members:create"), {"full_name": "Bu Rahasia"})
    password_login(client, other.user.username, next=reverse("members:create"))
    assert not client.get(reverse("members:create")).context["form"].is_bound


# --- sessions end when access changes ---------------------------------------------------------------


def test_deactivating_a_user_ends_all_its_sessions(pengelola):
    phone, laptop = login(Client(), pengelola), login(Client(), pengelola)
    assert phone.get(HOME).status_code == 200
    pengelola.user.is_active = False
    pengelola.user.save()
    assert not Session.objects.exists()
    assert phone.get(HOME).status_code == 302 and laptop.get(HOME).status_code == 302


@pytest.mark.parametrize("change", ["role", "lkmm"])
def test_changing_role_or_lkmm_ends_the_sessions(pengelola, other_lkmm, ketua, change):
    phone, ketua_phone = login(Client(), pengelola), login(Client(), ketua)
    if change == "role":
        pengelola.role = Role.KETUA
    else:
        pengelola.lkmm = other_lkmm
    pengelola.save()
    assert phone.get(HOME)["Location"] == f"{LOGIN}?next=/"
    assert ketua_phone.get(HOME).status_code == 200  # others stay logged in


def test_saving_a_user_unchanged_keeps_its_sessions(pengelola_client, pengelola):
    pengelola.user.first_name = "Sari"
    pengelola.user.save()
    pengelola.save()
    assert pengelola_client.get(HOME).status_code == 200


# --- headers ----------------------------------------------------------------------------------------


def test_pages_and_exports_of_a_logged_in_user_are_not_stored(pengelola_client, lkmm):
    page = pengelola_client.get(HOME)
    export = pengelola_client.get(reverse("reports:arrears", args=[lkmm.code]) + "?format=csv")
    xlsx = pengelola_client.get(reverse("reports:arrears", args=[lkmm.code]) + "?format=xlsx")
    assert export["Content-Type"].startswith("text/csv")
    for response in (page, export, xlsx):
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_security_headers_are_on_every_page(client, pengelola):
    for response in (client.get(LOGIN), login(client, pengelola).get(HOME), client.get(SECURITY)):
        policy = response["Content-Security-Policy"]
        for directive in (
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ):
            assert directive in policy
        assert "unsafe-inline" not in policy
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_django_admin_renders_under_the_policy(client, db):
    login(client, get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz"))
    page = client.get(reverse("admin:auth_user_changelist"))
    assert page.status_code == 200 and "default-src 'self'" in page["Content-Security-Policy"]
    html = page.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and "style=" not in html


TEMPLATE_DIRS = [BASE_DIR / "templates", *BASE_DIR.glob("*/templates")]
INLINE_PY = r"\bstyle\s*=|<style\b|<script(?![^>]*\bsrc=)[^>]*>|javascript:"
INLINE = {".py": re.compile(INLINE_PY, re.I), ".html": re.compile(INLINE_PY + r"|\son[a-z]+\s*=", re.I)}
APPS = ["institutions", "members", "loans", "ledger", "reports", "risk", "lkmm"]


def test_no_template_or_python_html_has_inline_script_or_style():
    """The policy forbids inline code: one slipping in would silently not work in the browser."""
    files = [p for d in TEMPLATE_DIRS for p in d.rglob("*.html")]
    files += [p for app in APPS for p in (BASE_DIR / app).rglob("*.py") if "migrations" not in p.parts]
    assert len(files) > 50
    found = [
        f"{p.relative_to(BASE_DIR)}: {m.group(0)}"
        for p in files
        for m in INLINE[p.suffix].finditer(p.read_text())
    ]
    assert found == []


# --- production settings ----------------------------------------------------------------------------


def test_check_deploy_passes_with_the_readme_production_settings():
    """README "Production": these variables and nothing else give a clean `check --deploy`."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        DEBUG="off",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL="postgres://lkmm:secret@127.0.0.1:5432/lkmm",
        ALLOWED_HOSTS="lkmm.example.go.id",
        CSRF_TRUSTED_ORIGINS="https://lkmm.example.go.id",
        BEHIND_PROXY="on",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    readme = (BASE_DIR / "README.md").read_text()
    for line in (
        "export DEBUG=off",
        "export ALLOWED_HOSTS=",
        "export BEHIND_PROXY=on",
        "export DATABASE_URL=",
    ):
        assert line in readme


def test_development_serves_plain_http(client):
    response = client.get(LOGIN)  # DEBUG settings: no redirect to HTTPS, no HSTS
    assert response.status_code == 200 and "Strict-Transport-Security" not in response
