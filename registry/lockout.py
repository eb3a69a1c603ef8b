"""Admin login lock-outs with django-axes: the registry's settings, read at request time.

Failures are counted per account *and* address (`AXES_LOCKOUT_PARAMETERS`): after
`LOGIN_FAILURE_LIMIT` failures for one account from one address within `LOGIN_FAILURE_WINDOW`
seconds, that combination gets a 429 until the window has passed. Counts live in the shared
cache (Redis, or the database cache), so every worker and app server sees the same.

Each attempt is counted, atomically (`registry.counters.hit`), *before* its password is checked
(`AtomicCacheHandler`): of any number of concurrent guesses, exactly `LOGIN_FAILURE_LIMIT`
passwords are checked; the others are refused. A successful login clears the count.

Failures are also counted per account, from every address (`AXES_LOCKOUT_PARAMETERS`' second
entry), with a higher limit (`LOGIN_ACCOUNT_FAILURE_LIMIT`): guesses spread over many addresses
lock the account out too. Its curator still gets in from a browser where they signed in before
(a signed "known device" cookie, set at each successful sign-in: `KnownDeviceMiddleware`), which
the per-account count does not apply to; the per-address one does.
"""
import datetime
import hashlib

from axes.backends import AxesStandaloneBackend
from axes.handlers.cache import AxesCacheHandler
from axes.helpers import (
    get_cache_timeout,
    get_client_parameters,
    get_client_username,
    get_failure_limit,
    make_cache_key_list,
)
from axes.signals import user_locked_out
from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _

from registry import counters


def cool_off(request=None) -> datetime.timedelta:
    """How long a locked-out account and address wait (`AXES_COOLOFF_TIME`)."""
    return datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def failure_limit(request=None, credentials=None) -> int:
    """How many failures lock an account and address out (`AXES_FAILURE_LIMIT`)."""
    return settings.LOGIN_FAILURE_LIMIT


def locked_out(request, original_response=None, credentials=None) -> HttpResponse:
    """The answer to a locked-out login: 429, with Retry-After (`AXES_LOCKOUT_CALLABLE`)."""
    window = settings.LOGIN_FAILURE_WINDOW
    response = HttpResponse(
        _("Too many failed logins from your address. Try again in %(minutes)d minutes.")
        % {"minutes": max(1, window // 60)},
        status=429, content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(window)
    return response


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check before the password backends, for logins that come with a request.

    A sign-in without a request (a shell, a test client's `login()`) has no address to count
    failures for: axes would refuse it outright; here it goes on to the password check.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class AtomicCacheHandler(AxesCacheHandler):
    """django-axes' cache handler, each attempt counted atomically as it comes in (`AXES_HANDLER`).

    axes checks the count, lets the password be checked, then adds one on failure: concurrent
    guesses all read the same count below the limit, and all get their password checked. Here
    `is_locked` adds the attempt first (`counters.hit`: Redis `INCR`, or a locked row) and refuses
    it when that makes more than the limit; a failure adds nothing more (it was counted), and
    locks out when it is the limit-th. The cache is read on each call (the settings' current one).
    """

    def __init__(self):  # no cache kept: `cache` below
        pass

    @property
    def cache(self):
        return counters.counter_cache()

    def limited_keys(self, request, credentials) -> list[tuple[str, int]]:
        """(cache key, limit) of each count this attempt goes into: the account from this address
        (`LOGIN_FAILURE_LIMIT`), and the account from anywhere (`LOGIN_ACCOUNT_FAILURE_LIMIT`),
        unless it comes from a browser the account signed in from before."""
        username = get_client_username(request, credentials)
        parameters = get_client_parameters(
            username, request.axes_ip_address, request.axes_user_agent, request, credentials,
        )
        known = is_known_device(request, username)
        keys = []
        for parameter, key in zip(parameters, make_cache_key_list(parameters), strict=True):
            if "ip_address" in parameter:
                keys.append((key, get_failure_limit(request, credentials)))
            elif not known:
                keys.append((key, settings.LOGIN_ACCOUNT_FAILURE_LIMIT))
        return keys

    def is_locked(self, request, credentials=None) -> bool:
        if not getattr(request, "axes_attempt_counted", False):
            timeout = get_cache_timeout(request)
            request.registry_login_keys = self.limited_keys(request, credentials)
            request.registry_login_counts = [
                (counters.hit(key, timeout), limit) for key, limit in request.registry_login_keys
            ]
            request.axes_attempt_counted = True
            request.axes_failures_since_start = max((count for count, _limit in request.registry_login_counts),
                                                    default=0)
        return any(count > limit for count, limit in request.registry_login_counts)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is None or not getattr(request, "axes_attempt_counted", False):
            return super().user_login_failed(sender, credentials, request, **kwargs)
        username = get_client_username(request, credentials)
        if request.axes_locked_out or any(count >= limit for count, limit in request.registry_login_counts):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)

    def user_logged_in(self, sender, request, user, **kwargs):
        """A success clears the count of the account from this address, not the account's count
        from everywhere: a guesser's budget does not start again each time the curator signs in."""
        if request is None:
            return
        username = user.get_username()
        parameters = get_client_parameters(
            username, request.axes_ip_address, request.axes_user_agent, request, {"username": username},
        )
        counted = {key for key, _limit in getattr(request, "registry_login_keys", [])}
        for parameter, key in zip(parameters, make_cache_key_list(parameters), strict=True):
            if "ip_address" in parameter:
                self.cache.delete(key)
            elif key in counted:  # this attempt was counted when it came in: it was no failure
                counters.hit(key, get_cache_timeout(request), delta=-1)
        request.registry_signed_in = username


KNOWN_DEVICE_COOKIE = "registry_known_device"
KNOWN_DEVICE_SALT = "registry.lockout.known-device"
KNOWN_DEVICE_SECONDS = 365 * 24 * 3600


def _account_digest(username) -> str:
    return hashlib.sha256(str(username or "").lower().encode()).hexdigest()[:32]


def is_known_device(request, username) -> bool:
    """Whether this browser carries the signed cookie of a sign-in to this account."""
    if not username:
        return False
    value = request.get_signed_cookie(KNOWN_DEVICE_COOKIE, default=None, salt=KNOWN_DEVICE_SALT,
                                      max_age=KNOWN_DEVICE_SECONDS)
    return bool(value) and _account_digest(username) in value.split(",")


class KnownDeviceMiddleware:
    """After a successful sign-in, marks the browser as one this account signs in from (a signed
    cookie holding a digest of each account name, never the name): the per-account lock-out spares
    it (`AtomicCacheHandler.limited_keys`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        username = getattr(request, "registry_signed_in", None)
        if username:
            known = request.get_signed_cookie(KNOWN_DEVICE_COOKIE, default="", salt=KNOWN_DEVICE_SALT,
                                              max_age=KNOWN_DEVICE_SECONDS) or ""
            digests = [digest for digest in known.split(",") if digest]
            digest = _account_digest(username)
            digests = ([d for d in digests if d != digest] + [digest])[-5:]
            response.set_signed_cookie(
                KNOWN_DEVICE_COOKIE, ",".join(digests), salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_SECONDS,
                httponly=True, secure=settings.SESSION_COOKIE_SECURE, samesite="Lax",
            )
        return response
