"""Admin login lock-outs with django-axes: the registry's settings, read at request time.

Failures are counted per account *and* address (`AXES_LOCKOUT_PARAMETERS`): after
`LOGIN_FAILURE_LIMIT` failures for one account from one address within `LOGIN_FAILURE_WINDOW`
seconds, that combination gets a 429 until the window has passed. Counts live in the shared
cache (Redis, or the database cache), so every worker and app server sees the same.

Each attempt is counted, atomically (`registry.counters.hit`), *before* its password is checked
(`AtomicCacheHandler`): of any number of concurrent guesses, exactly `LOGIN_FAILURE_LIMIT`
passwords are checked; the others are refused. A successful login clears the count.
"""
import datetime

from axes.backends import AxesStandaloneBackend
from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache_timeout, get_client_cache_keys, get_client_username, get_failure_limit
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

    def is_locked(self, request, credentials=None) -> bool:
        if getattr(request, "axes_attempt_counted", False):
            return request.axes_failures_since_start > get_failure_limit(request, credentials)
        timeout = get_cache_timeout(request)
        counts = [counters.hit(key, timeout) for key in get_client_cache_keys(request, credentials)]
        request.axes_attempt_counted = True
        request.axes_failures_since_start = max(counts, default=0)
        return request.axes_failures_since_start > get_failure_limit(request, credentials)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is None or not getattr(request, "axes_attempt_counted", False):
            return super().user_login_failed(sender, credentials, request, **kwargs)
        username = get_client_username(request, credentials)
        if request.axes_locked_out or request.axes_failures_since_start >= get_failure_limit(request, credentials):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)
