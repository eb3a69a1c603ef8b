"""Keeping the read model (`CallIndex`, `CallPeriod`, `CallFacet`) and the registry version.

Only the write path (`calls.services`) calls `refresh()`, in the transaction of the write; the
`rebuild_read_model` command calls `rebuild()`, which recomputes every row from scratch and says
which rows had drifted. A property test checks that rows kept by the services equal a rebuild.

Both work by batches of calls (`BATCH`): one prefetching query set per batch, every programme read
once, and each batch's rows deleted and inserted in bulk, so the number of queries grows with
the number of batches, not of calls.
"""
import contextlib
import contextvars
import dataclasses

from django.contrib.postgres.search import SearchVector
from django.db import connections, router, transaction
from django.db.models import Value
from django.utils import timezone

from . import date_facts, search
from .choices import beneficiaries_who_may_apply
from .models import Call, CallFacet, CallFunder, CallIndex, CallPeriod, Programme, RegistryVersion

BATCH = 500  # calls computed and written together
# Moved when what a row holds changes meaning (2: edition years, laureates closing undated
# editions, the thesaurus and vocabularies in the search document): `fill_missing`, run on every
# start, then rebuilds every row once.
FORMAT = 3  # 3: a page saying a scheme stopped, an undated edition's next edition
# The columns `refresh()` writes, besides the search vector (compared by `rebuild()`).
COMPARED_FIELDS = [
    "open_from", "open_until", "period_count", "last_opening", "dates_unknown", "edition_year", "succeeded_on",
    "deadlines", "max_ceiling_eur", "for_applicants_in_france", "open_to_every_region", "names_no_beneficiary",
    "search_title", "search_text", "document",
]


def _calls(call_ids, using):
    return (
        Call.objects.using(using).filter(pk__in=call_ids)
        .select_related("programme", "next_edition")
        .prefetch_related(
            "next_edition__rounds", "rounds", "ceilings", "themes", "beneficiaries", "regions", "aid_forms", "laureates",
            "funder_roles__funder", "sources__document",
        )
    )


def _programmes(using) -> dict[int, Programme]:
    """Every programme by id: what a batch of calls reads their programmes' parents from."""
    return {programme.pk: programme for programme in Programme.objects.using(using)}


def _ancestry(programme_id, programmes) -> list[Programme]:
    """The call's programme and its parents, nearest first (a cycle can't loop forever)."""
    chain, seen = [], set()
    while programme_id is not None and programme_id not in seen and programme_id in programmes:
        seen.add(programme_id)
        chain.append(programmes[programme_id])
        programme_id = programmes[programme_id].parent_id
    return chain


def _programme_ancestry(programme, using) -> list[Programme]:
    """`_ancestry` of one call's programme computed outside a batch (every programme read once)."""
    return [] if programme is None else _ancestry(programme.pk, _programmes(using))


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


def entry_of(call, using="default", programmes=None) -> IndexEntry:
    """Compute the read model of `call` (its rows prefetched) from its current state; `programmes`
    are every programme by id (`_programmes`), read here when not given."""
    facts = date_facts.facts_of_call(call)
    funder_roles = list(call.funder_roles.all())
    if programmes is None:
        ancestry = _programme_ancestry(call.programme, using)
    else:
        ancestry = _ancestry(call.programme_id, programmes)
    ceilings = [c.amount_eur for c in call.ceilings.all()]
    texts = search.weighted_texts(call, programmes=ancestry, funders=[r.funder for r in funder_roles])
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
        ("programme", p.slug) for p in ancestry
    } | {
        ("beneficiary", code) for code in beneficiaries_who_may_apply(beneficiaries)
    } | {
        ("region", code) for code in regions if in_france and not open_to_every_region
    }
    values = {
        "open_from": facts.open_from,
        "open_until": facts.open_until,
        "period_count": len(facts.periods),
        "last_opening": facts.last_opening,
        "dates_unknown": facts.dates_unknown,
        "edition_year": facts.edition_year,
        "succeeded_on": facts.succeeded_on,
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


def _batches(ids, size):
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _entries(call_ids, using, programmes) -> list[tuple[int, IndexEntry]]:
    """(call id, entry) of every call of `call_ids` that exists, from one prefetching query set."""
    return [(call.pk, entry_of(call, using, programmes)) for call in _calls(call_ids, using)]


def _write(entries, using):
    """Replace the read model rows of these calls by `entries`: delete, then insert in bulk."""
    ids = [call_id for call_id, _entry in entries]
    # The periods and facets go with their index rows (CASCADE); only the ids are read.
    CallIndex.objects.using(using).filter(pk__in=ids).only("pk").delete()
    vectors = connections[using].vendor == "postgresql"
    CallIndex.objects.using(using).bulk_create([
        CallIndex(call_id=call_id, **entry.values,
                  search_vector=_search_vector(entry.weighted_texts) if vectors else None)
        for call_id, entry in entries
    ])
    CallPeriod.objects.using(using).bulk_create([
        CallPeriod(call_index_id=call_id, starts_on=start, ends_on=end)
        for call_id, entry in entries for start, end in entry.periods
    ])
    CallFacet.objects.using(using).bulk_create([
        CallFacet(call_index_id=call_id, facet=facet, value=value)
        for call_id, entry in entries for facet, value in entry.facets
    ])


def refresh(*, call_ids, using=None, batch=BATCH, public=False) -> None:
    """Bring the read model of these calls up to date, and move the registry version when the
    public can see the change.

    Called by the write path after it wrote a call, its rows, or something calls embed (`public`:
    a funder, programme, theme or document, which the API lists whatever embeds it). The version
    (the API's validators, the cached facet counts, the export files) moves unless every call
    written is a draft never published: a partner's submission, or curators' work on it before
    publication, changes nothing the public reads, and must not make every client download again.
    """
    using = using or router.db_for_write(CallIndex)
    call_ids = list(call_ids)
    call_ids += _editions_before(call_ids, using)
    with transaction.atomic(using=using):
        programmes = None
        for ids in _batches(call_ids, batch):
            programmes = _programmes(using) if programmes is None else programmes
            _write(_entries(ids, using, programmes), using)
        if public or not call_ids or _seen_by_the_public(call_ids, using):
            bump_version(using=using)


def _editions_before(call_ids, using) -> list[int]:
    """The calls whose stored facts read these calls' dates: their previous editions, and those
    whose row still holds a next edition that is no longer theirs (`CallIndex.succeeded_on`)."""
    if not call_ids:
        return []
    previous = Call.objects.using(using).filter(next_edition__pk__in=call_ids).values_list("pk", flat=True)
    detached = CallIndex.objects.using(using).filter(
        succeeded_on__isnull=False, call__next_edition__isnull=True,
    ).values_list("pk", flat=True)
    seen = set(call_ids)
    return [pk for pk in {*previous, *detached} if pk not in seen]


def _seen_by_the_public(call_ids, using) -> bool:
    """Whether any of these calls is, or was, public: not a draft, or published once (a call taken
    back to draft still shows in the sync, as withdrawn)."""
    from .choices import PublicationState

    return Call.objects.using(using).filter(pk__in=call_ids).exclude(
        publication_state=PublicationState.DRAFT, published_at__isnull=True,
    ).exists()


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
    version, _ = RegistryVersion.objects.using(using).select_for_update().get_or_create(
        pk=1, defaults={"read_model_format": FORMAT})
    version.number += 1
    version.changed_at = timezone.now()
    version.save(using=using)
    return version.number


# The version a page read once for all it reads (`one_version`), else None.
_page_version = contextvars.ContextVar("registry_page_version", default=None)


def current_version(*, using="default") -> int:
    """The registry version: moves with every write a reader could see."""
    pinned = _page_version.get()
    if pinned is not None and using == "default":
        return pinned
    return RegistryVersion.objects.using(using).filter(pk=1).values_list("number", flat=True).first() or 0


@contextlib.contextmanager
def one_version():
    """Read the registry version once for a whole read (a public page: its ETag, its cached facet
    counts and estimates): `current_version()` answers it until the block ends, without a query."""
    number = current_version()
    token = _page_version.set(number)
    try:
        yield number
    finally:
        _page_version.reset(token)


def fill_missing(*, using="default", batch=BATCH) -> int:
    """Build the read model of calls that have none (a registry upgraded from before it), or of
    every call when its rows were written in an older `FORMAT`: run on every start, it costs two
    queries when nothing is missing. Returns how many were built."""
    stored_format = RegistryVersion.objects.using(using).filter(pk=1).values_list(
        "read_model_format", flat=True).first()
    calls = Call.objects.using(using)
    if stored_format is not None and stored_format != FORMAT:
        missing = list(calls.values_list("pk", flat=True))
    else:
        missing = list(calls.filter(index__isnull=True).values_list("pk", flat=True))
    with transaction.atomic(using=using):
        if missing:
            refresh(call_ids=missing, using=using, batch=batch)
        if stored_format != FORMAT:
            RegistryVersion.objects.using(using).update_or_create(pk=1, defaults={"read_model_format": FORMAT})
    return len(missing)


@dataclasses.dataclass
class Drift:
    call_id: int
    fields: list


def rebuild(*, using="default", batch=BATCH) -> list[Drift]:
    """Recompute the read model of every call from scratch; return the rows that had drifted
    (missing, different, or left over from a deleted call). Rows are rewritten either way."""
    drifts = []
    with transaction.atomic(using=using):
        ids = list(Call.objects.using(using).order_by("pk").values_list("pk", flat=True))
        programmes = _programmes(using)
        for chunk in _batches(ids, batch):
            entries = _entries(chunk, using, programmes)
            drifts += _drifts(entries, using)
            _write(entries, using)
        left_over = sorted(set(CallIndex.objects.using(using).values_list("pk", flat=True)) - set(ids))
        drifts += [Drift(call_id, ["left over"]) for call_id in left_over]
        CallIndex.objects.using(using).filter(pk__in=left_over).only("pk").delete()
        bump_version(using=using)
        RegistryVersion.objects.using(using).filter(pk=1).update(read_model_format=FORMAT)
    return drifts


def _drifts(entries, using) -> list[Drift]:
    """How the stored rows of these calls differ from their `entries` (before they are rewritten)."""
    ids = [call_id for call_id, _entry in entries]
    stored = {row.pk: row for row in CallIndex.objects.using(using).filter(pk__in=ids).defer("search_vector")}
    periods, facets = {}, {}
    for call_id, start, end in CallPeriod.objects.using(using).filter(call_index_id__in=ids).values_list(
            "call_index_id", "starts_on", "ends_on"):
        periods.setdefault(call_id, []).append((start, end))
    for call_id, facet, value in CallFacet.objects.using(using).filter(call_index_id__in=ids).values_list(
            "call_index_id", "facet", "value"):
        facets.setdefault(call_id, []).append((facet, value))
    drifts = []
    for call_id, entry in entries:
        row = stored.get(call_id)
        if row is None:
            drifts.append(Drift(call_id, ["missing"]))
            continue
        changed = [
            name for name in COMPARED_FIELDS if _comparable(getattr(row, name)) != _comparable(entry.values[name])
        ]
        if sorted(periods.get(call_id, [])) != sorted(entry.periods):
            changed.append("periods")
        if sorted(facets.get(call_id, [])) != sorted(entry.facets):
            changed.append("facets")
        if changed:
            drifts.append(Drift(call_id, changed))
    return drifts


def _comparable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value

