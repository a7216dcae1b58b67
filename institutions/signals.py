"""Security plumbing, not business logic: a login starts its session's clocks, and a change to who a
user is (deactivated, admin rights, role or LKMM) ends every session the user has."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from institutions import security
from institutions.models import Staff

User = get_user_model()


@receiver(user_logged_in, dispatch_uid="lkmm_security_logged_in")
def _logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        security.on_login(request, user)


@receiver(user_logged_out, dispatch_uid="lkmm_security_logged_out")
def _logged_out(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        security.on_logout(request, user)


def _before(instance, fields):
    if instance.pk is None:
        return None
    return type(instance).objects.filter(pk=instance.pk).values(*fields).first()


_USER_FIELDS = ("is_active", "is_staff", "is_superuser")
_STAFF_FIELDS = ("role", "lkmm_id", "user_id")


@receiver(pre_save, sender=User, dispatch_uid="lkmm_security_user_before")
def _user_before(sender, instance, raw=False, **kwargs):
    instance._security_before = None if raw else _before(instance, _USER_FIELDS)


@receiver(post_save, sender=User, dispatch_uid="lkmm_security_user_after")
def _user_after(sender, instance, created, raw=False, **kwargs):
    before = getattr(instance, "_security_before", None)
    if before and any(before[field] != getattr(instance, field) for field in _USER_FIELDS):
        security.end_sessions(instance)


@receiver(pre_save, sender=Staff, dispatch_uid="lkmm_security_staff_before")
def _staff_before(sender, instance, raw=False, **kwargs):
    instance._security_before = None if raw else _before(instance, _STAFF_FIELDS)


@receiver(post_save, sender=Staff, dispatch_uid="lkmm_security_staff_after")
def _staff_after(sender, instance, created, raw=False, **kwargs):
    before = getattr(instance, "_security_before", None)
    if created and not raw:
        # A login that gets a role while logged in starts again with that role's checks.
        security.end_sessions(instance.user)
    elif before and any(before[field] != getattr(instance, field) for field in _STAFF_FIELDS):
        security.end_sessions(instance.user)
        if before["user_id"] != instance.user_id:
            security.end_sessions(User(pk=before["user_id"]))


@receiver(post_delete, sender=Staff, dispatch_uid="lkmm_security_staff_deleted")
def _staff_deleted(sender, instance, **kwargs):
    security.end_sessions(User(pk=instance.user_id))
