from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    name = "institutions"
    verbose_name = _("Lembaga dan pengguna")

    def ready(self):
        from institutions import signals  # noqa: F401  (connects the session-ending receivers)
