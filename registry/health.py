"""`/healthz` for load balancers: 200 while the app can query its database (it serves pages), 503
otherwise. It also says how the cache is: with Redis away the site still serves, without cache,
counting throttles in the fallback (`"status": "degraded"`, `"cache": "unreachable"`, and where
counters live now): for monitoring to alert on, not for the load balancer to take the server out."""
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from registry import counters
from registry.cache import ResilientRedisCache


def cache_state() -> str:
    cache = caches["default"]
    if isinstance(cache, ResilientRedisCache):
        return "ok" if cache.ping() else "unreachable"
    return "ok"  # the database's table: as the database


@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        connection.close()
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    cache = cache_state()
    return JsonResponse({
        "status": "ok" if cache == "ok" else "degraded", "database": "ok", "cache": cache,
        "counters": counters.counters_location(),
    })
