import pytest

from tests.factories import LkmmFactory, StaffFactory, login


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # PBKDF2 costs about a second per login; tests check who may do what, not the hash's strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def lkmm(db):
    return LkmmFactory(code="semenggu", name="LKMM Semenggu")


@pytest.fixture
def other_lkmm(db):
    return LkmmFactory(code="wonosari", name="LKMM Wonosari", desa="Wonosari")


def _login(client, staff):
    return login(client, staff)


@pytest.fixture
def pengelola(lkmm):
    return StaffFactory(user__username="pengelola.test", lkmm=lkmm)


@pytest.fixture
def ketua(lkmm):
    return StaffFactory(user__username="ketua.test", lkmm=lkmm, ketua=True)


@pytest.fixture
def dinas(db):
    return StaffFactory(user__username="dinas.test", dinas=True)


@pytest.fixture
def pengelola_client(client, pengelola):
    return _login(client, pengelola)


@pytest.fixture
def ketua_client(client, ketua):
    return _login(client, ketua)


@pytest.fixture
def dinas_client(client, dinas):
    return _login(client, dinas)
