"""Settings, read from the environment (see the table in README.md).

Every value comes from an environment variable or a `.env` file beside manage.py. Defaults suit a
developer's machine (SQLite, DEBUG on); production must set DEBUG=off, SECRET_KEY and DATABASE_URL.
"""

import datetime
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

# No secret default outside DEBUG: a production server without SECRET_KEY must not start.
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-do-not-use-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("SECRET_KEY must be set (at least 32 characters) when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "institutions",
    "members",
    "ledger",
    "loans",
    "reports",
    "risk",
    "coaching",
    "savings",
    "shu",
    "books",
    # The database-kept audit trail (PostgreSQL triggers): audit/models.py.
    "pgtrigger",
    "pghistory",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages are compressed for phones on weak connections (a 305 KB collection sheet of 250 members
    # sends 18 KB); below WhiteNoise, which serves static files compressed already. Django's gzip pads
    # each response with random bytes against BREACH, and CSRF tokens are masked per response.
    "django.middleware.gzip.GZipMiddleware",
    "lkmm.db_routers.PrimaryAfterWriteMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "institutions.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the audit trail needs the user (audit/middleware.py).
    "audit.middleware.HistoryContextMiddleware",
    "audit.middleware.RefusedAccessMiddleware",
    # Order matters below: the no-store header covers every response of a logged-in user, including
    # the redirects of the checks after it; timeouts end a session before the second factor is asked
    # for; a POST that an ended session sends to the login page is kept for after the login.
    "institutions.security.NoStoreMiddleware",
    "institutions.security.SessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "institutions.security.OTPRequiredMiddleware",
    "institutions.security.KeepPostOverLoginMiddleware",
    # After the second factor: a Dinas reviewer's writes other than their own few are refused.
    "institutions.middleware.DinasReadOnlyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the login page with its message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lkmm.urls"
WSGI_APPLICATION = "lkmm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "institutions.context_processors.staff",
                "institutions.navigation.nav",
            ],
            "builtins": ["institutions.templatetags.lkmm_format"],
        },
    }
]

# --- Database ---------------------------------------------------------------------------------------
# SQLite in the project folder is the embedded default; PostgreSQL in production and CI.
# docs/deploy-postgresql.md explains these settings and the server settings that go with them.

# "pgbouncer": connections go through PgBouncer in transaction mode (see _database below).
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ImproperlyConfigured("DATABASE_POOLER must be empty or 'pgbouncer'.")

# A web request's statement is cancelled after DB_STATEMENT_TIMEOUT_MS, so that a runaway query stops
# in the database instead of running on after gunicorn has killed its worker. manage.py commands
# (migrate, check_books, jobs over every LKMM) get DB_COMMAND_STATEMENT_TIMEOUT_MS instead: none by
# default. runserver serves web requests, so it counts as web.
RUNNING_COMMAND = Path(sys.argv[0]).name in ("manage.py", "django-admin") and sys.argv[1:2] != ["runserver"]
if RUNNING_COMMAND:
    DB_STATEMENT_TIMEOUT_MS = env.int("DB_COMMAND_STATEMENT_TIMEOUT_MS", default=0)
    DB_REPLICA_STATEMENT_TIMEOUT_MS = DB_STATEMENT_TIMEOUT_MS
else:
    DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=30_000)
    # The report pages read the replica: they may be given longer there without risk to the primary.
    DB_REPLICA_STATEMENT_TIMEOUT_MS = env.int(
        "DB_REPLICA_STATEMENT_TIMEOUT_MS", default=DB_STATEMENT_TIMEOUT_MS
    )
# A transaction left open and idle holds its locks and keeps VACUUM from cleaning up behind it.
DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = env.int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", default=60_000)


def _database(config, *, statement_timeout_ms):
    config["ATOMIC_REQUESTS"] = False
    config["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
    if DATABASE_POOLER == "pgbouncer":
        # In transaction mode a server connection passes to another client after each transaction:
        # Django holds no connection, opens no server-side cursor (it would not outlive the
        # transaction), and sends no startup options (PgBouncer refuses them): jit and the timeouts
        # come from ALTER ROLE on the server.
        config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
        return config
    config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    if config["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL's JIT compiles the portfolio queries (large CASE expressions) for seconds before
        # running them for milliseconds: bench/arrears.py measured one LKMM at 6.8 s with JIT, 0.17 s
        # without. `ALTER ROLE ... SET jit = off` is the primary switch (it also holds behind a
        # pooler); this is the fallback. Startup options take precedence over the role's settings.
        options = {
            "jit": "off",
            "statement_timeout": statement_timeout_ms,
            "idle_in_transaction_session_timeout": DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        }
        config.setdefault("OPTIONS", {}).setdefault(
            "options", " ".join(f"-c {k}={v}" for k, v in options.items())
        )
    return config


DATABASES = {
    "default": _database(
        env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        statement_timeout_ms=DB_STATEMENT_TIMEOUT_MS,
    )
}
# A streaming replica for the report pages marked @reads_replica (lkmm/db_routers.py).
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = _database(
        env.db("DATABASE_REPLICA_URL"), statement_timeout_ms=DB_REPLICA_STATEMENT_TIMEOUT_MS
    )
    DATABASE_ROUTERS = ["lkmm.db_routers.ReplicaRouter"]
# After a POST, the client reads the primary for this long, so it sees its own write.
REPLICA_AFTER_WRITE_SECONDS = env.int("REPLICA_AFTER_WRITE_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username-and-IP pair before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reports:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "id"
# Each language is named in itself, so a reader finds their own language in the switcher.
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True
# dd/mm/yyyy and "1.250.000" in both languages: see institutions/formats/.
FORMAT_MODULE_PATH = ["institutions.formats"]

# Member photos are personal data: they are stored here and served only through a view that checks
# the viewer's LKMM (members.views.member_photo), never as public media.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Login and sessions (README "Keamanan / Security") --------------------------------------------

SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The absolute limit: a session ends this long after its login, however busy.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
# Idle limits by role (institutions.security.SessionTimeoutMiddleware): the Dinas reviewer reads every
# LKMM and the admin can change everything, so their unattended sessions end sooner.
SESSION_IDLE_SECONDS_STAFF = env.int("SESSION_IDLE_SECONDS_STAFF", default=2 * 60 * 60)
SESSION_IDLE_SECONDS_PRIVILEGED = env.int("SESSION_IDLE_SECONDS_PRIVILEGED", default=30 * 60)
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS only in production: plain HTTP is redirected, and browsers are told to use HTTPS for a year.
# DEBUG keeps http://127.0.0.1:8000 working for development.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)

# django-axes: 5 wrong passwords for one username from one IP address lock that pair for 15 minutes.
# Keyed on the pair, so a stranger elsewhere cannot lock a manager out, and the cool-off ends every
# lockout by itself; the admin lists and lifts lockouts under "Axes" in Django admin.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
# Failures during a lockout do not push its end further: the cool-off is a fixed 15 minutes.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "institutions.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "institutions.security.client_ip"

# django-otp: the issuer shown in the authenticator app beside the username.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="LKMM")
# Nobody reads another person's authenticator secret, admins included: django-otp's admin pages that
# show a device's secret or QR code answer 403.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# django-csp: nothing inline, nothing from elsewhere. Charts and layouts are styled by classes in
# static/css/app.css; the print buttons are wired by static/js/app.js.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Audit trail ------------------------------------------------------------------------------------
# Event rows are append-only in the database: a trigger refuses their UPDATE and DELETE.
PGHISTORY_APPEND_ONLY = True
# The request context (user, IP, path) is attached to writes of every method, including GET (a 404
# logged, a session touched) so nothing written during a request is anonymous.
PGHISTORY_MIDDLEWARE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
