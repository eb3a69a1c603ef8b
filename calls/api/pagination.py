"""Pagination: `page` and `page_size` (default 50; above 500, 500), and keyset paging for syncs.

`page_size` must be a positive integer (400 otherwise); a larger value than 500 is clamped to
500, as the schema says.

With `updated_since`, results are ordered by (`updated_at`, `slug`) and the `next` link carries
a `cursor` (the last row's `updated_at` and slug) instead of a page number: a call edited while
a partner pages moves after the cursor and is returned on a later page, so none is missed
(page numbers would shift under the partner's feet). `count` is then the number of changes
from the cursor on, this page included.
"""
import base64
import binascii

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

SYNC_PARAM = "updated_since"


def is_sync(request) -> bool:
    return bool(request.query_params.get(SYNC_PARAM))


def encode_cursor(call) -> str:
    raw = f"{call.updated_at.isoformat()}|{call.slug}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str):
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        instant, slug = raw.split("|", 1)
        updated_at = parse_datetime(instant)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        updated_at = None
    if updated_at is None or updated_at.tzinfo is None or not slug:
        raise ValidationError({"cursor": ["Invalid cursor: use the `next` link of the previous page."]})
    return updated_at, slug


class RegistryPagination(PageNumberPagination):
    """Page numbers, or a cursor for syncs; pages are read in two steps (see `deferred_page`)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    cursor_query_param = "cursor"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: ["A positive integer (values above 500 give 500)."]})
        return min(int(raw), self.max_page_size)

    def check_query(self, request):
        """A bad `page_size` is a 400, a `page` that is not a positive integer a 404: before anything
        else (a conditional request too), so a 304 never answers a malformed request."""
        self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw != "last" and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise NotFound(self.invalid_page_message.format(page_number=raw, message="not a positive integer"))

    def deferred_page(self, queryset, request, view):
        """Sort and slice narrow rows (ids) first, then read the page's wide rows by id.

        Sorting thousands of full calls, with their programme and editions joined, only to keep
        50 of them costs far more than sorting their ids.
        """
        ids = super().paginate_queryset(queryset.values_list("pk", flat=True), request, view)
        if ids is None:
            return None
        ids = list(ids)
        rows = {call.pk: call for call in queryset.order_by().filter(pk__in=ids)}
        return [rows[pk] for pk in ids]

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.sync = is_sync(request)
        cursor = request.query_params.get(self.cursor_query_param)
        if not self.sync:
            if cursor:
                raise ValidationError({"cursor": [f"`cursor` pages a sync: it needs `{SYNC_PARAM}`."]})
            return self.deferred_page(queryset, request, view)
        if request.query_params.get(self.page_query_param, "1") != "1":
            raise ValidationError({
                self.page_query_param: [f"With `{SYNC_PARAM}`, follow the `next` link (a cursor), not page numbers."]
            })
        if cursor:
            updated_at, slug = decode_cursor(cursor)
            queryset = queryset.filter(Q(updated_at__gt=updated_at) | Q(updated_at=updated_at, slug__gt=slug))
        size = self.get_page_size(request)
        self.sync_count = queryset.count()
        rows = list(queryset[:size])
        self.next_cursor = encode_cursor(rows[-1]) if rows and self.sync_count > size else None
        return rows

    def get_next_link(self):
        if not self.sync:
            return super().get_next_link()
        if not self.next_cursor:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_paginated_response(self, data):
        if not self.sync:
            return super().get_paginated_response(data)
        return Response({"count": self.sync_count, "next": self.get_next_link(), "previous": None, "results": data})

    def get_paginated_response_schema(self, schema):
        result = super().get_paginated_response_schema(schema)
        result["properties"]["count"]["description"] = (
            "Number of results; with `updated_since`, the number of changes from this page on."
        )
        result["properties"]["next"]["description"] = (
            "The next page; with `updated_since`, a keyset `cursor` link that no concurrent edit can shift."
        )
        return result

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "default": self.page_size})
                parameter["description"] = (
                    f"Results per page (default {self.page_size}); a value above {self.max_page_size} is clamped "
                    f"to {self.max_page_size}."
                )
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        if getattr(view, "sync_enabled", False):
            parameters.append({
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque keyset position in an `updated_since` sync: follow the `next` link.",
                "schema": {"type": "string"},
            })
        return parameters
