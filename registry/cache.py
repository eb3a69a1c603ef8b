"""The Redis cache, made optional at run time: Redis going away never breaks a page.

`ResilientRedisCache` is Django's Redis cache whose every operation, when Redis does not answer
(refused, timed out, any Redis error), degrades to no cache: a read is a miss, a write is dropped.
After a failure Redis is left alone for `RETRY_SECONDS` (each request then pays nothing for it),
then tried again. Connecting and reading time out after a fraction of a second (`OPTIONS`).

What must keep counting while Redis is away (throttles, login lock-outs, alert limits:
`registry.counters`) counts in the `fallback` cache instead: the database cache, shared by every
app server like Redis (else, with no such cache configured, one of this process alone). `/healthz`
says which (`registry.health`).
"""
import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
DEFAULT_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        params = {**params, "OPTIONS": {**DEFAULT_OPTIONS, **params.get("OPTIONS", {})}}
        super().__init__(server, params)
        self._down_until = 0.0

    @property
    def available(self) -> bool:
        """False for `RETRY_SECONDS` after Redis failed to answer."""
        return time.monotonic() >= self._down_until

    def mark_down(self, error):
        if self.available:
            logger.warning("Redis cache unavailable (%s): no cache, counters in the fallback cache for %.0f s",
                           error, RETRY_SECONDS)
        self._down_until = time.monotonic() + RETRY_SECONDS

    def _guard(self, fallback, operation, *args, **kwargs):
        if not self.available:
            return fallback
        try:
            return operation(*args, **kwargs)
        except RedisError as error:
            self.mark_down(error)
            return fallback

    def ping(self) -> bool:
        """Whether Redis answers now (asked even while marked down: `/healthz`)."""
        try:
            ok = bool(self._cache.get_client(write=True).ping())
        except RedisError as error:
            self.mark_down(error)
            return False
        self._down_until = 0.0
        return ok

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(False, super().add, key, value, timeout,
                           version)

    def get(self, key, default=None, version=None):
        return self._guard(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._guard(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(False, super().touch, key, timeout,
                           version)

    def delete(self, key, version=None):
        return self._guard(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._guard({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._guard(False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        if not self.available:
            raise ValueError("Redis is unavailable: no counter to increment")
        try:
            return super().incr(key, delta, version)
        except RedisError as error:
            self.mark_down(error)
            raise ValueError("Redis is unavailable: no counter to increment") from error

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(list(data), super().set_many, data, timeout,
                           version)

    def delete_many(self, keys, version=None):
        self._guard(None, super().delete_many, keys, version)

    def clear(self):
        return self._guard(False, super().clear)
