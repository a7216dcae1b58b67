"""Login, logout, password change, role-less users, error pages and the page language."""

import datetime
from urllib.parse import quote

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, MemberFactory, UserFactory, login

LOGIN = reverse("login")
LOGOUT = reverse("logout")
PASSWORD_CHANGE = reverse("password_change")
PASSWORD_DONE = reverse("password_change_done")
HOME = reverse("reports:home")
NEW_PASSWORD = "Kunci-baru-2026!"


def login_url(next_url):
    return f"{LOGIN}?next={quote(next_url)}"


def logged_in(client):
    return SESSION_KEY in client.session


# --- login and logout ----------------------------------------------------------------------------


def test_login_page(client):
    response = client.get(LOGIN)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="id">' in html
    assert "<h1>Masuk</h1>" in html
    assert 'name="username"' in html and 'name="password"' in html
    assert "Nama pengguna" in html  # Django's own labels, in Indonesian


@pytest.mark.parametrize(("next_url", "target"), [("", HOME), ("/anggota/", "/anggota/")])
def test_login_sends_staff_on(client, pengelola, next_url, target):
    data = {"username": "pengelola.test", "password": PASSWORD}
    if next_url:
        data["next"] = next_url

    response = client.post(LOGIN, data)

    assert response.status_code == 302
    assert response["Location"] == target
    assert logged_in(client)
    assert int(client.session[SESSION_KEY]) == pengelola.user.pk


def test_login_never_redirects_off_site(client, pengelola):
    response = client.post(
        LOGIN, {"username": "pengelola.test", "password": PASSWORD, "next": "https://jahat.example/"}
    )

    assert response.status_code == 302
    assert response["Location"] == HOME


def test_wrong_password_is_refused_in_indonesian(client, pengelola):
    response = client.post(LOGIN, {"username": "pengelola.test", "password": "salah"})

    assert response.status_code == 200
    assert not logged_in(client)
    errors = response.context["form"].non_field_errors()
    message = "Nama pengguna atau kata sandi salah. Perhatikan huruf besar dan kecil."
    assert errors == [message]
    assert message in response.content.decode()
    assert "nama pengguna nama pengguna" not in response.content.decode().lower()


def test_empty_login_shows_required_messages_in_indonesian(client, db):
    response = client.post(LOGIN, {})

    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["Bidang ini tidak boleh kosong."]
    assert "Bidang ini tidak boleh kosong." in response.content.decode()


def test_logged_in_user_opening_login_goes_home(pengelola_client):
    response = pengelola_client.get(LOGIN)

    assert response.status_code == 302
    assert response["Location"] == HOME


def test_logout_by_post(pengelola_client):
    response = pengelola_client.post(LOGOUT)

    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not logged_in(pengelola_client)
    after = pengelola_client.get(HOME)
    assert (after.status_code, after["Location"]) == (302, login_url(HOME))


def test_logout_by_get_is_refused(pengelola_client):
    response = pengelola_client.get(LOGOUT)

    assert response.status_code == 405
    assert logged_in(pengelola_client)


def test_every_page_offers_a_logout_form(pengelola_client):
    """Through the menu: every page links to it (top bar and bottom bar) and it holds the logout form."""
    html = pengelola_client.get(HOME).content.decode()
    assert html.count('href="/menu/"') == 2

    menu = pengelola_client.get("/menu/").content.decode()
    assert f'<form method="post" action="{LOGOUT}" class="actions">' in menu


# --- password change -----------------------------------------------------------------------------


def test_password_change_page(pengelola_client):
    response = pengelola_client.get(PASSWORD_CHANGE)

    assert response.status_code == 200
    assert "<h1>Ganti kata sandi</h1>" in response.content.decode()


def test_password_change(pengelola_client, pengelola):
    response = pengelola_client.post(
        PASSWORD_CHANGE,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == PASSWORD_DONE
    done = pengelola_client.get(PASSWORD_DONE)
    assert done.status_code == 200
    assert "Kata sandi Anda sudah diganti." in done.content.decode()
    assert pengelola_client.get(HOME).status_code == 200  # the session survives the change
    pengelola.user.refresh_from_db()
    assert pengelola.user.check_password(NEW_PASSWORD)
    new = Client().post(LOGIN, {"username": "pengelola.test", "password": NEW_PASSWORD})
    old = Client().post(LOGIN, {"username": "pengelola.test", "password": PASSWORD})
    assert new.status_code == 302 and old.status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"old_password": "salah", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            "old_password",
            "Sandi lama Anda yang dimasukkan salah. Masukkan sekali lagi.",
        ),
        (
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"},
            "new_password2",
            "Dua bidang sandi tidak cocok.",
        ),
    ],
)
def test_bad_password_change_keeps_the_old_password(pengelola_client, pengelola, data, field, message):
    response = pengelola_client.post(PASSWORD_CHANGE, data)

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert message in response.content.decode()
    pengelola.user.refresh_from_db()
    assert pengelola.user.check_password(PASSWORD)


def test_weak_new_password_is_refused(pengelola_client, pengelola):
    response = pengelola_client.post(
        PASSWORD_CHANGE, {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )

    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    pengelola.user.refresh_from_db()
    assert pengelola.user.check_password(PASSWORD)


@pytest.mark.parametrize("url", [PASSWORD_CHANGE, PASSWORD_DONE])
def test_password_pages_need_a_login(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == login_url(url)


# --- users without a role ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [HOME, reverse("members:list"), reverse("loans:list"), "/buku/semenggu/"])
def test_a_login_without_a_staff_role_gets_403(client, lkmm, url):
    user = UserFactory(username="tanpa.peran")
    login(client, user)

    response = client.get(url)

    assert response.status_code == 403
    assert "Tidak diizinkan" in response.content.decode()


def test_an_admin_opening_home_is_sent_on_to_django_admin(client, db):
    from django.contrib.auth import get_user_model

    from tests.factories import login

    admin = get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz")
    login(client, admin)  # with its second factor

    response = client.get(HOME)

    assert response.status_code == 200
    assert 'href="/admin/"' in response.content.decode()
    assert "Tidak diizinkan" not in response.content.decode()


# --- error pages and language --------------------------------------------------------------------


def test_404_page_is_in_indonesian(pengelola_client):
    response = pengelola_client.get("/anggota/999999/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Tidak ditemukan" in html
    assert "bukan milik LKMM Anda" in html


def test_403_page_is_in_indonesian(dinas_client):
    response = dinas_client.get(reverse("members:create"))

    assert response.status_code == 403
    assert "Peninjau Dinas hanya membaca" in response.content.decode()


def test_default_language_is_indonesian(pengelola_client):
    response = pengelola_client.get(HOME)

    html = response.content.decode()
    assert '<html lang="id">' in html
    assert 'aria-label="Menu utama"' in html
    for label in ("Beranda", "Anggota", "Pinjaman", "Produk", "Buku"):
        assert f">{label}</a>" in html, label


def test_dinas_nav_has_the_overview_and_no_books_link(dinas_client):
    html = dinas_client.get(HOME).content.decode()

    assert ">Semua LKMM</a>" in html
    assert ">Anggota</a>" in html
    assert ">Buku</a>" not in html


def test_dates_stay_dd_mm_yyyy_after_switching_to_english(pengelola_client, lkmm):
    member = MemberFactory(lkmm=lkmm, joined_on=datetime.date(2026, 1, 5))
    url = reverse("members:detail", args=[member.pk])

    switched = pengelola_client.post(reverse("set_language"), {"language": "en", "next": url})
    response = pengelola_client.get(url)

    assert switched.status_code == 302
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "<dd>05/01/2026</dd>" in html


def test_language_switcher_names_each_language_in_itself(client, db):
    html = client.get("/akun/masuk/").content.decode()
    assert ">English</button>" in html
    assert ">Bahasa Indonesia</button>" in html
    assert "Inggris" not in html


def test_indonesian_is_the_default_whatever_the_browser_asks(client, db):
    html = client.get("/akun/masuk/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="id">' in html
    client.cookies["django_language"] = "en"
    html = client.get("/akun/masuk/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert '<html lang="en">' in html
