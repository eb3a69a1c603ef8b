"""Counters in the shared cache, incremented atomically: the throttles', the login lock-outs' and the
alert limits'.

`hit(key, window)` adds one to a counter that lives `window` seconds from its first hit and returns
its new value, with no read-then-write race: N concurrent hits always read 1, 2, … N, so a limit
lets exactly `limit` requests through, however many workers and app servers ask at once.

- Redis: `SET key 0 EX window NX` then `INCR key`, in one MULTI/EXEC transaction (Redis runs it
  atomically; the counter is a plain integer, as Django's Redis cache stores integers).
- The database cache (no `REDIS_URL`): the counter's row is locked (`SELECT … FOR UPDATE`) in a
  transaction while it is read and written (on SQLite, which has no row locks, a process-wide
  lock serialises the hits of one process; PostgreSQL is the production database).
- Any other cache (the tests' per-process memory cache): `add` then `incr`, which it does under
  its own lock.

While Redis does not answer (`registry.cache.ResilientRedisCache`), counters live in the `fallback`
cache (the database cache, shared by every app server), or, without one or when it fails too, in
a memory cache of this process: a client is then counted per process, never let through uncounted
and never answered an error.
"""
import datetime
import threading

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from registry.cache import ResilientRedisCache

_SQLITE_LOCK = threading.Lock()


def hit(key: str, window: int, *, delta: int = 1, cache=None) -> int:
    """`delta` more (one by default; -1 takes one back) under `key`, a counter living `window`
    seconds from its first hit: its new value."""
    cache = cache if cache is not None else counter_cache()
    window = max(1, int(window))
    if isinstance(cache, RedisCache):
        try:
            return _redis_hit(cache, key, window, delta)
        except RedisError as error:
            if not isinstance(cache, ResilientRedisCache):
                raise
            cache.mark_down(error)
            return hit(key, window, delta=delta, cache=counter_cache())
    if isinstance(cache, DatabaseCache):
        try:
            return _database_hit(cache, key, window, delta)
        except DatabaseError:
            if cache is not _fallback():
                raise
            return hit(key, window, delta=delta, cache=_LOCAL)
    if cache.add(key, delta, window):
        return delta
    try:
        return cache.incr(key, delta)
    except ValueError:  # expired between add() and incr()
        cache.add(key, delta, window)
        return delta


def peek(key: str) -> int:
    """The value of the counter `key` (0 when there is none), without counting."""
    cache = counter_cache()
    try:
        return int(cache.get(key) or 0)
    except DatabaseError:
        return 0


def counter_cache():
    """The cache counters live in: the default (shared) cache, the backend itself (not Django's
    proxy to it, which would hide its kind); while Redis is away, the fallback."""
    cache = caches["default"]
    if isinstance(cache, ResilientRedisCache) and not cache.available:
        return _fallback() or _LOCAL
    return cache


def counters_location() -> str:
    """Where counters are kept now: `redis`, `database` or `local` (for `/healthz`)."""
    cache = counter_cache()
    if isinstance(cache, RedisCache):
        return "redis"
    if isinstance(cache, DatabaseCache):
        return "database"
    return "local"


def _fallback():
    return caches[FALLBACK] if FALLBACK in settings.CACHES else None


FALLBACK = "fallback"
# Counters of this process alone: the last resort, while no shared cache answers.
_LOCAL = LocMemCache("registry-counters-local", {})


def _redis_hit(cache, key, window, delta) -> int:
    made = cache.make_and_validate_key(key)
    client = cache._cache.get_client(made, write=True)
    with client.pipeline(transaction=True) as pipe:
        pipe.set(made, 0, ex=window, nx=True)
        pipe.incrby(made, delta)
        _created, value = pipe.execute()
    return int(value)


def _database_hit(cache, key, window, delta) -> int:
    using = router.db_for_write(cache.cache_model_class)
    connection = connections[using]
    if connection.vendor == "sqlite":
        with _SQLITE_LOCK:
            return _database_hit_locked(cache, key, window, delta, using, connection)
    return _database_hit_locked(cache, key, window, delta, using, connection)


def _database_hit_locked(cache, key, window, delta, using, connection) -> int:
    made = cache.make_and_validate_key(key)
    table = connection.ops.quote_name(cache._table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with transaction.atomic(using=using):
        cache.add(key, 0, window)  # the row exists (a concurrent add waits for ours, then finds it)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT expires FROM {table} WHERE cache_key = %s{lock}", [made])
            row = cursor.fetchone()
        value = cache.get(key)  # an expired row reads as None: a new window
        remaining = window
        if value is not None and row is not None:
            expires = row[0]
            if isinstance(expires, str):  # SQLite
                expires = datetime.datetime.fromisoformat(expires)
            if timezone.is_naive(expires):
                expires = expires.replace(tzinfo=datetime.UTC)
            remaining = max(1, (expires - timezone.now()).total_seconds())
        value = (value or 0) + delta
        cache.set(key, value, remaining)  # the window still runs from the first hit
    return value
