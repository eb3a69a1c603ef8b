"""French full-text search over calls, on PostgreSQL and (more simply) on SQLite."""
import re
import unicodedata

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, ExpressionWrapper, F, FloatField, Func, Q, Value, When
from django.db.models.functions import Lower

SEARCH_CONFIG = "french_unaccent"

# The expression the GIN index is built on (migration 0003): queries must use the same one.
SEARCH_VECTOR = (
    SearchVector("title", weight="A", config=SEARCH_CONFIG)
    + SearchVector("summary", weight="B", config=SEARCH_CONFIG)
    + SearchVector("description", weight="C", config=SEARCH_CONFIG)
)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# Longest first: "régionaux" and "régionales" both come down to "region".
FRENCH_ENDINGS = ("ales", "aux", "ale", "al", "es", "s", "e", "x")


def light_stem(word: str) -> str:
    """A small French stemmer for SQLite: enough for plurals and gender, not a linguist."""
    for ending in FRENCH_ENDINGS:
        if len(word) - len(ending) >= 4 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def plain_text(text: str) -> str:
    """Text as SQLite's search compares it: lower-cased, unaccented."""
    return strip_accents((text or "").lower())


def weighted_texts(call, *, programmes, funders) -> dict[str, str]:
    """What a search finds a call by, by weight (A first): the read model's search document."""
    return {
        "A": call.title,
        "B": " ".join([call.summary, *(f"{f.name} {f.acronym}" for f in funders), *(p.name for p in programmes)]),
        "C": " ".join([call.description, call.eligibility]),
        "D": " ".join(f"{winner.organisation} {winner.project}" for winner in call.laureates.all()),
    }


def search_terms(text: str) -> list[str]:
    return [light_stem(w) for w in re.findall(r"\w+", strip_accents(text.lower())) if len(w) > 1]


class Unaccent(Func):
    """SQLite: the `unaccent` function registered on each connection (see apps.py)."""

    function = "unaccent"


def search_calls(queryset, text: str):
    text = (text or "").strip()
    if not text:
        return queryset
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        return queryset.annotate(search_vector=SEARCH_VECTOR).filter(search_vector=query).annotate(
            rank=SearchRank(F("search_vector"), query)
        )
    terms = search_terms(text)
    if not terms:
        return queryset
    fields = {name: Lower(Unaccent(name)) for name in ("title", "summary", "description")}
    queryset = queryset.annotate(**{f"_plain_{name}": expr for name, expr in fields.items()})
    for term in terms:
        queryset = queryset.filter(
            Q(_plain_title__contains=term) | Q(_plain_summary__contains=term) | Q(_plain_description__contains=term)
        )
    title_hits = [Case(When(_plain_title__contains=t, then=Value(1.0)), default=Value(0.0)) for t in terms]
    summary_hits = [Case(When(_plain_summary__contains=t, then=Value(0.5)), default=Value(0.0)) for t in terms]
    rank = sum(title_hits + summary_hits, Value(0.0))
    return queryset.annotate(rank=ExpressionWrapper(rank, output_field=FloatField()))
