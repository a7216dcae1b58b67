"""Logging in: the login page, the second factor (TOTP with django-otp) and the "Keamanan akun" page."""

from base64 import b32encode

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device, verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from institutions.forms import Form, InputLimitsMixin
from institutions.security import OTP_REQUIRED, SAVED_POST, SESSION_ENDED, is_privileged

RECOVERY_CODES = 10


class LoginForm(InputLimitsMixin, AuthenticationForm):
    # Django's Indonesian message names the field twice ("nama pengguna nama pengguna").
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy(
            "Nama pengguna atau kata sandi salah. Perhatikan huruf besar dan kecil."
        ),
    }


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True
    authentication_form = LoginForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["session_ended"] = self.request.session.pop(SESSION_ENDED, False)
        context["form_kept"] = SAVED_POST in self.request.session
        return context


class CodeForm(Form):
    code = forms.CharField(
        label=gettext_lazy("Kode"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split()).lower()


def _next(request, default="reports:home"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(default)


def _verify_any(user, code):
    """The confirmed device that accepts `code`: the authenticator app's six digits, else a recovery
    code (used up by this). django-otp throttles each device after wrong codes."""
    if code.isdigit():
        devices = TOTPDevice.objects.devices_for_user(user, confirmed=True)
    else:
        devices = StaticDevice.objects.devices_for_user(user, confirmed=True)
    for device in devices:
        matched = verify_token(user, device.persistent_id, code)
        if matched is not None:
            return matched
    return None


def _wrong_code_message(user):
    # django-otp makes each wrong code double the wait before the next try: say so, or a right code
    # typed too soon looks wrong too.
    if any(not device.verify_is_allowed()[0] for device in TOTPDevice.objects.filter(user=user)):
        return _("Kode salah. Terlalu banyak percobaan: tunggu sebentar sebelum mencoba lagi.")
    return _("Kode salah atau sudah kedaluwarsa. Coba kode yang sekarang tampil.")


@login_required
def otp_verify(request):
    """The second step of a login: the code from the authenticator app, or a recovery code."""
    if request.user.is_verified():
        return redirect(_next(request))
    if not user_has_device(request.user, confirmed=True):
        return redirect(f"{reverse('account_security')}?{request.GET.urlencode()}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _verify_any(request.user, form.cleaned_data["code"])
        if device is None:
            form.add_error("code", _wrong_code_message(request.user))
        else:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    _("Kode pemulihan dipakai; tersisa %(n)d. Buat kode baru di halaman Keamanan akun.")
                    % {"n": left},
                )
            return redirect(_next(request))
    context = {"form": form, "next": _next(request), "hide_nav": True}
    return render(request, "registration/otp_verify.html", context)


def _qr_svg(uri):
    # segno draws the QR code as SVG paths with attributes only (no style), so the CSP allows it inline.
    # The markup is segno's own, from our otpauth:// URI (the user's secret and name are encoded in the
    # QR modules, never written into the markup), so there is nothing of the user's to escape.
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=2, svgclass="qr", lineclass=None)
    return mark_safe(svg)  # nosec B308 B703


def _grouped(secret):
    """The secret in groups of four, as authenticator apps accept it typed with or without spaces."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _new_recovery_codes(user):
    device, _created = StaticDevice.objects.get_or_create(user=user, name="recovery")
    device.confirmed = True
    device.save()
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@login_required
def account_security(request):
    """ "Keamanan akun": set up the authenticator app (secret as text, otpauth:// link and QR code), confirm
    it with a code, and see the recovery codes once. Required for the Dinas and admins, offered to all."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed is not None and not user.is_verified():
        # A password alone must never add or change a second factor.
        return redirect(f"{reverse('otp_verify')}?{request.GET.urlencode()}")
    context = {
        "device": confirmed,
        "required": is_privileged(user),
        "next": _next(request),
        # The menu's pages are out of reach until the second factor is set up.
        "hide_nav": bool(request.session.get(OTP_REQUIRED)) and not user.is_verified(),
    }
    if confirmed is None:
        pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if pending is None:
            pending = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if not pending.verify_token(form.cleaned_data["code"]):
                form.add_error("code", _wrong_code_message(user))
            else:
                with transaction.atomic():
                    pending.confirmed = True
                    pending.save()
                    codes = _new_recovery_codes(user)
                otp_login(request, pending)
                context = {"codes": codes, "next": _next(request), "hide_nav": True}
                return render(request, "registration/recovery_codes.html", context)
        uri = pending.config_url
        context.update(
            {
                "form": form,
                "secret": _grouped(b32encode(pending.bin_key).decode()),
                "uri": uri,
                "qr": _qr_svg(uri),
            }
        )
    else:
        context["codes_left"] = StaticToken.objects.filter(device__user=user).count()
    return render(request, "registration/account_security.html", context)


NEW_CODES = "lkmm_new_recovery_codes"


@login_required
def recovery_codes_renew(request):
    """POST makes new recovery codes and redirects here; the GET shows them once (a reload shows
    nothing and makes none)."""
    if not request.user.is_verified():
        return redirect("otp_verify")
    if request.method == "POST":
        request.session[NEW_CODES] = _new_recovery_codes(request.user)
        return redirect("recovery_codes_renew")
    codes = request.session.pop(NEW_CODES, None)
    if not codes:
        return redirect("account_security")
    return render(
        request, "registration/recovery_codes.html", {"codes": codes, "next": reverse("reports:home")}
    )


@require_POST
@login_required
def second_factor_remove(request):
    """Who chose the second factor may drop it again; the Dinas and admins may not."""
    user = request.user
    if is_privileged(user) or not user.is_verified():
        return redirect("account_security")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    request.session[OTP_REQUIRED] = False
    messages.success(request, _("Verifikasi dua langkah dimatikan untuk akun ini."))
    return redirect("account_security")
