"""A complete, versioned dump of the registry, in the bundled data file's format.

`dump_registry()` writes every call whatever its publication state, with its funders, rounds,
ceilings, sources, laureates and editions, and every document, theme, funder and programme.
`calls.loading.load_registry()` reads it back: a dump loaded into an empty database gives the
same registry, and dumping that gives the same dump (see tests/test_dumping.py).
"""
from django.db.models import Prefetch

from .choices import DatePrecision
from .models import Call, Document, Funder, Programme, Source, Theme

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
        "slug": funder.slug, "name": funder.name, "acronym": funder.acronym or None, "kind": funder.kind,
        "region": funder.region_id, "country": funder.country, "website": funder.website or None,
        "description": funder.description,
    }


def programme_entry(programme):
    return {
        "slug": programme.slug, "name": programme.name,
        "parent": programme.parent.slug if programme.parent_id else None,
        "funders": sorted(f.slug for f in programme.funders.all()), "budget_eur": programme.budget_eur,
        "starts_on": partial_date(programme.starts_on, programme.starts_on_precision),
        "ends_on": partial_date(programme.ends_on, programme.ends_on_precision),
        "description": programme.description, "curator_note": programme.curator_note,
        "sources": _sources(programme.sources.all()),
    }


def call_entry(call):
    return {
        "slug": call.slug,
        "title": call.title,
        "summary": call.summary,
        "description": call.description,
        "call_type": call.call_type,
        "programme": call.programme.slug if call.programme_id else None,
        "funders": [{"funder": r.funder.slug, "role": r.role} for r in call.funder_roles.all()],
        "opens_on": partial_date(call.opens_on, call.opens_on_precision),
        "closes_on": partial_date(call.closes_on, call.closes_on_precision),
        "is_rolling": call.is_rolling,
        "rounds": [
            {"name": r.name, "opens_on": partial_date(r.opens_on, r.opens_on_precision),
             "closes_on": partial_date(r.closes_on, r.closes_on_precision), "budget_eur": r.budget_eur}
            for r in call.rounds.all()
        ],
        "total_budget_eur": call.total_budget_eur,
        "ceilings": [{"amount_eur": c.amount_eur, "condition": c.condition} for c in call.ceilings.all()],
        "floor_eur": call.floor_eur,
        "funding_rate_min_pct": call.funding_rate_min_pct,
        "funding_rate_max_pct": call.funding_rate_max_pct,
        "aid_forms": sorted(a.pk for a in call.aid_forms.all()),
        "duration_min_months": call.duration_min_months,
        "duration_max_months": call.duration_max_months,
        "beneficiaries": sorted(b.pk for b in call.beneficiaries.all()),
        "scope": call.scope,
        "country": call.country,
        "regions": sorted(r.pk for r in call.regions.all()),
        "consortium_required": call.consortium_required,
        "trl_min": call.trl_min,
        "trl_max": call.trl_max,
        "themes": sorted(t.slug for t in call.themes.all()),
        "eligibility": call.eligibility,
        "eligible_expenses": call.eligible_expenses,
        "apply_url": call.apply_url,
        "previous_edition": call.previous_edition.slug if call.previous_edition_id else None,
        "laureates": [
            {"organisation": lau.organisation, "project": lau.project, "amount_eur": lau.amount_eur,
             "region": lau.region_id, "year": lau.year}
            for lau in call.laureates.all()
        ],
        "publication_state": call.publication_state,
        "published_at": call.published_at.isoformat() if call.published_at else None,
        "last_verified_on": call.last_verified_on.isoformat() if call.last_verified_on else None,
        "curator_note": call.curator_note,
        "submitted_by": call.submitted_by.get_username() if call.submitted_by_id else None,
        "sources": _sources(call.sources.all()),
    }


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
