from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Jejak audit")

    def ready(self):
        from audit import signals  # noqa: F401  (login, logout, failed login and lockout receivers)
