"""Read replica routing: reads go to the replica, writes (and the admin) to the primary.

Enabled when DATABASE_REPLICA_URL is set. The admin, the API's writes and every request that
has written something read from the primary, so nobody reads their own edit stale: the
`PinPrimaryMiddleware` pins a request to the primary when it is not a safe method or
comes from the admin.
"""
import threading

_state = threading.local()


def use_primary():
    return getattr(_state, "primary", False)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if model is not None and model._meta.app_label == "django_cache":
            return "default"  # the shared cache's counters: never a replica's stale copy
        return "default" if use_primary() else "replica"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # both aliases hold the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class PinPrimaryMiddleware:
    """Pin unsafe requests and the admin to the primary database."""

    SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        admin = "/admin/" in request.path
        _state.primary = admin or request.method not in self.SAFE_METHODS
        try:
            return self.get_response(request)
        finally:
            _state.primary = False
