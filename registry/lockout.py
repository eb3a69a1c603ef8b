"""Admin login lock-outs with django-axes: the registry's settings, read at request time.

Failures are counted per account *and* address (`AXES_LOCKOUT_PARAMETERS`): after
`LOGIN_FAILURE_LIMIT` failures for one account from one address within `LOGIN_FAILURE_WINDOW`
seconds, that combination gets a 429 until the window has passed. Counts live in the shared
cache (Redis, or the database cache), so every worker and app server sees the same.
"""
import datetime

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _


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
