"""The site-wide error handlers (`registry.urls`): JSON under /api/, the site's own pages elsewhere."""
import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults

from registry.middleware import service_unavailable


def not_found(request, exception=None):
    """404: JSON under /api/, the site's own page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500: called while the exception is being handled; a lost database is a 503, not a 500."""
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        return service_unavailable(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
