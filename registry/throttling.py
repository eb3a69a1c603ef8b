"""Throttles whose rates are read at request time, so settings (and tests) can change them.

DRF's own throttles read `DEFAULT_THROTTLE_RATES` once, at import; these read it on each
request. Anonymous clients are counted per client address (`NUM_PROXIES` says how many
proxies' `X-Forwarded-For` entries to trust: with 0, the default, a forged header changes
nothing), partners per token owner. Counters live in the default cache, shared by every worker
(Redis, or the database cache), and are incremented atomically (`registry.counters`).

The same throttles guard the site's heavy pages (`throttle_view`): the HTML search and the
timeline (rate `pages`) and every export (rate `exports`), per client like the API.
"""
import functools
import hashlib

from django.http import HttpResponse
from django.template.loader import render_to_string
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, BaseThrottle, SimpleRateThrottle, UserRateThrottle

from registry import counters


def client_address(request) -> str:
    """The client's address as the throttles see it: REMOTE_ADDR, or the `X-Forwarded-For`
    entry set by the last of `NUM_PROXIES` trusted proxies (for django-axes, alerts and public
    reports too); "unknown" when the server gives none."""
    return BaseThrottle().get_ident(request) or "unknown"


def hashed(text: str) -> str:
    """A short hash of `text` (an address, a mailbox), so counters' keys never hold it."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def over_limit(key: str, *, limit: int, window: int) -> bool:
    """Count one more request under `key` (atomically, `registry.counters`): True when more than
    `limit` came within `window` seconds."""
    return counters.hit(key, window) > limit


class _LiveRateMixin:
    """The rate read at request time, counted by atomic counters of the shared cache
    (`registry.counters.hit`): DRF's own throttles read a list of timestamps, append and write it
    back, so concurrent requests each read the same list, and all pass.

    A sliding window, approximated with one counter per fixed window: a request passes when the
    previous window's count, weighted by the part of it still within the sliding window, plus
    the current window's (this request included) is within the rate. The current count is one
    atomic increment (a refused request takes its one back: only requests let through count), so
    of any number of concurrent requests exactly what the rate leaves passes."""

    # Whether a request let through is taken back from the count when it is answered with nothing
    # (`refund`): an export being built answers a 503, and the client is asked to come back.
    refundable = False

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        current = counters.hit(key, 2 * self.duration)  # read as the previous window's in the next
        self.previous = counters.peek(f"{self.key}:{window - 1}")
        elapsed = (self.now - window * self.duration) / self.duration
        if self.previous * (1 - elapsed) + current <= self.num_requests:
            if self.refundable:
                refunds = getattr(request, "registry_refundable_counts", None)
                if refunds is None:
                    refunds = []
                    request.registry_refundable_counts = refunds
                refunds.append((key, 2 * self.duration))
            return True
        self.current = counters.hit(key, 2 * self.duration, delta=-1)
        return False

    def wait(self):
        """Seconds until the next request would pass."""
        limit, now = self.num_requests, self.timer()
        if self.current + 1 <= limit:  # within this window, once the previous one weighs less
            share = 1 - (limit - self.current - 1) / self.previous if self.previous else 0
            seconds = self.window_ends - self.duration + share * self.duration - now
        else:  # in the next window, once this one weighs less
            share = 1 - (limit - 1) / self.current if self.current else 0
            seconds = self.window_ends + max(0.0, share) * self.duration - now
        return max(1, int(seconds) + 1)


class AnonymousRateThrottle(_LiveRateMixin, AnonRateThrottle):
    """Anonymous clients, per address: rate `anon`."""

    scope = "anon"


class PartnerRateThrottle(_LiveRateMixin, UserRateThrottle):
    """Clients authenticated with a token, per user: rate `partner` (higher)."""

    scope = "partner"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class ClientRateThrottle(_LiveRateMixin, SimpleRateThrottle):
    """Every client, signed in or not: per user when signed in, else per address."""

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PageRateThrottle(ClientRateThrottle):
    """The HTML search and the timeline: rate `pages`."""

    scope = "pages"


class ExportRateThrottle(ClientRateThrottle):
    """Exports (search CSV and iCal, the API's full exports): rate `exports`. A request answered
    503 while its export is built is taken back (`refund`): following Retry-After costs nothing."""

    scope = "exports"
    refundable = True


def refund(request):
    """Take back the counts of the refundable throttles (exports) this request went through: it
    was answered with nothing (a 503 while its export is built)."""
    for key, window in getattr(request, "registry_refundable_counts", None) or []:
        counters.hit(key, window, delta=-1)
    request.registry_refundable_counts = []


def too_many_requests(wait) -> HttpResponse:
    """The site's 429 page, with Retry-After in seconds."""
    seconds = max(1, int(wait or 1))
    response = HttpResponse(render_to_string("429.html", {"seconds": seconds}), status=429)
    response["Retry-After"] = str(seconds)
    return response


def throttle_view(throttle_class):
    """Decorate a Django view function with a throttle of this module (a class-based view's
    `dispatch` with `method_decorator`): over the rate, the 429 page."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            throttle = throttle_class()
            if not throttle.allow_request(request, None):
                return too_many_requests(throttle.wait())
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
