"""Rate limits of alert requests, counted in the cache like the admin login throttle's.

The cache is Redis in production, so every app server sees the same counts. Keys hold a hash
of the email address, never the address itself.
"""
import hashlib

from rest_framework.throttling import BaseThrottle

from registry import counters


def client_address(request) -> str:
    """The client's address, read as the API's throttles read it (`API_NUM_PROXIES`)."""
    return BaseThrottle().get_ident(request) or "unknown"


def mailbox(email: str) -> str:
    """The mailbox an address reaches, for counting: lower case, without its `+tag`
    (`ana+1@example.org` and `Ana+2@Example.org` are one mailbox)."""
    local, _at, domain = email.strip().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}".lower()


def hashed(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def over_limit(key: str, *, limit: int, window: int) -> bool:
    """Count one more request under `key` (atomically, `registry.counters`): True when more than
    `limit` came within `window` seconds."""
    return counters.hit(key, window) > limit
