"""The API representation of a call as a stored document (the read model's `document`), and the
representations the API serves, read from it.

The write path (`calls.reading.read_model.refresh`) stores, per call, `call_document(call)`: what
`CallSerializer` gives for the call, less what does not belong to the call's own rows:

- what depends on today (`status`, `next_deadline`): annotated at read time by
  `Call.objects.with_status()` from the read model's date facts;
- what depends on the request: `url` is stored as a path (relative to the script prefix) and made
  absolute with the request's scheme and host;
- what depends on another call's publication state (`previous_edition`, `next_edition`: an edition
  is linked only while it is published): read by a join when the page is read.

Nothing in the representation depends on the request's language: it holds codes (`call_type`,
`scope`, `beneficiaries`…), slugs and the registry's own texts, never a translated label
(`tests/test_api.py` checks that a document built in English equals one built in French).

A page of calls is then one query for its documents, whatever the number of calls and rows, and
no model object is instantiated (`read_representations`).
"""
import datetime
import functools
import json
import logging
import re

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import BooleanField, Case, F, Func, TextField, Value, When
from django.db.models.functions import Cast
from django.urls import get_script_prefix

from calls.choices import PublicationState

logger = logging.getLogger(__name__)

DAILY_FIELDS = ("status", "next_deadline")
EDITION_FIELDS = ("previous_edition", "next_edition")
URL_FIELD = "url"
# Bump when the stored representation of a field changes (not needed for added or removed
# fields: the key set is checked too). A stale document is rebuilt from the call when read,
# until `manage.py rebuild_read_model` rewrites them all.
FORMAT = 1
FORMAT_KEY = "_format"
# The call's `updated_at` when its document was built: a call saved since without its read model
# refreshed (a write outside `calls.services`) has its document rebuilt when read, and logged.
STAMP_KEY = "_stamp"

# The call's rows a document is built from (read by `read_model._calls` the same way).
CALL_ROWS = [
    "rounds", "ceilings", "themes", "beneficiaries", "regions", "aid_forms", "laureates",
    "funder_roles__funder", "sources__document",
]


def _serializers():
    from calls.api.serializers import CallSerializer

    return CallSerializer


@functools.cache
def representation_fields() -> tuple[str, ...]:
    """The fields of a call's API representation, in the contract's order."""
    return tuple(_serializers().Meta.fields)


def document_fields() -> list[str]:
    """The fields a stored document holds."""
    return [name for name in representation_fields() if name not in (*DAILY_FIELDS, *EDITION_FIELDS)]


@functools.cache
def _build_document_serializer_class():
    CallSerializer = _serializers()

    class CallDocumentSerializer(CallSerializer):
        class Meta(CallSerializer.Meta):
            fields = document_fields()
            read_only_fields = fields

        def get_url(self, call):
            return site_path(call)

    return CallDocumentSerializer


_document_serializer_class = _build_document_serializer_class  # (the bench's generator looks it up)


def site_path(call) -> str:
    """The call's public path, relative to the script prefix (the site may be served under one)."""
    from calls.api.serializers import public_path

    path, prefix = public_path(call), get_script_prefix()
    return "/" + path[len(prefix):] if path.startswith(prefix) else path


def _with_api_rows(call):
    """`CallSerializer` reads the rows from `api_*` lists (see `queries.CALL_PREFETCHES`)."""
    for name, relation in (
        ("api_funder_roles", call.funder_roles), ("api_rounds", call.rounds), ("api_ceilings", call.ceilings),
        ("api_sources", call.sources), ("api_laureates", call.laureates), ("api_aid_forms", call.aid_forms),
        ("api_beneficiaries", call.beneficiaries), ("api_regions", call.regions), ("api_themes", call.themes),
    ):
        if not hasattr(call, name):
            setattr(call, name, list(relation.all()))
    if not hasattr(call, "max_ceiling"):
        call.max_ceiling = max((ceiling.amount_eur for ceiling in call.api_ceilings), default=None)
    return call


@functools.cache
def _shared_serializer():
    """One serializer for every document: DRF builds a serializer's fields (and its nested
    serializers') per instance, which would cost most of a document's time; `to_representation`
    keeps no state, as a list serializer's child does for each item."""
    return _build_document_serializer_class()()


def call_document(call) -> dict:
    """The call's API representation less what depends on today, on the request or on another
    call (see the module's docstring), as JSON values. `call`'s rows are best prefetched."""
    data = _shared_serializer().to_representation(_with_api_rows(call))
    document = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    document[FORMAT_KEY] = FORMAT
    document[STAMP_KEY] = _stamp(call.updated_at)
    return document


def _stamp(instant) -> str | None:
    return instant.astimezone(datetime.UTC).isoformat() if instant is not None else None


def is_current(document, updated_at) -> bool:
    """Whether a stored document has this code's format and the call's last save (else it is
    rebuilt when read)."""
    return (
        isinstance(document, dict) and document.get(FORMAT_KEY) == FORMAT
        and document.get(STAMP_KEY) == _stamp(updated_at)
        and len(document) == len(_current_keys()) and _current_keys().issubset(document)
    )


@functools.cache
def _current_keys() -> frozenset:
    return frozenset([*document_fields(), FORMAT_KEY, STAMP_KEY])


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
        api_keys=_HoldsExactly(F("index__document"), _current_keys()),
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
    stamp, format_ = _STAMP_TEXT.search(text), _FORMAT_TEXT.search(text)
    if stamp is None or format_ is None or int(format_.group(1)) != FORMAT or stamp.group(1) != _stamp(updated_at):
        return None
    start, end = sorted((stamp.span(), format_.span()))
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
    from calls.models import Call

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
