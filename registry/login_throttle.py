"""Throttle admin logins against password guessing.

After `LOGIN_FAILURE_LIMIT` failed logins from one address within `LOGIN_FAILURE_WINDOW`
seconds, further login attempts from it get a 429 until the window has passed. Failures are
counted in the cache (Redis in production, so every app server sees the same counts).
"""
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import gettext as _


def _client_address(request):
    return request.META.get("REMOTE_ADDR", "unknown")


class AdminLoginThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = getattr(settings, "LOGIN_FAILURE_LIMIT", 5)
        self.window = getattr(settings, "LOGIN_FAILURE_WINDOW", 15 * 60)

    def __call__(self, request):
        if request.method != "POST" or not request.path.endswith("/admin/login/"):
            return self.get_response(request)
        key = f"admin-login-failures:{_client_address(request)}"
        if cache.get(key, 0) >= self.limit:
            response = HttpResponse(
                _("Too many failed logins from your address. Try again in %(minutes)d minutes.")
                % {"minutes": self.window // 60},
                status=429, content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(self.window)
            return response
        response = self.get_response(request)
        # The login form answers 200 when it refuses the credentials, 302 when it accepts them.
        if response.status_code == 200:
            if not cache.add(key, 1, self.window):
                cache.incr(key)
        elif response.status_code == 302:
            cache.delete(key)
        return response
