"""Login, logout, failed login and lockout events, from Django's (and django-axes') auth signals.

These are the only hooks that see every login attempt, whichever view or backend handled it.
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit import services

USERNAME_MAX = 150


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs):
    services.security_event(request=request, action=services.LOGIN, user=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        services.security_event(request=request, action=services.LOGOUT, user=user)


def _account(username):
    if not username:
        return None
    return get_user_model().objects.filter(username=username).select_related("staff__lkmm").first()


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the username is kept.
    username = str(credentials.get("username", ""))[:USERNAME_MAX]
    account = _account(username)
    services.security_event(
        request=request,
        action=services.LOGIN_FAILED,
        user=None,
        obj=account,
        lkmm=services._lkmm_of(account),
        data={"username": username},
    )


# django-axes is added by another change; record its lockouts when it is an installed app.
if apps.is_installed("axes"):  # pragma: no cover - depends on the settings
    from axes.signals import user_locked_out

    @receiver(user_locked_out, dispatch_uid="audit_locked_out")
    def _locked_out(sender, request, username=None, ip_address=None, **kwargs):
        username = str(username or "")[:USERNAME_MAX]
        account = _account(username)
        services.security_event(
            request=request,
            action=services.LOCKED_OUT,
            obj=account,
            lkmm=services._lkmm_of(account),
            data={"username": username},
        )
