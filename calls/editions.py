"""Series of editions of a call (`Call.previous_edition` chains) and when the next one can be expected.

No funder gives the date of an edition it has not announced; the registry can still say what
the past editions suggest ("opened in March in 2022, 2023 and 2024"). Such an estimate is shown
as an estimate, with its basis, never as a date the funder gave, and never counted as upcoming.
"""
import dataclasses
import datetime

from django.core.cache import cache
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _

from .choices import DatePrecision, PublicationState
from .querysets import today

EXPECTED_EDITIONS_CACHE_SECONDS = 24 * 3600


@dataclasses.dataclass(frozen=True)
class Edition:
    """What the estimate reads of one edition: when it opened, and how precisely that is known."""

    pk: int
    opens_on: datetime.date | None
    opens_on_precision: str = DatePrecision.DAY


@dataclasses.dataclass(frozen=True)
class ExpectedEdition:
    """The month a series' next edition can be expected in, and the past openings it rests on."""

    month: datetime.date  # the first day of the expected month
    basis: tuple[datetime.date, ...]  # the openings of the past editions, oldest first

    @property
    def basis_text(self) -> str:
        """"opened in March in 2022, 2023 and 2024", in the active language."""
        years = [str(day.year) for day in self.basis]
        listed = _("%(first)s and %(last)s") % {"first": ", ".join(years[:-1]), "last": years[-1]}
        return _("opened in %(month)s in %(years)s") % {"month": MONTHS[self.month.month], "years": listed}

    @property
    def month_text(self) -> str:
        return f"{MONTHS[self.month.month]} {self.month.year}"


def expected_next_edition(series: list[Edition], on: datetime.date | None = None) -> ExpectedEdition | None:
    """When the next edition of `series` (its editions, oldest first) can be expected, or None.

    The rule, written once here:
    - it takes at least two past editions (one opening tells no rhythm: no estimate);
    - every edition's opening date must be known at least to the month (a year alone tells no
      month), and already past on `on`;
    - the editions must have opened in the same calendar month of consecutive years (a yearly
      rhythm); any other series is irregular: no estimate;
    - the estimate is that month in the year after the last edition, and only while that month
      has not ended: once it has passed without a new edition, the series may have stopped and
      the registry says nothing.
    An announced next edition supersedes the estimate: callers give the series up to its latest
    edition, and a series whose latest edition has a successor is not estimated (see
    `expected_editions`).
    """
    on = on or today()
    if len(series) < 2:
        return None
    openings = []
    for edition in series:
        if edition.opens_on is None or edition.opens_on_precision == DatePrecision.YEAR or edition.opens_on > on:
            return None
        openings.append(edition.opens_on)
    months = {day.month for day in openings}
    years = [day.year for day in openings]
    if len(months) != 1 or any(later - earlier != 1 for earlier, later in zip(years, years[1:], strict=False)):
        return None
    expected = datetime.date(years[-1] + 1, openings[-1].month, 1)
    month_end = datetime.date(expected.year + expected.month // 12, expected.month % 12 + 1, 1)
    if month_end <= on:
        return None
    return ExpectedEdition(month=expected, basis=tuple(openings))


def _cache_key(on: datetime.date) -> str:
    from .read_model import current_version

    return f"expected-editions:{current_version()}:{on.isoformat()}"


def expected_editions(on: datetime.date | None = None) -> dict[int, ExpectedEdition]:
    """The estimate of each published call that is the latest edition of its series, by call id.

    Computed once per registry version and day (any write moves the version) and kept in the
    shared cache: the home page lists every expected edition.
    """
    on = on or today()
    return cache.get_or_set(_cache_key(on), lambda: _expected_editions(on), EXPECTED_EDITIONS_CACHE_SECONDS)


def expected_editions_of(call_ids, on: datetime.date | None = None) -> dict[int, ExpectedEdition]:
    """The estimates of these calls only (a page's): read from the whole registry's when it is
    cached, else from these calls' own series (two queries), so that a page does not compute the
    estimates of every call."""
    on = on or today()
    call_ids = set(call_ids)
    known = cache.get(_cache_key(on))
    if known is not None:
        return {pk: estimate for pk, estimate in known.items() if pk in call_ids}
    return _estimates(_series_rows(call_ids), call_ids, on)


_ROW = ("pk", "previous_edition_id", "opens_on", "opens_on_precision", "publication_state")
# Series are a handful of editions long; this bounds the walk up a malformed chain.
MAX_EDITIONS_BACK = 50


def _not_drafts():
    from .models import Call

    # Archived past editions still tell the rhythm; a draft announces nothing.
    return Call.objects.exclude(publication_state=PublicationState.DRAFT).order_by()


def _expected_editions(on: datetime.date) -> dict[int, ExpectedEdition]:
    """One query: every call that is not a draft, with its opening date and previous edition."""
    rows = list(_not_drafts().values_list(*_ROW))
    by_pk = {row[0]: row for row in rows}
    return _estimates((by_pk, {row[1] for row in rows if row[1] is not None}), set(by_pk), on)


def _series_rows(call_ids: set[int]):
    """(rows by id, ids with a next edition) for these calls and every edition before them: one
    recursive query up their chains (bounded, so a malformed chain cannot loop), and one for next
    editions, whatever the length of the series."""
    from django.db import connections, router

    from .models import Call

    if not call_ids:
        return {}, set()
    table = connections[router.db_for_read(Call)].ops.quote_name(Call._meta.db_table)
    columns = "id, previous_edition_id, opens_on, opens_on_precision, publication_state"
    placeholders = ", ".join(["%s"] * len(call_ids))
    sql = f"""
        WITH RECURSIVE series ({columns}, depth) AS (
            SELECT {columns}, 0 FROM {table} WHERE id IN ({placeholders}) AND publication_state <> %s
            UNION
            SELECT {", ".join(f"c.{name}" for name in columns.split(", "))}, s.depth + 1
            FROM {table} c JOIN series s ON c.id = s.previous_edition_id
            WHERE c.publication_state <> %s AND s.depth < %s
        )
        SELECT DISTINCT {columns} FROM series
    """
    with connections[router.db_for_read(Call)].cursor() as cursor:
        cursor.execute(sql, [*sorted(call_ids), PublicationState.DRAFT, PublicationState.DRAFT, MAX_EDITIONS_BACK])
        rows = cursor.fetchall()
    by_pk = {row[0]: (row[0], row[1], _as_date(row[2]), row[3], row[4]) for row in rows}
    has_next = set(_not_drafts().filter(previous_edition_id__in=call_ids).values_list("previous_edition_id", flat=True))
    return by_pk, has_next


def _as_date(value):
    """A date column read by raw SQL (SQLite gives text)."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _estimates(rows, candidates: set[int], on: datetime.date) -> dict[int, ExpectedEdition]:
    """The estimate of each candidate that is a published latest edition of a series. A call whose
    next edition exists (published or archived) is not the latest: the announced edition
    supersedes any estimate."""
    by_pk, has_next = rows
    estimates = {}
    for pk in candidates:
        if pk not in by_pk:
            continue
        _pk, previous, *_rest, state = by_pk[pk]
        if state != PublicationState.PUBLISHED or pk in has_next or previous not in by_pk:
            continue
        series, seen, current = [], set(), pk
        while current in by_pk and current not in seen:
            seen.add(current)
            row = by_pk[current]
            series.append(Edition(pk=row[0], opens_on=row[2], opens_on_precision=row[3]))
            current = row[1]
        if estimate := expected_next_edition(list(reversed(series)), on):
            estimates[pk] = estimate
    return estimates
