from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import Resolver404, resolve
from django.utils import translation


class LanguageMiddleware:
    """Bahasa Indonesia unless the user chose another language with the switcher (the language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a manager whose phone is
    set to English would get English pages without asking; here Indonesian is the default.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class DinasReadOnlyMiddleware:
    """A Dinas reviewer reads every LKMM of their Dinas and writes only coaching records and the Dinas's
    own settings (DOMAIN.md "Authority"): any other write they send (POST, PUT, PATCH, DELETE) is refused
    here with 403, whatever the view does. The views check their roles too; this is the one list of what
    a reviewer may write, so a new view cannot let them change an LKMM's books by mistake.

    Allowed: the pages named in WRITABLE_URL_NAMES (their own login, second factor, password, language,
    the Dinas settings) and every page of the namespaces in WRITABLE_NAMESPACES (coaching records).
    """

    WRITABLE_URL_NAMES = {
        "login",
        "logout",
        "otp_verify",
        "account_security",
        "recovery_codes_renew",
        "second_factor_remove",
        "password_change",
        "set_language",
        "dinas:settings",
    }
    WRITABLE_NAMESPACES = {"coaching"}
    SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in self.SAFE_METHODS and self._is_dinas(request.user):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and not self._writable(match):
                raise PermissionDenied
        return self.get_response(request)

    @staticmethod
    def _is_dinas(user):
        if user is None or not user.is_authenticated:
            return False
        staff = getattr(user, "staff", None)
        return staff is not None and staff.is_dinas

    def _writable(self, match):
        return match.view_name in self.WRITABLE_URL_NAMES or bool(
            set(match.namespaces) & self.WRITABLE_NAMESPACES
        )
