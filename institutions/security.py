"""Login and session protections: lockout page, second factor, idle and absolute timeouts, no-store,
a form kept over a login, and sessions ended when a user's access changes. README "Keamanan / Security"
lists each with the test that proves it."""

import time
from importlib import import_module
from urllib.parse import urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.http import QueryDict
from django.shortcuts import redirect, render, resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import user_has_device

from institutions.models import LoginSession, Role

LOGIN_AT = "lkmm_login_at"
LAST_SEEN = "lkmm_last_seen"
OTP_REQUIRED = "lkmm_otp_required"
SAVED_POST = "lkmm_saved_post"
SESSION_ENDED = "lkmm_session_ended"
# Writing the session on every request would cost a database write per page; a minute is precise enough.
LAST_SEEN_RESOLUTION_SECONDS = 60


def is_privileged(user):
    """Dinas reviewers read every LKMM and admins change everything: they need a second factor and get
    the shorter idle limit."""
    if user.is_staff or user.is_superuser:
        return True
    staff = getattr(user, "staff", None)
    return staff is not None and staff.role == Role.DINAS


def needs_second_factor(user):
    return is_privileged(user) or user_has_device(user, confirmed=True)


def client_ip(request):
    """The client's address for django-axes. Behind the reverse proxy (BEHIND_PROXY) every request comes
    from the proxy, which appends the real client to X-Forwarded-For: its last entry is the one to trust."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login: the login page again with a clear message (429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "locked_out": _(
            "Terlalu banyak percobaan masuk yang gagal untuk nama pengguna ini dari perangkat ini. "
            "Coba lagi setelah %(minutes)d menit, atau minta admin membuka kuncinya."
        )
        % {"minutes": minutes},
    }
    return render(request, "registration/login.html", context, status=429)


def on_login(request, user):
    """Start the session's clocks, note whether it still needs the second factor, and remember the
    session under its user so that it can be ended (end_sessions)."""
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[LAST_SEEN] = now
    request.session[OTP_REQUIRED] = needs_second_factor(user)
    if request.session.session_key is None:
        request.session.save()
    LoginSession.objects.get_or_create(user=user, session_key=request.session.session_key)


def on_logout(request, user):
    if user is not None and request.session.session_key:
        LoginSession.objects.filter(user=user, session_key=request.session.session_key).delete()


def end_sessions(user):
    """Log `user` out everywhere: delete every session it logged in with from the session store."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(LoginSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    LoginSession.objects.filter(user=user).delete()


class NoStoreMiddleware:
    """Pages and exports of a logged-in user hold personal data: no browser or proxy keeps a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class SessionTimeoutMiddleware:
    """Ends a session idle past its role's limit, or older than SESSION_COOKIE_AGE since its login.

    The request then goes on as anonymous: a login-required page sends it to the login page, which
    says why (and KeepPostOverLoginMiddleware keeps what it posted)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            session = request.session
            now = int(time.time())
            login_at = session.setdefault(LOGIN_AT, now)
            last_seen = session.get(LAST_SEEN, now)
            idle = (
                settings.SESSION_IDLE_SECONDS_PRIVILEGED
                if is_privileged(user)
                else settings.SESSION_IDLE_SECONDS_STAFF
            )
            if now - last_seen > idle or now - login_at > settings.SESSION_COOKIE_AGE:
                request.ended_user_id = user.pk
                logout(request)
                request.session[SESSION_ENDED] = True
            elif now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS or LAST_SEEN not in session:
                session[LAST_SEEN] = now
        return self.get_response(request)


# What a logged-in user who still owes the second factor may open.
OTP_OPEN_URL_NAMES = {"otp_verify", "account_security", "logout", "set_language"}


class OTPRequiredMiddleware:
    """Dinas reviewers, admins and whoever set up an authenticator app must give its code before any
    page (Django admin included); until then only the verify and set-up pages and logout answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        required = request.session.get(OTP_REQUIRED)
        if required is None:  # a session from before this check: decide now
            required = request.session[OTP_REQUIRED] = needs_second_factor(user)
        if required and not user.is_verified():
            try:
                name = resolve(request.path_info).url_name
            except Resolver404:
                name = None
            if name not in OTP_OPEN_URL_NAMES:
                target = "otp_verify" if user_has_device(user, confirmed=True) else "account_security"
                return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class KeepPostOverLoginMiddleware:
    """A form posted after the session ended is kept (not its files), so that after logging in the page
    shows it again filled in; the user checks it and saves again. Nothing is submitted for them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        anonymous = not request.user.is_authenticated
        response = self.get_response(request)
        if (
            anonymous
            and request.method == "POST"
            and response.status_code == 302
            and urlparse(response["Location"]).path == resolve_url(settings.LOGIN_URL)
        ):
            data = {key: values for key, values in request.POST.lists() if key != "csrfmiddlewaretoken"}
            request.session[SAVED_POST] = {
                "path": request.path,
                "data": data,
                "user": getattr(request, "ended_user_id", None),
            }
        return response


def form_data(request):
    """The data to bind a page's form to: request.POST on a POST; on a GET, what this browser posted
    to this page when its session had ended (once), else None."""
    if request.method == "POST":
        return request.POST
    saved = request.session.get(SAVED_POST)
    if not saved or saved["path"] != request.path or saved["user"] not in (None, request.user.pk):
        return None
    del request.session[SAVED_POST]
    data = QueryDict(mutable=True)
    for key, values in saved["data"].items():
        data.setlist(key, values)
    messages.info(
        request,
        _(
            "Isian yang Anda kirim saat sesi berakhir ditampilkan lagi. Periksa, lalu tekan simpan; "
            "berkas foto perlu dipilih ulang."
        ),
    )
    return data
