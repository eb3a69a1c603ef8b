"""The representations the API serves, read from the read model's stored documents.

The read model stores, per call, `calls.reading.documents.call_document(call)` (the read side's own
builder, which imports nothing of the API): the call's API representation less what depends on
today (`status`, `next_deadline`, from the read model's date facts), on the request (`url` is
stored as a path, made absolute here with the request's scheme and host) or on another call's
publication state (`previous_edition`, `next_edition`, read by a join). The functions here read
the documents and add those parts.

A page of calls is then one query for its documents, whatever the number of calls and rows, and
no model object is instantiated (`read_representations`).
"""
import json
import logging
import re

from django.db.models import BooleanField, Case, F, Func, TextField, Value, When
from django.db.models.functions import Cast
from django.urls import get_script_prefix

from calls.choices import PublicationState
from calls.models import Call
from calls.reading.documents import (
    CALL_ROWS,
    FORMAT,
    URL_FIELD,
    call_document,
    current_keys,
    is_current,
    representation_fields,
    stamp,
)

logger = logging.getLogger(__name__)


# -- Reading -------------------------------------------------------------------------------------


def _public_slug(prefix):
    return Case(
        When(**{f"{prefix}__publication_state": PublicationState.PUBLISHED}, then=F(f"{prefix}__slug")),
        default=Value(None),
    )


ROW = ("pk", "api_document", "current_status", "next_deadline", "api_previous", "api_next", "updated_at")


def _with_documents(queryset):
    return queryset.annotate(
        api_document=F("index__document"),
        api_previous=_public_slug("previous_edition"),
        api_next=_public_slug("next_edition"),
    )


def document_rows(queryset, *extra):
    """What a representation needs of each call of `queryset` (which carries `with_status()`):
    its stored document, today's status and next deadline, its public editions, then `extra`
    fields, as tuples."""
    return _with_documents(queryset).values_list(*ROW, *extra)


STORED = ("pk", "api_document", "api_previous", "api_next", "updated_at")


def stored_rows(queryset):
    """`document_rows` less today's status and next deadline (for a caller that read them already)."""
    return _with_documents(queryset).values_list(*STORED)


# PostgreSQL writes a jsonb document as text in one form: `{"key": value, "key": value}`, keys by
# length then alphabetically (so `url` first), a quote inside a string always escaped. A stored
# document's bookkeeping keys are then found, and its path made a URL, without decoding it.
_STAMP_TEXT = re.compile(r', "_stamp": (?:"([^"\\]*)"|null)')
_FORMAT_TEXT = re.compile(r', "_format": (-?\d+)')
_URL_START = '{"url": "'


class _HoldsExactly(Func):
    """PostgreSQL: whether a jsonb object holds exactly these keys (`is_current`'s check of keys)."""

    output_field = BooleanField()

    def __init__(self, expression, keys):
        super().__init__(expression)
        self.keys = sorted(keys)

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return (f"COALESCE(({sql}) ?& %s::text[] AND (({sql}) - %s::text[]) = '{{}}'::jsonb, false)",
                [*params, self.keys, *params, self.keys])


def document_texts(queryset):
    """PostgreSQL: `document_rows` with each stored document as jsonb's text (not decoded), and
    whether it holds exactly the current fields (a field added or removed in the code)."""
    return _with_documents(queryset).annotate(
        api_text=Cast(F("index__document"), TextField()),
        api_keys=_HoldsExactly(F("index__document"), current_keys()),
    ).values_list("pk", "api_text", "api_keys", "current_status", "next_deadline", "api_previous", "api_next",
                  "updated_at")


def representation_text(row, *, root: str) -> str | None:
    """A call's API representation as JSON text, from a `document_texts` row, with what
    `read_representations` adds (the URL on the request's host, today's status and next deadline,
    the public editions); None when its document is missing or not current (to be rebuilt).
    Keys come in jsonb's order, then the added ones."""
    _pk, text, holds_current_keys, status, next_deadline, previous, following, updated_at = row
    if text is None or not holds_current_keys or not text.startswith(_URL_START):
        return None
    stamped, format_ = _STAMP_TEXT.search(text), _FORMAT_TEXT.search(text)
    if stamped is None or format_ is None or int(format_.group(1)) != FORMAT or stamped.group(1) != stamp(updated_at):
        return None
    start, end = sorted((stamped.span(), format_.span()))
    text = text[:start[0]] + text[start[1]:end[0]] + text[end[1]:]
    added = json.dumps({
        "status": status, "next_deadline": next_deadline.isoformat() if next_deadline is not None else None,
        "previous_edition": previous, "next_edition": following,
    }, ensure_ascii=False)
    return _URL_START + json.dumps(root, ensure_ascii=False)[1:-1] + text[len(_URL_START):-1] + ", " + added[1:]


def site_root(request) -> str:
    """Scheme, host and script prefix, without the final slash: what stored paths are appended to."""
    if request is None:
        return get_script_prefix()[:-1]
    return request.build_absolute_uri(get_script_prefix())[:-1]


def _rebuilt(call_ids, using) -> dict[int, dict]:
    """Documents built from the calls themselves, for calls whose stored one is missing or stale."""
    logger.warning(
        "The read model's documents of %d call(s) are missing or stale (run `manage.py rebuild_read_model`): "
        "built from the calls.", len(call_ids),
    )
    calls = Call.objects.using(using).filter(pk__in=call_ids).select_related("programme").prefetch_related(*CALL_ROWS)
    return {call.pk: call_document(call) for call in calls}


def read_representations(rows, *, request, using="default") -> dict[int, dict]:
    """Each call's API representation, by id, from `document_rows()` tuples."""
    rows = list(rows)
    stale = {row[0] for row in rows if not is_current(row[1], row[6])}
    rebuilt = _rebuilt(stale, using) if stale else {}
    root = site_root(request)
    fields = representation_fields()
    result = {}
    for pk, document, status, next_deadline, previous, following, _updated_at, *_extra in rows:
        if pk in stale:
            if pk not in rebuilt:
                continue  # deleted since its row was read: no representation
            document = rebuilt[pk]
        values = {
            **document,
            URL_FIELD: root + document[URL_FIELD],
            "status": status,
            "next_deadline": next_deadline.isoformat() if next_deadline is not None else None,
            "previous_edition": previous,
            "next_edition": following,
        }
        result[pk] = {name: values[name] for name in fields}
    return result
