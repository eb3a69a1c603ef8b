from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from calls.reading.search import strip_accents


def register_sqlite_functions(sender, connection, **kwargs):
    """SQLite has no unaccent(): give it one, so its search is accent-insensitive too."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "unaccent", 1, lambda text: strip_accents(text) if text else text, deterministic=True
        )


def create_cache_table(sender, using="default", **kwargs):
    """The shared cache's table (throttle counters, login lock-outs), when the cache is the
    database's: created by every `migrate`, so a fresh clone's `make run` has it (idempotent)."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class CallsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "calls"
    verbose_name = _("Funding calls")

    def ready(self):
        connection_created.connect(register_sqlite_functions, dispatch_uid="calls-sqlite-unaccent")
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="calls-create-cache-table")
