"""Keeping the read model (`CallIndex`, `CallPeriod`) and the registry version.

Only the write path (`calls.services`) calls `refresh()`, in the transaction of the write; the
`rebuild_read_model` command calls `rebuild()`, which recomputes every row from scratch and says
which rows had drifted. A property test checks that rows kept by the services equal a rebuild.
"""
import dataclasses

from django.contrib.postgres.search import SearchVector
from django.db import connections, router, transaction
from django.db.models import Value
from django.utils import timezone

from . import date_facts, search
from .models import Call, CallFacet, CallFunder, CallIndex, CallPeriod, Programme, RegistryVersion

# The columns `refresh()` writes, besides the search vector (compared by `rebuild()`).
COMPARED_FIELDS = [
    "open_from", "open_until", "period_count", "last_opening", "dates_unknown", "deadlines",
    "max_ceiling_eur", "for_applicants_in_france", "open_to_every_region", "names_no_beneficiary",
    "search_title", "search_text", "document",
]


def _calls(call_ids, using):
    return (
        Call.objects.using(using).filter(pk__in=call_ids)
        .select_related("programme")
        .prefetch_related(
            "rounds", "ceilings", "themes", "beneficiaries", "regions", "aid_forms", "laureates",
            "funder_roles__funder", "sources__document",
        )
    )


def _programme_ancestry(programme, using) -> list[Programme]:
    """The call's programme and its parents, nearest first (a cycle can't loop forever)."""
    chain, seen = [], set()
    while programme is not None and programme.pk not in seen:
        chain.append(programme)
        seen.add(programme.pk)
        parent_id = programme.parent_id
        programme = Programme.objects.using(using).filter(pk=parent_id).first() if parent_id else None
    return chain


def _document(call):
    from .api.documents import call_document

    return call_document(call)


@dataclasses.dataclass
class IndexEntry:
    """What the read model holds for one call: the row's values, its periods, its search texts."""

    values: dict
    periods: list
    facets: list
    weighted_texts: dict


def entry_of(call, using="default") -> IndexEntry:
    """Compute the read model of `call` (its rows prefetched) from its current state."""
    facts = date_facts.facts_of_call(call)
    funder_roles = list(call.funder_roles.all())
    programmes = _programme_ancestry(call.programme, using)
    ceilings = [c.amount_eur for c in call.ceilings.all()]
    texts = search.weighted_texts(call, programmes=programmes, funders=[r.funder for r in funder_roles])
    beneficiaries = [b.code for b in call.beneficiaries.all()]
    regions = [r.code for r in call.regions.all()]
    in_france, open_to_every_region = call.is_for_applicants_in_france, call.is_open_to_every_region
    facets = {
        ("theme", t.slug) for t in call.themes.all()
    } | {
        ("funder", r.funder.slug) for r in funder_roles
    } | {
        ("funder_kind", r.funder.kind) for r in funder_roles
    } | {
        ("aid_form", a.code) for a in call.aid_forms.all()
    } | {
        ("programme", p.slug) for p in programmes
    } | {
        ("beneficiary", code) for code in beneficiaries
    } | {
        ("region", code) for code in regions if in_france and not open_to_every_region
    }
    values = {
        "open_from": facts.open_from,
        "open_until": facts.open_until,
        "period_count": len(facts.periods),
        "last_opening": facts.last_opening,
        "dates_unknown": facts.dates_unknown,
        "deadlines": [day.isoformat() for day in facts.deadlines],
        "max_ceiling_eur": max(ceilings, default=None),
        "for_applicants_in_france": in_france,
        "open_to_every_region": open_to_every_region,
        "names_no_beneficiary": not beneficiaries,
        "search_title": search.plain_text(call.title),
        "search_text": search.plain_text(" ".join(texts.values())),
        "document": _document(call),
    }
    return IndexEntry(values=values, periods=list(facts.periods), facets=sorted(facets), weighted_texts=texts)


def _search_vector(weighted_texts):
    vector = None
    for weight, text in weighted_texts.items():
        part = SearchVector(Value(text), weight=weight, config=search.SEARCH_CONFIG)
        vector = part if vector is None else vector + part
    return vector


def _write(call, entry: IndexEntry, using):
    CallIndex.objects.using(using).update_or_create(call_id=call.pk, defaults=entry.values)
    CallPeriod.objects.using(using).filter(call_index_id=call.pk).delete()
    CallPeriod.objects.using(using).bulk_create(
        [CallPeriod(call_index_id=call.pk, starts_on=start, ends_on=end) for start, end in entry.periods]
    )
    CallFacet.objects.using(using).filter(call_index_id=call.pk).delete()
    CallFacet.objects.using(using).bulk_create(
        [CallFacet(call_index_id=call.pk, facet=facet, value=value) for facet, value in entry.facets]
    )
    if connections[using].vendor == "postgresql":
        CallIndex.objects.using(using).filter(pk=call.pk).update(search_vector=_search_vector(entry.weighted_texts))


def refresh(*, call_ids, using=None) -> None:
    """Bring the read model of these calls up to date, and move the registry version.

    Called by the write path after it wrote a call, its rows, or something calls embed.
    """
    using = using or router.db_for_write(CallIndex)
    call_ids = list(call_ids)
    with transaction.atomic(using=using):
        for call in _calls(call_ids, using):
            _write(call, entry_of(call, using), using)
        bump_version(using=using)


def calls_embedding(instance) -> list[int]:
    """The calls whose read model shows `instance` (a funder, programme, theme or document)."""
    from .models import Document, Funder, Theme

    if isinstance(instance, Funder):
        return list(CallFunder.objects.filter(funder=instance).values_list("call_id", flat=True))
    if isinstance(instance, Theme):
        return list(Call.themes.through.objects.filter(theme=instance).values_list("call_id", flat=True))
    if isinstance(instance, Programme):
        return list(Call.objects.filter(programme__in=instance.with_descendants()).values_list("pk", flat=True))
    if isinstance(instance, Document):
        return list(Call.objects.filter(sources__document=instance).values_list("pk", flat=True).distinct())
    return []


def bump_version(*, using=None) -> int:
    """Move the registry version (in the caller's transaction) and return the new number."""
    using = using or router.db_for_write(RegistryVersion)
    version, _ = RegistryVersion.objects.using(using).select_for_update().get_or_create(pk=1)
    version.number += 1
    version.changed_at = timezone.now()
    version.save(using=using)
    return version.number


def current_version(*, using="default") -> int:
    """The registry version: moves with every write a reader could see."""
    return RegistryVersion.objects.using(using).filter(pk=1).values_list("number", flat=True).first() or 0


def fill_missing(*, using="default", batch=500) -> int:
    """Build the read model of calls that have none (a registry upgraded from before it): run on
    every start, it costs one query when nothing is missing. Returns how many were built."""
    missing = list(Call.objects.using(using).filter(index__isnull=True).values_list("pk", flat=True))
    for start in range(0, len(missing), batch):
        refresh(call_ids=missing[start:start + batch], using=using)
    return len(missing)


@dataclasses.dataclass
class Drift:
    call_id: int
    fields: list


def rebuild(*, using="default", batch=500) -> list[Drift]:
    """Recompute the read model of every call from scratch; return the rows that had drifted
    (missing, different, or left over from a deleted call). Rows are rewritten either way."""
    drifts = []
    stored = {row.pk: row for row in CallIndex.objects.using(using).all()}
    periods, facets = {}, {}
    for period in CallPeriod.objects.using(using).all():
        periods.setdefault(period.call_index_id, []).append((period.starts_on, period.ends_on))
    for call_id, facet, value in CallFacet.objects.using(using).values_list("call_index_id", "facet", "value"):
        facets.setdefault(call_id, []).append((facet, value))
    ids = list(Call.objects.using(using).order_by("pk").values_list("pk", flat=True))
    with transaction.atomic(using=using):
        for start in range(0, len(ids), batch):
            for call in _calls(ids[start:start + batch], using):
                entry = entry_of(call, using)
                row = stored.pop(call.pk, None)
                if row is None:
                    drifts.append(Drift(call.pk, ["missing"]))
                else:
                    changed = [
                        name for name in COMPARED_FIELDS
                        if _comparable(getattr(row, name)) != _comparable(entry.values[name])
                    ]
                    if sorted(periods.get(call.pk, [])) != sorted(entry.periods):
                        changed.append("periods")
                    if sorted(facets.get(call.pk, [])) != sorted(entry.facets):
                        changed.append("facets")
                    if changed:
                        drifts.append(Drift(call.pk, changed))
                _write(call, entry, using)
        for call_id in stored:
            drifts.append(Drift(call_id, ["left over"]))
        CallIndex.objects.using(using).filter(pk__in=list(stored)).delete()
        bump_version(using=using)
    return drifts


def _comparable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value

