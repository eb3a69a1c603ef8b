"""A NUL character anywhere in an API request is a 400 naming where: the body (checked by the
submission's serializers, `ClosedSerializer`), and here the path and the query string, before any
view reads them.

PostgreSQL refuses NUL in a text, so a NUL that reached a query would be a 500 there and not on
SQLite: refusing it first answers the same on both. The schema documents the 400 on every
operation (`schema_hooks.document_nul_refusal`).
"""
from django.http import JsonResponse
from django.utils.translation import gettext as _

from calls.api.language import API_PREFIX

NUL = "\x00"


def nul_message() -> str:
    return _("No NUL character (\\u0000) is allowed, in any text.")


def visible(name: str) -> str:
    """A name as a client can read it back (JSON would show the NUL as `\\u0000` anyway)."""
    return name.replace(NUL, "\\u0000")


def nul_errors(request) -> dict:
    """`{where: [message]}` for the path (`path`) and each query parameter holding a NUL (in its
    name or a value); empty when there is none."""
    errors = {}
    if NUL in request.path_info:
        errors["path"] = [nul_message()]
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in value for value in values):
            errors[visible(name)] = [nul_message()]
    return errors


class NulCharacterMiddleware:
    """Under /api/ only, after `APILanguageMiddleware` (the message follows Accept-Language)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            errors = nul_errors(request)
            if errors:
                return JsonResponse(errors, status=400)
        return self.get_response(request)
