"""A call's stored document: its API representation as the read model keeps it, built by plain
Python from the call and its rows. The read side's own: it imports nothing of the API.

The write path (`calls.reading.read_model.refresh`) stores, per call, `call_document(call)`: the call's
API representation (the fields of `calls.fields` marked `api`, in that order), less what does not
belong to the call's own rows:

- what depends on today (`status`, `next_deadline`): annotated at read time by
  `Call.objects.with_status()` from the read model's date facts;
- what depends on the request: `url` is stored as a path (relative to the script prefix) and made
  absolute with the request's scheme and host;
- what depends on another call's publication state (`previous_edition`, `next_edition`: an edition
  is linked only while it is published): read by a join when the page is read.

Nothing in it depends on the request's language: it holds codes (`call_type`, `scope`,
`beneficiaries`…), slugs and the registry's own texts, never a translated label.

The API's `CallSerializer` describes these fields in the schema and builds its representation of
a call from `call_values` (one representation: the stored and the live ones cannot drift);
`tests/reading/test_call_document.py` checks that its declared fields, represented by DRF field by field,
give the same values on every call of the bundled registry.

The JSON values, as the API writes them: dates ISO 8601 (`2026-07-31`), dates and times in the
current time zone (`TIME_ZONE`, Europe/Paris) as DRF writes them (`2026-01-05T10:30:00+01:00`, `Z`
for UTC), amounts and counts as integers, codes as strings, a missing value as null; the texts
of `NULL_WHEN_EMPTY` are null rather than `""`; code lists sorted; rows in their models' order.
"""
import datetime
import functools
from operator import attrgetter

from django.conf import settings
from django.urls import get_script_prefix
from django.utils import timezone, translation

from calls import fields as call_fields

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

# The call's rows a document is built from (`prefetch_related(*CALL_ROWS)`; the read model and the
# API read calls so).
CALL_ROWS = [
    "rounds", "ceilings", "themes", "beneficiaries", "regions", "aid_forms", "laureates",
    "funder_roles__funder", "sources__document",
]

# Texts and codes the registry may not know: null when empty, never "" (like a missing number).
NULL_WHEN_EMPTY = ("title_en", "summary_en", "recurrence", "eligible_expenses", "apply_url")

# Each list of rows: the relation it is read from, and each key of a row with the attribute it
# holds. The rows come in their model's order (`Meta.ordering`).
ROWS = {
    "funders": ("funder_roles", {
        "slug": "funder.slug", "name": "funder.name", "acronym": "funder.acronym", "kind": "funder.kind",
        "role": "role",
    }),
    "rounds": ("rounds", {
        name: name for name in ("name", "opens_on", "opens_on_precision", "closes_on", "closes_on_precision",
                                "budget_eur")
    }),
    "ceilings": ("ceilings", {"amount_eur": "amount_eur", "condition": "condition"}),
    "sources": ("sources", {
        "title": "display_title", "url": "display_url", "locator": "locator", "accessed_on": "accessed_on",
    }),
    "laureates": ("laureates", {
        "organisation": "organisation", "project": "project", "amount_eur": "amount_eur", "region": "region_id",
        "year": "year",
    }),
}

# Each list of codes: the relation it is read from and what of each term names it.
CODES = {"aid_forms": "pk", "beneficiaries": "pk", "regions": "pk", "themes": "slug"}


@functools.cache
def representation_fields() -> tuple[str, ...]:
    """The fields of a call's API representation, in the contract's order (`calls.fields`)."""
    return tuple(call_fields.names(api=True))


@functools.cache
def _document_fields() -> tuple[str, ...]:
    return tuple(name for name in representation_fields() if name not in (*DAILY_FIELDS, *EDITION_FIELDS))


def document_fields() -> list[str]:
    """The fields a stored document holds: the representation's, less today's and the editions'."""
    return list(_document_fields())


def public_path(instance) -> str:
    """The public page's path, in the default language (no /en/ prefix whatever the request's)."""
    with translation.override(settings.LANGUAGE_CODE):
        return instance.get_absolute_url()


def site_path(call) -> str:
    """The call's public path, relative to the script prefix (the site may be served under one)."""
    path, prefix = public_path(call), get_script_prefix()
    return "/" + path[len(prefix):] if path.startswith(prefix) else path


def instant(value) -> str | None:
    """A date and time as the API writes it (DRF's ISO 8601): in the current time zone (nothing
    activates another than `TIME_ZONE`), `Z` for UTC; a naive one is taken in that zone."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def json_value(value):
    """A value of the call or of a row as JSON: a date as ISO 8601, a number or a boolean as is,
    anything else (a text, a code) as a string."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, datetime.datetime):
        return instant(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


@functools.cache
def _getters(name) -> tuple[str, tuple]:
    relation, keys = ROWS[name]
    return relation, tuple((key, attrgetter(attribute)) for key, attribute in keys.items())


def _rows(call, name) -> list[dict]:
    relation, getters = _getters(name)
    return [{key: json_value(get(row)) for key, get in getters} for row in getattr(call, relation).all()]


def _codes(call, name) -> list[str]:
    return sorted(str(getattr(term, CODES[name])) for term in getattr(call, name).all())


def _programme(call):
    programme = call.programme
    return None if programme is None else {"slug": str(programme.slug), "name": str(programme.name)}


DERIVED = {
    URL_FIELD: site_path,
    "programme": _programme,
    "max_ceiling_eur": lambda call: call.max_ceiling_eur,
}


def _value(call, name):
    if name in DERIVED:
        return DERIVED[name](call)
    if name in ROWS:
        return _rows(call, name)
    if name in CODES:
        return _codes(call, name)
    value = getattr(call, name)
    if name in NULL_WHEN_EMPTY and not value:
        return None
    return json_value(value)


def call_values(call) -> dict:
    """The call's representation less what depends on today, on the request or on another call
    (see the module's docstring), as JSON values, keys in the contract's order. `call`'s rows are
    best prefetched (`CALL_ROWS`), its programme selected."""
    return {name: _value(call, name) for name in _document_fields()}


def call_document(call) -> dict:
    """What the read model stores for `call`: `call_values` with its bookkeeping (this code's
    `FORMAT`, the call's last save)."""
    document = call_values(call)
    document[FORMAT_KEY] = FORMAT
    document[STAMP_KEY] = stamp(call.updated_at)
    return document


def stamp(updated_at) -> str | None:
    """A call's last save as a document records it (in UTC)."""
    return updated_at.astimezone(datetime.UTC).isoformat() if updated_at is not None else None


def is_current(document, updated_at) -> bool:
    """Whether a stored document has this code's format and the call's last save (else it is
    rebuilt when read)."""
    return (
        isinstance(document, dict) and document.get(FORMAT_KEY) == FORMAT
        and document.get(STAMP_KEY) == stamp(updated_at)
        and len(document) == len(current_keys()) and current_keys().issubset(document)
    )


@functools.cache
def current_keys() -> frozenset:
    """The keys a current document holds: its fields and its bookkeeping."""
    return frozenset([*_document_fields(), FORMAT_KEY, STAMP_KEY])
