"""What the API reads: one place for the querysets, their counts and their versions.

Lists, details and syncs read each call's stored document (`calls.reading.representations`), by id, once
the page's ids are known: a page is a constant number of queries, with no related row read.
`calls_for_api()` reads calls with their rows, for what still serializes live objects (a
partner's submission, the documents themselves).
"""
import datetime
import hashlib

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import get_language

from calls.choices import PublicationState
from calls.models import Call, RegistryVersion
from calls.querysets import today
from calls.reading import representations
from calls.reading.documents import CALL_ROWS


def calls_for_api(queryset=None):
    """Calls with everything a representation shows: listing annotations and related rows (the
    rows a stored document is built from, `call_document.CALL_ROWS`)."""
    queryset = Call.objects.all() if queryset is None else queryset
    return (
        queryset.for_listing()
        .prefetch_related(None)
        .select_related("programme", "previous_edition", "next_edition")
        .prefetch_related(*CALL_ROWS)
    )


def submissions_of(user):
    """The calls `user` submitted through the API (whatever their review state), newest first."""
    return calls_for_api(Call.objects.filter(submitted_by=user)).order_by("-created_at", "-pk")


def published_calls():
    return calls_for_api(Call.objects.published())


def published_listing():
    """Published calls with the listing annotations only: what the shared CSV export reads."""
    return Call.objects.published().for_listing()


def once_published():
    """What a sync may list: published calls, and calls that were published once (since archived
    or back to draft) so partners can remove them. A draft that was never published (a partner's
    submission awaiting review) is not shown."""
    history = Call.history.model.objects.filter(id=OuterRef("pk"), publication_state=PublicationState.PUBLISHED)
    return Call.objects.filter(Q(publication_state=PublicationState.PUBLISHED) | Exists(history))


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


def start_of_today():
    """Statuses and next deadlines are derived from today's date: they change at midnight."""
    return timezone.make_aware(datetime.datetime.combine(today(), datetime.time.min))


class Version:
    """Cheap validators for a representation: an ETag and a Last-Modified instant."""

    def __init__(self, *, number, last_modified, parts):
        self.number = number
        self.last_modified = last_modified
        digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]
        self.etag = f'"{digest}"'


def _version_row(using="default"):
    return RegistryVersion.objects.using(using).filter(pk=1).values_list("number", "changed_at").first() or (0, None)


def registry_version(*, key: str, daily: bool, using="default") -> Version:
    """The validators of a representation, from the registry version (`calls.reading.read_model`): one
    primary-key read, no scan of what the request selects.

    Every write a reader could see moves the version in its own transaction (calls, their rows,
    the funders, programmes, themes and documents they embed), so the ETag moves with any change;
    for `daily` representations (derived statuses) it also moves at midnight. `key` tells apart
    what else the body depends on (host, path, query string).
    """
    number, changed_at = _version_row(using)
    instants = [changed_at] if changed_at is not None else []
    if daily:
        instants.append(start_of_today())
    return Version(
        number=number, last_modified=max(instants, default=None),
        parts=[key, today() if daily else "", number],
    )


# Query parameters that choose a page, not the calls: the count is the same whatever they say.
PAGE_PARAMETERS = {"page", "page_size", "cursor", "ordering", "format"}
COUNT_CACHE_SECONDS = 600


def counted(queryset, *, query_params, version: Version) -> int:
    """How many calls `queryset` (a filtered list) holds, counted once per registry version and day.

    The count is kept in the cache (Redis in production) under the request's filters, the
    registry version read for the validators and today's date: a write (which moves the version)
    or midnight (statuses) gives a fresh count, and every page of a list after the first costs no
    count (`kept_for_version`).
    """
    filters = sorted(
        (name, sorted(query_params.getlist(name))) for name in query_params if name not in PAGE_PARAMETERS
    )
    return kept_for_version("api-count", lambda: queryset.order_by().count(), query=filters, version=version,
                            using=queryset.db, seconds=COUNT_CACHE_SECONDS, recheck=True)


PAGE_CACHE_SECONDS = 600


def kept_for_version(kind: str, compute, *, query, version: Version, using: str, seconds: int, recheck=False):
    """`compute()`, kept in the cache under `kind`, `query` (what the request asks), the registry
    version read for the validators and today's date: a write (which moves the version) or midnight
    (statuses) computes it again. With `recheck`, a value is kept only if the version has not moved
    while it was computed (one more primary-key read, on a miss only); without, a value computed
    just after a write may be kept under the version before it, which no request reads once the
    write is seen."""
    key = f"{kind}:" + hashlib.sha256(repr((query, version.number, today(), using)).encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = compute()
        if not recheck or _version_row(using)[0] == version.number:
            cache.set(key, value, seconds)
    return value


def kept_page(queryset, *, query_params, version: Version):
    """For `pagination.page_of_ids`: a list page's rows (ids in the list's order, with their status,
    deadline and sort keys) kept per request and registry version (`kept_for_version`), so a page
    asked again costs no sort of every call the filters keep (a sort on today's deadlines, which no
    index serves)."""
    query = (get_language(), sorted((name, sorted(query_params.getlist(name))) for name in query_params
                                    if name != "format"))

    def keep(fetch):
        return kept_for_version("api-page", fetch, query=query, version=version, using=queryset.db,
                                seconds=PAGE_CACHE_SECONDS)
    return keep


def listing(queryset=None):
    """Calls as the API's list reads them: the annotations its filters and sorts use (status and
    next deadline today, highest ceiling), no related rows (representations come from documents)."""
    queryset = Call.objects.published() if queryset is None else queryset
    return queryset.with_status().with_max_ceiling()


def page_rows(ids, *, published_only=True, extra=()):
    """The rows `representations.read_representations` reads for the calls `ids` (one query)."""
    queryset = Call.objects.filter(pk__in=list(ids)).order_by()  # put in the page's order by the caller
    if published_only:
        queryset = queryset.published()
    return representations.document_rows(queryset.with_status(), *extra)


def listed_rows(page):
    """`representations.read_representations` rows for a list page read as `(id, status, next deadline)`
    (the statuses come with the ids: the second query reads only the stored documents)."""
    stored = {row[0]: row for row in representations.stored_rows(
        Call.objects.published().filter(pk__in=[pk for pk, *_ in page]).order_by()
    )}
    return [
        (pk, stored[pk][1], status, deadline, stored[pk][2], stored[pk][3], stored[pk][4])
        for pk, status, deadline in page if pk in stored
    ]
