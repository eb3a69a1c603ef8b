from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SiteConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "calls.site"
    label = "site"
    verbose_name = _("Public site")
