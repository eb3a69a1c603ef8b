"""Pagination: `page` and `page_size` (default 50; above 500, 500), with keyset cursors.

`page_size` must be a positive integer (400 otherwise); a larger value than 500 is clamped to
500, as the schema says.

Calls list: `page` numbers, as documented; the `next` link also carries a `cursor` (the sort
keys of the page's last call), so following `next` reads the next page by keyset, however deep:
no offset to skip, and a call edited while a client pages moves without shifting the others.
`page=N` without a cursor still reads page N by offset. `count` is the number of calls the
filters give, counted once per registry version (`queries.counted`).

Syncs (`updated_since`, `/api/v1/sync/`): results are ordered by (`updated_at`, `slug`) and the
`next` link carries a `cursor` (the last row's `updated_at` and slug) instead of a page number:
a call edited while a partner pages moves after the cursor and is returned on a later page, so
none is missed. `count` is then the number of changes from the cursor on, this page included.
"""
import base64
import binascii
import datetime
import functools
import hashlib
import json
import math

from django.db import connections
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    CharField,
    DateField,
    DateTimeField,
    F,
    FloatField,
    IntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    Q,
    SmallIntegerField,
    TextField,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import Cast
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

SYNC_PARAM = "updated_since"
CURSOR_PARAM = "cursor"
BAD_CURSOR = "Invalid cursor: use the `next` link of the previous page."


def no_such_page(parameter: str, message: str) -> NotFound:
    """A page that a well-formed query cannot reach: a `cursor` the API did not write (for this
    ordering), a page number in a sync. Like an unknown page, and like DRF's own cursor pagination,
    a 404 (a string is all the schema can say of a cursor: which ones the API wrote, it cannot);
    the detail names the parameter."""
    return NotFound(f"{parameter}: {message}")


def is_sync(request) -> bool:
    return bool(request.query_params.get(SYNC_PARAM))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(value: str) -> str:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()


# -- Sync cursors: (updated_at, slug) ------------------------------------------------------------


def encode_cursor(updated_at, slug) -> str:
    return _b64(f"{updated_at.isoformat()}|{slug}".encode())


def decode_cursor(value: str):
    try:
        instant, slug = _unb64(value).split("|", 1)
        updated_at = parse_datetime(instant)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        updated_at = None
    if updated_at is None or updated_at.tzinfo is None or not slug:
        raise no_such_page(CURSOR_PARAM, BAD_CURSOR)
    return updated_at, slug


# -- List cursors: the sort keys of the last call seen -------------------------------------------

# How a sort key's value travels in a cursor, by the kind of its column.
KINDS = {
    DateTimeField: "t", DateField: "d", FloatField: "f", TextField: "s", CharField: "s",
    AutoField: "i", BigAutoField: "i", IntegerField: "i", BigIntegerField: "i", SmallIntegerField: "i",
    PositiveIntegerField: "i", PositiveSmallIntegerField: "i",
}


def _kind(field) -> str | None:
    for cls in type(field).__mro__:
        if cls in KINDS:
            return KINDS[cls]
    return None


def _dump(value):
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _load(kind, value):
    """A cursor's value as the key's type, or ValueError."""
    if value is None:
        return None
    if kind == "t":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None or parsed.tzinfo is None:
            raise ValueError(value)
        return parsed
    if kind == "d":
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise ValueError(value)
        return parsed
    if kind == "i" and isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63:
        return value
    if kind == "f" and isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if kind == "s" and isinstance(value, str) and len(value) <= 1000:
        return value
    raise ValueError(value)


class SortKeys:
    """The sort of a queryset as keys a cursor can resume after (nulls placed as the database does)."""

    def __init__(self, queryset):
        vendor = connections[queryset.db].vendor
        self.keys = []  # (field or annotation name, descending, nulls last)
        annotations, kinds = {}, []
        for n, item in enumerate(queryset.query.order_by):
            if isinstance(item, str):
                descending, expression = item.startswith("-"), F(item.lstrip("-"))
                nulls_last = None
            elif isinstance(item, OrderBy):
                descending, expression = item.descending, item.expression
                nulls_last = True if item.nulls_last else False if item.nulls_first else None
            else:
                descending, expression, nulls_last = False, item, None
            if nulls_last is None:  # the database's own placement
                nulls_last = (not descending) if vendor == "postgresql" else descending
            # A column or an annotation is read and compared by its name; another expression is annotated.
            name = expression.name if isinstance(expression, F) else f"sort_key_{n}"
            if not isinstance(expression, F):
                annotations[name] = expression
            self.keys.append((name, descending, nulls_last))
        self.queryset = queryset.annotate(**annotations) if annotations else queryset
        for name, _, _ in self.keys:
            if name in self.queryset.query.annotations:
                kinds.append(_kind(self.queryset.query.annotations[name].output_field))
            else:
                meta = self.queryset.model._meta
                kinds.append(_kind(meta.pk if name == "pk" else meta.get_field(name)))
        self.kinds = kinds
        # A single-precision value (PostgreSQL's ts_rank) read back as text is not the value the
        # database compares: read and compare floats as double precision, which round-trips exactly.
        exact = {
            f"{name}_exact": Cast(F(name), FloatField())
            for (name, _, _), kind in zip(self.keys, self.kinds, strict=True) if kind == "f"
        }
        if exact:
            self.queryset = self.queryset.annotate(**exact)
            self.keys = [(f"{name}_exact" if f"{name}_exact" in exact else name, descending, nulls_last)
                         for name, descending, nulls_last in self.keys]
        self.signature = hashlib.sha256(repr(queryset.query.order_by).encode()).hexdigest()[:12]

    @property
    def names(self):
        return [name for name, _, _ in self.keys]

    def encode(self, values) -> str:
        return _b64(json.dumps([self.signature, [_dump(value) for value in values]]).encode())

    def decode(self, cursor: str) -> list:
        try:
            signature, values = json.loads(_unb64(cursor))
            if signature != self.signature or len(values) != len(self.kinds) or None in self.kinds:
                raise ValueError(cursor)
            return [_load(kind, value) for kind, value in zip(self.kinds, values, strict=True)]
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as error:
            raise no_such_page(
                CURSOR_PARAM, BAD_CURSOR + " (A cursor holds only for the ordering it was given with.)"
            ) from error

    def after(self, values) -> Q | None:
        """Rows after `values` in this order (None when no row can be)."""
        branches, equal = [], Q()
        for (name, descending, nulls_last), value in zip(self.keys, values, strict=True):
            if value is None:
                strictly = None if nulls_last else Q(**{f"{name}__isnull": False})
                same = Q(**{f"{name}__isnull": True})
            else:
                strictly = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
                if nulls_last:
                    strictly |= Q(**{f"{name}__isnull": True})
                same = Q(**{name: value})
            if strictly is not None:
                branches.append(equal & strictly)
            equal &= same
        if not branches:
            return None
        condition = branches[0]
        for branch in branches[1:]:
            condition |= branch
        return condition


def _page_number(raw) -> int | None:
    """A page number (a positive integer of at most 18 digits: no list has more pages), else None.
    Python refuses to read an integer of over 4 300 digits: it is never asked to."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18 and int(raw) >= 1:
        return int(raw)
    return None


def _cursor_shape_is_valid(value: str) -> bool:
    """Whether a cursor is one the API could have written (its meaning is checked when used)."""
    try:
        raw = _unb64(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    if raw.startswith("["):
        try:
            signature, values = json.loads(raw)
        except (ValueError, TypeError):
            return False
        return isinstance(signature, str) and isinstance(values, list)
    return False


class RegistryPagination(PageNumberPagination):
    """Page numbers with keyset `next` links for the calls list, cursors for syncs; generic
    lists (funders, programmes, themes) are read in two steps (see `deferred_page`)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    cursor_query_param = CURSOR_PARAM

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: ["A positive integer (values above 500 give 500)."]})
        return min(int(raw), self.max_page_size)

    def check_query(self, request):
        """A bad `page_size` is a 400; a `page` that is not a positive integer, or a `cursor` the API
        did not write, a 404: before anything else (a conditional request too), so a 304 never answers
        a malformed request."""
        self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw != "last" and not _page_number(raw):
            raise NotFound(self.invalid_page_message.format(page_number=raw, message="not a positive integer"))
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor is not None:
            if is_sync(request):
                decode_cursor(cursor)
            elif not _cursor_shape_is_valid(cursor):
                raise no_such_page(self.cursor_query_param, BAD_CURSOR)

    # -- Generic lists (funders, programmes, themes) --

    def deferred_page(self, queryset, request, view):
        """Sort and slice narrow rows (ids) first, then read the page's wide rows by id."""
        ids = super().paginate_queryset(queryset.values_list("pk", flat=True), request, view)
        if ids is None:
            return None
        ids = list(ids)
        rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
        return [rows[pk] for pk in ids]

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.mode = "generic"
        if request.query_params.get(self.cursor_query_param):
            raise ValidationError({self.cursor_query_param: ["This list is paged by `page` only."]})
        return self.deferred_page(queryset, request, view)

    # -- The calls list --

    def page_of_ids(self, queryset, request, *, count: int, values=(), keep=None) -> list[tuple]:
        """The page's calls, in order, as `(id, *values)`: by keyset after `cursor`, else by offset.
        `keep(fetch)`, when given, returns the rows `fetch()` reads, or those it kept of an earlier
        request (`queries.kept_page`)."""
        self.request, self.mode, self.count = request, "list", count
        size = self.get_page_size(request)
        sort = SortKeys(queryset)
        rows = sort.queryset.values_list("pk", *values, *sort.names)
        raw = request.query_params.get(self.page_query_param)
        cursor = request.query_params.get(self.cursor_query_param)
        last_page = max(1, math.ceil(count / size))
        if cursor:
            self.number = _page_number(raw)
            condition = sort.after(sort.decode(cursor))
            rows = rows.filter(condition)[: size + 1] if condition is not None else rows.none()
        else:
            self.number = last_page if raw == "last" else _page_number(raw or "1")
            if self.number is None or self.number > last_page:
                raise NotFound(self.invalid_page_message.format(
                    page_number=raw, message="That page contains no results"
                ))
            start = (self.number - 1) * size
            rows = rows[start: start + size + 1]
        rows = list(rows) if keep is None else keep(functools.partial(list, rows))
        more, rows = len(rows) > size, rows[:size]
        url = self.request.build_absolute_uri()
        self.next_link = None
        if more:
            keys = rows[-1][1 + len(values):]
            self.next_link = replace_query_param(url, self.cursor_query_param, sort.encode(keys))
            if self.number is not None:
                self.next_link = replace_query_param(self.next_link, self.page_query_param, self.number + 1)
        self.previous_link = None
        if self.number is not None and self.number > 1:
            url = remove_query_param(url, self.cursor_query_param)
            self.previous_link = (
                remove_query_param(url, self.page_query_param) if self.number == 2
                else replace_query_param(url, self.page_query_param, self.number - 1)
            )
        return [row[: 1 + len(values)] for row in rows]

    # -- Syncs --

    def sync_page(self, queryset, request) -> list[int]:
        """The ids of a sync page (`queryset` ordered by `updated_at`, `slug`), after `cursor`."""
        self.request, self.mode = request, "sync"
        if request.query_params.get(self.page_query_param, "1") != "1":
            raise no_such_page(
                self.page_query_param, f"With `{SYNC_PARAM}`, follow the `next` link (a cursor), not page numbers."
            )
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            updated_at, slug = decode_cursor(cursor)
            queryset = queryset.filter(Q(updated_at__gt=updated_at) | Q(updated_at=updated_at, slug__gt=slug))
        size = self.get_page_size(request)
        self.count = queryset.order_by().count()
        rows = list(queryset.values_list("pk", "updated_at", "slug")[: size + 1])
        more, rows = len(rows) > size, rows[:size]
        self.next_link = None
        if more:
            url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
            self.next_link = replace_query_param(url, self.cursor_query_param, encode_cursor(*rows[-1][1:]))
        self.previous_link = None
        return [row[0] for row in rows]

    def get_next_link(self):
        return self.next_link if getattr(self, "mode", "generic") != "generic" else super().get_next_link()

    def get_previous_link(self):
        return self.previous_link if getattr(self, "mode", "generic") != "generic" else super().get_previous_link()

    def get_paginated_response(self, data):
        if getattr(self, "mode", "generic") == "generic":
            return super().get_paginated_response(data)
        return Response({
            "count": self.count, "next": self.next_link, "previous": self.previous_link, "results": data,
        })

    def get_paginated_response_schema(self, schema):
        result = super().get_paginated_response_schema(schema)
        result["properties"]["count"]["description"] = (
            "Number of results; in a sync (`updated_since`), the number of changes from this page on."
        )
        result["properties"]["next"]["description"] = (
            "The next page: follow it as is. It carries a keyset `cursor` (with the page number in a list), "
            "so a call edited while you page neither shifts nor hides another."
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
                "description": (
                    "Opaque keyset position, written by the API in `next` links: follow them rather than "
                    "building it. A cursor holds for the query it was given with."
                ),
                "schema": {"type": "string"},
            })
        return parameters
