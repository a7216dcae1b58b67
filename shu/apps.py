from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShuConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shu"
    verbose_name = _("SHU")
