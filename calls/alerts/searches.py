"""A saved search: the query string of the public search, read by its one FilterSet."""
import datetime

from django.http import QueryDict
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from calls.models import Call
from calls.reading.filters import CallFilterSet

# Not part of what a search finds: the page, the sort, and the API's sync parameter.
NOT_SAVED = {"page", "ordering", "updated_since"}
MAX_QUERY_LENGTH = 1000
WORDS_NOT_QUOTED = _("the words searched for (shown once the alert is confirmed)")


def _bound(query: str) -> CallFilterSet:
    filterset = CallFilterSet(QueryDict(query or ""), queryset=Call.objects.listed())
    filterset.is_valid()
    return filterset


def normalize_query(raw: str) -> str:
    """The query string's valid filters, in a stable order; unknown parameters and invalid values left out.

    The same search typed twice gives the same saved search, so an address follows it once.
    """
    data = QueryDict(raw or "")
    errors = _bound(raw).form.errors
    kept = QueryDict(mutable=True)
    for name in sorted(CallFilterSet.base_filters):
        if name in NOT_SAVED or name in errors:
            continue
        values = sorted({value.strip() for value in data.getlist(name) if value.strip()})
        if values:
            kept.setlist(name, values)
    return kept.urlencode()


def matching_calls(query: str):
    """The published calls the saved search finds (the public search's own filters and defaults)."""
    return _bound(query).qs


# Filters whose value is free text typed by whoever asked for the alert (not a code, a number, a
# date or a name from the registry): never quoted to an address that has not confirmed the alert.
FREE_TEXT = {"q"}


def describe_search(query: str, *, quote_text: bool = True) -> list[tuple[str, str]]:
    """The saved search in words, as (filter label, chosen values) pairs, in the active language:
    only the filters the visitor chose (in `query`), not the defaults the search applies without
    being asked (open and upcoming calls, schemes in France only).

    With `quote_text=False` (the confirmation, sent to an address that has not confirmed, which
    anyone may have typed), free-text filters are named by their label, never quoted: a stranger
    cannot make the registry mail their words to someone else.
    """
    form = _bound(query).form
    chosen = {name for name, values in QueryDict(query or "").lists() if any(value.strip() for value in values)}
    described = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if name in NOT_SAVED or name not in chosen or value in (None, "") or (
                hasattr(value, "__len__") and not len(value)):
            continue
        if name in FREE_TEXT and not quote_text:
            described.append((str(field.label), str(WORDS_NOT_QUOTED)))
            continue
        values = value if isinstance(value, list | tuple) or hasattr(value, "model") else [value]
        choices = {}
        if not hasattr(field, "queryset"):  # a model's choices are its objects: shown as they are
            choices = {str(key): label for key, label in getattr(field, "choices", [])}
        texts = []
        for item in values:
            if isinstance(item, datetime.date):
                texts.append(date_format(item, "DATE_FORMAT"))
            else:
                texts.append(str(choices.get(str(item), item)))
        described.append((str(field.label), ", ".join(texts)))
    return described
