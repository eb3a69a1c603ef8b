"""Throttles whose rates are read at request time, so settings (and tests) can change them.

DRF's own throttles read `DEFAULT_THROTTLE_RATES` once, at import; these read it on each
request. Anonymous clients are counted per client address (`NUM_PROXIES` says how many
proxies' `X-Forwarded-For` entries to trust), partners per token owner.
"""
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _LiveRateMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


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
