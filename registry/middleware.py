"""Cross-cutting HTTP concerns: security headers, and a clear 503 while the database is away."""
import functools
import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

NO_FRAMING = "frame-ancestors 'none'"


def embeddable(view):
    """Let other sites frame the pages of `view` (a view function, or a class-based view's
    `dispatch` through `method_decorator`): the one exception to "no site frames ours". Its
    responses' policy lets `EMBED_FRAME_ANCESTORS` frame them (`SecurityHeadersMiddleware`), and
    they carry no X-Frame-Options (Django's `xframe_options_exempt`)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.embeddable = True
        response.xframe_options_exempt = True
        return response

    return wrapped


def framing_policy(policy: str, ancestors: str) -> str:
    """`policy` with its `frame-ancestors 'none'` replaced by `ancestors` (sources, `*` for any
    site; none given: still 'none')."""
    ancestors = " ".join(ancestors.split()) or "'none'"
    return policy.replace(NO_FRAMING, f"frame-ancestors {ancestors}")


class SecurityHeadersMiddleware:
    """A Content-Security-Policy with no inline scripts, and a restrictive Permissions-Policy.

    No other site may frame a page (`frame-ancestors 'none'`, and X-Frame-Options DENY from
    Django's clickjacking middleware) but the `embeddable` ones: partners' embedded lists."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            policy = self.policy
            if getattr(response, "embeddable", False):
                policy = framing_policy(policy, settings.EMBED_FRAME_ANCESTORS)
            response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class AdminQueryNulMiddleware:
    """A NUL character in the admin's query string (a changelist filter or search, the
    autocomplete's term) is a 400: the admin hands these values to the database as they come, and
    PostgreSQL refuses NUL in a text (a 500 otherwise). The public pages' forms refuse it themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """The admin in every language (`/admin/`, `/en/admin/`): its URLs' namespace says so."""
        if "admin" in request.resolver_match.namespaces and any(
            "\x00" in name or any("\x00" in value for value in values) for name, values in request.GET.lists()
        ):
            return HttpResponseBadRequest(
                _("No NUL character is allowed in a filter or a search."), content_type="text/plain; charset=utf-8"
            )
        return None


class DatabaseUnavailableMiddleware:
    """When the database can't be reached, answer 503 (a page, or JSON for the API), not a traceback.

    The connection is dropped so the next request reconnects: service resumes by itself when
    the database returns.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("Database unavailable: %s", exception)
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        return service_unavailable(request)


def service_unavailable(request):
    message = "The registry's database is unavailable; please retry in a moment."
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "30"
    return response
