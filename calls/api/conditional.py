"""Conditional requests: `ETag` and `Last-Modified` on reads; 304 for `If-None-Match` / `If-Modified-Since`.

The validators come from the registry version (`queries.registry_version`: one primary-key read,
no scan of what the request selects), the day for representations with derived statuses, and the
request's host, path and query string; they are read before the page, so an unchanged resource
costs one query.
"""
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date, parse_etags, parse_http_date_safe
from rest_framework import status
from rest_framework.response import Response


def is_fresh(request, version) -> bool:
    """Whether the client's copy is current (RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since)."""
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        etags = parse_etags(if_none_match)
        return "*" in etags or any(tag.removeprefix("W/") == version.etag for tag in etags)
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    if since is None or version.last_modified is None:
        return False
    return int(version.last_modified.timestamp()) <= since


def set_validators(response, version):
    response["ETag"] = version.etag
    if version.last_modified is not None:
        response["Last-Modified"] = http_date(version.last_modified.timestamp())
    # Revalidate each time; token holders' copies are theirs only.
    response["Cache-Control"] = "no-cache"
    patch_vary_headers(response, ["Authorization"])
    return response


def not_modified(version):
    return set_validators(Response(status=status.HTTP_304_NOT_MODIFIED), version)
