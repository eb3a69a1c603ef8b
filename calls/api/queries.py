"""What the API reads: one place for the querysets, their prefetches and their versions.

Every representation of a call (list, detail, sync, export) is read through `calls_for_api()`,
so the list has the detail's shape in a constant number of queries.
"""
import datetime
import hashlib

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from calls.choices import PublicationState
from calls.models import Call, CallFunder, Document, Funder, Programme, Source, Theme
from calls.querysets import today

# Calls embed these (funder names, programme names, theme slugs, source titles) but saving one
# does not touch the calls' `updated_at`: their history says when they last changed.
EMBEDDED_MODELS = (Funder, Programme, Theme, Document)


# Related rows land in plain lists (`to_attr`): much cheaper per call than prefetched managers,
# which matters for the full export. The serializers read these attributes.
CALL_PREFETCHES = [
    Prefetch("funder_roles", queryset=CallFunder.objects.select_related("funder"), to_attr="api_funder_roles"),
    Prefetch("rounds", to_attr="api_rounds"),
    Prefetch("ceilings", to_attr="api_ceilings"),
    Prefetch("sources", queryset=Source.objects.select_related("document"), to_attr="api_sources"),
    Prefetch("laureates", to_attr="api_laureates"),
    Prefetch("aid_forms", to_attr="api_aid_forms"),
    Prefetch("beneficiaries", to_attr="api_beneficiaries"),
    Prefetch("regions", to_attr="api_regions"),
    Prefetch("themes", to_attr="api_themes"),
]


def calls_for_api(queryset=None):
    """Calls with everything a representation shows: listing annotations and related rows."""
    queryset = Call.objects.all() if queryset is None else queryset
    return (
        queryset.for_listing()
        .prefetch_related(None)
        .select_related("programme", "previous_edition", "next_edition")
        .prefetch_related(*CALL_PREFETCHES)
    )


def published_calls():
    return calls_for_api(Call.objects.published())


def published_listing():
    """Published calls with the listing annotations only: what the shared CSV export reads."""
    return Call.objects.published().for_listing()


def synced_calls():
    """What `updated_since` may return: published calls, and calls that were published once
    (since archived or back to draft) so partners can remove them. A draft that was never
    published (a partner's submission awaiting review) is not shown."""
    history = Call.history.model.objects.filter(id=OuterRef("pk"), publication_state=PublicationState.PUBLISHED)
    return calls_for_api(Call.objects.filter(Q(publication_state=PublicationState.PUBLISHED) | Exists(history)))


def retired_slugs(call_ids, *, since) -> dict[int, list[tuple[str, datetime.datetime]]]:
    """Per call, the slugs it was published under and left after `since`, with when it left each:
    a curator renamed it. Read from the calls' history, in one query."""
    rows = (
        Call.history.model.objects.filter(id__in=call_ids)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "slug", "publication_state", "history_date")
    )
    retired, previous, published_slugs = {}, {}, {}
    for call_id, slug, state, instant in rows:
        seen = published_slugs.setdefault(call_id, set())
        before = previous.get(call_id)
        if before is not None and before != slug and instant > since and before in seen:
            retired.setdefault(call_id, {})[before] = instant
        if state == PublicationState.PUBLISHED:
            seen.add(slug)
        previous[call_id] = slug
    return {
        call_id: [(slug, instant) for slug, instant in slugs.items() if slug != previous.get(call_id)]
        for call_id, slugs in retired.items()
    }


def _last_change(model):
    latest = model.history.model.objects.order_by("-history_date").values("history_date")[:1]
    return Max(Subquery(latest))


def start_of_today():
    """Statuses and next deadlines are derived from today's date: they change at midnight."""
    return timezone.make_aware(datetime.datetime.combine(today(), datetime.time.min))


class Version:
    """Cheap validators for a representation: an ETag and a Last-Modified instant."""

    def __init__(self, *, last_modified, parts):
        self.last_modified = last_modified
        digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]
        self.etag = f'"{digest}"'


def version_of(queryset, *, key: str, daily: bool) -> Version:
    """The version of what `queryset` (filtered, unpaginated) gives, in one aggregate query.

    It moves when a row of the queryset changes (its latest `updated_at` or history), when rows
    come or go (the count), when an embedded funder, programme, theme or document changes, and,
    for `daily` representations (derived statuses), at midnight. `key` tells apart what else the
    body depends on (path, query string, host).
    """
    model = queryset.model
    aggregates = {"n": Count("pk")}
    if hasattr(model, "updated_at"):
        aggregates["rows"] = Max("updated_at")
    elif hasattr(model, "history"):
        aggregates["rows"] = _last_change(model)
    for embedded in EMBEDDED_MODELS:
        aggregates[embedded._meta.model_name] = _last_change(embedded)
    values = queryset.order_by().aggregate(**aggregates)
    instants = [value for name, value in values.items() if name != "n" and value is not None]
    if daily:
        instants.append(start_of_today())
    last_modified = max(instants) if instants else None
    return Version(last_modified=last_modified, parts=[key, today() if daily else "", *sorted(values.items())])
