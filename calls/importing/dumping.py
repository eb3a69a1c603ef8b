"""A complete, versioned dump of the registry, in the bundled data file's format.

`dump_registry()` writes every call whatever its publication state, with its funders, rounds,
ceilings, sources, laureates and editions, and every document, theme, funder and programme.
`calls.importing.loading.load_registry()` reads it back: a dump loaded into an empty database gives the
same registry, and dumping that gives the same dump (see tests/importing/test_dumping.py).
"""
import datetime
import functools

from django.db.models import Prefetch

from calls import fields
from calls.choices import DatePrecision
from calls.models import Call, Document, Funder, Programme, Source, Theme

FORMAT_VERSION = 1


def partial_date(value, precision):
    """The inverse of `parse_partial_date`: "2022", "2022-03" or "2022-03-15"."""
    if value is None:
        return None
    if precision == DatePrecision.YEAR:
        return f"{value.year:04d}"
    if precision == DatePrecision.MONTH:
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def _sources(sources):
    return [
        {
            "document": source.document.key if source.document_id else None,
            "title": source.title or None,
            "url": source.url or None,
            "locator": source.locator,
            "accessed_on": source.accessed_on.isoformat() if source.accessed_on else None,
            "covers": sorted(source.covered_fields),
        }
        for source in sources
    ]


def document_entry(document):
    return {"key": document.key, "title": document.title, "url": document.url or None}


def theme_entry(theme):
    return {"slug": theme.slug, "name": theme.name, "name_en": theme.name_en}


def funder_entry(funder):
    return {
        "slug": funder.slug, "name": funder.name, "name_en": funder.name_en or None,
        "acronym": funder.acronym or None,
        **({"aliases": funder.alias_list} if funder.alias_list else {}),  # optional: none is left out
        "kind": funder.kind,
        "region": funder.region_id, "country": funder.country, "website": funder.website or None,
        "description": funder.description,
    }


def programme_entry(programme):
    return {
        "slug": programme.slug, "name": programme.name, "name_en": programme.name_en or None,
        "parent": programme.parent.slug if programme.parent_id else None,
        "funders": sorted(f.slug for f in programme.funders.all()), "budget_eur": programme.budget_eur,
        "starts_on": partial_date(programme.starts_on, programme.starts_on_precision),
        "ends_on": partial_date(programme.ends_on, programme.ends_on_precision),
        "description": programme.description, "curator_note": programme.curator_note,
        "sources": _sources(programme.sources.all()),
    }


# A call in the data format: its fields declared with `dump` (`calls.fields`), in their order. Its
# columns are written by their model field's type (`scalar_entry`), its vocabularies' terms by
# their codes (`code_key`), its own rows by `CALL_ROWS`.

@functools.cache
def _has_precision(name) -> bool:
    """Whether the call stores the precision of date `name` beside it (written as a partial date)."""
    return any(field.name == f"{name}_precision" for field in Call._meta.concrete_fields)


def scalar_entry(call, name):
    """A column of the call as the data format writes it: a programme or an edition by its slug,
    a date with its precision as given ("2022", "2022-03", "2022-03-15"), another date in ISO form."""
    field = Call._meta.get_field(name)
    if field.is_relation:
        return getattr(call, name).slug if getattr(call, field.attname) is not None else None
    value = getattr(call, name)
    if _has_precision(name):
        return partial_date(value, getattr(call, f"{name}_precision"))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def code_key(model) -> str:
    """What the data format names a vocabulary's terms by: a theme by its slug, a coded term
    (beneficiary, aid form, region) by its code."""
    return "slug" if any(field.name == "slug" for field in model._meta.fields) else model._meta.pk.name


def _codes(call, name):
    key = code_key(Call._meta.get_field(name).related_model)
    return sorted(getattr(term, key) for term in getattr(call, name).all())


CALL_ROWS = {
    "funders": lambda call: [{"funder": r.funder.slug, "role": r.role} for r in call.funder_roles.all()],
    "rounds": lambda call: [
        {"name": r.name, "opens_on": partial_date(r.opens_on, r.opens_on_precision),
         "closes_on": partial_date(r.closes_on, r.closes_on_precision), "budget_eur": r.budget_eur}
        for r in call.rounds.all()
    ],
    "ceilings": lambda call: [{"amount_eur": c.amount_eur, "condition": c.condition} for c in call.ceilings.all()],
    "sources": lambda call: _sources(call.sources.all()),
    "laureates": lambda call: [
        {"organisation": lau.organisation, "project": lau.project, "amount_eur": lau.amount_eur,
         "region": lau.region_id, "year": lau.year}
        for lau in call.laureates.all()
    ],
}


def call_entry(call):
    """The call in the data format: its declared fields, then what the registry or a partner set
    (its first publication, who submitted it), which a dump restores and the bundled data never gives."""
    by_kind = {"value": scalar_entry, "codes": _codes, "rows": lambda call, name: CALL_ROWS[name](call)}
    entry = {field.name: by_kind[field.kind](call, field.name) for field in fields.CALL_FIELDS if field.dump}
    entry["published_at"] = call.published_at.isoformat() if call.published_at else None
    entry["submitted_by"] = call.submitted_by.get_username() if call.submitted_by_id else None
    return entry


def dump_registry() -> dict:
    sources = Prefetch("sources", queryset=Source.objects.select_related("document"))
    calls = (
        Call.objects.order_by("slug")
        .select_related("programme", "previous_edition", "submitted_by")
        .prefetch_related(
            "funder_roles__funder", "rounds", "ceilings", "laureates", "aid_forms", "beneficiaries", "regions",
            "themes", sources,
        )
    )
    programmes = Programme.objects.order_by("slug").select_related("parent").prefetch_related("funders", sources)
    return {
        "format_version": FORMAT_VERSION,
        "documents": [document_entry(d) for d in Document.objects.order_by("key")],
        "themes": [theme_entry(t) for t in Theme.objects.order_by("slug")],
        "funders": [funder_entry(f) for f in Funder.objects.order_by("slug")],
        "programmes": [programme_entry(p) for p in programmes],
        "calls": [call_entry(call) for call in calls.iterator(chunk_size=1000)],
    }
