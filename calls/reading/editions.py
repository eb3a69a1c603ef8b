"""Series of editions of a call (`Call.previous_edition` chains) and when the next one can be expected.

No funder gives the date of an edition it has not announced; the registry can still say what
the past editions suggest ("opened in March in 2022, 2023 and 2024"), or what a source says of the
series' rhythm ("launched every year": `Call.editions_per_year`, cited by a source covering
`recurrence`). Such an estimate is shown as an estimate, with its basis, never as a date the
funder gave, and never counted as upcoming.
"""
import dataclasses
import datetime

from django.core.cache import cache
from django.db import connections, router
from django.db.models import Q
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calls.choices import DatePrecision, PublicationState
from calls.models import Call
from calls.querysets import today
from calls.reading.read_model import current_version

EXPECTED_EDITIONS_CACHE_SECONDS = 24 * 3600


@dataclasses.dataclass(frozen=True)
class Edition:
    """What the estimate reads of one edition: when it opened, and how precisely that is known."""

    pk: int
    opens_on: datetime.date | None
    opens_on_precision: str = DatePrecision.DAY
    # A source says the series comes back this many times a year (the latest edition's word).
    editions_per_year: int | None = None
    edition_year: int | None = None


@dataclasses.dataclass(frozen=True)
class ExpectedEdition:
    """The month a series' next edition can be expected in, and the past openings it rests on."""

    month: datetime.date  # the first day of the expected month (of the year, when `precision` is a year)
    basis: tuple[datetime.date, ...]  # the openings of the past editions, oldest first
    precision: str = DatePrecision.MONTH
    rhythm_per_source: bool = False  # the basis is a source saying how often the series comes back
    editions_per_year: int = 1

    @property
    def basis_text(self) -> str:
        """"past editions opened in March in 2022, 2023 and 2024", in the active language."""
        if self.rhythm_per_source:
            last = self.basis[-1]
            when = f"{MONTHS[last.month]} {last.year}" if self.precision == DatePrecision.MONTH else last.year
            if self.editions_per_year == 1:
                return _("its sources say it comes back every year; the last edition in the registry opened in "
                         "%(when)s") % {"when": when}
            return ngettext(
                "its sources say it comes back %(n)d time a year; the last edition in the registry opened in %(when)s",
                "its sources say it comes back %(n)d times a year; the last edition in the registry opened in %(when)s",
                self.editions_per_year) % {"n": self.editions_per_year, "when": when}
        years = [str(day.year) for day in self.basis]
        listed = _("%(first)s and %(last)s") % {"first": ", ".join(years[:-1]), "last": years[-1]}
        return _("past editions opened in %(month)s in %(years)s") % {
            "month": MONTHS[self.month.month], "years": listed}

    @property
    def month_text(self) -> str:
        if self.precision == DatePrecision.YEAR:
            return str(self.month.year)
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
        return _rhythm_per_source(series, on)
    openings = []
    for edition in series:
        if edition.opens_on is None or edition.opens_on_precision == DatePrecision.YEAR or edition.opens_on > on:
            return _rhythm_per_source(series, on)
        openings.append(edition.opens_on)
    months = {day.month for day in openings}
    years = [day.year for day in openings]
    if len(months) != 1 or any(later - earlier != 1 for earlier, later in zip(years, years[1:], strict=False)):
        return _rhythm_per_source(series, on)
    expected = datetime.date(years[-1] + 1, openings[-1].month, 1)
    month_end = datetime.date(expected.year + expected.month // 12, expected.month % 12 + 1, 1)
    if month_end <= on:
        return None
    return ExpectedEdition(month=expected, basis=tuple(openings))


# A yearly series whose latest edition in the registry is older than this is not projected.
YEARLY_LOOKAHEAD_YEARS = 3


def _rhythm_per_source(series: list[Edition], on: datetime.date) -> ExpectedEdition | None:
    """The estimate when the past dates tell no rhythm but a source says how often the series comes
    back (`editions_per_year` of its latest edition that says it): from the month the latest
    edition opened, every 12 / n months, the first such month not ended yet; or, for a yearly
    series known only by its year (its opening year, else its edition year), the next year still
    running. Not for an edition still to open, nor for a series whose latest edition is more than
    `YEARLY_LOOKAHEAD_YEARS` old: it may have stopped."""
    if not series:
        return None
    stated = next((e.editions_per_year for e in reversed(series) if e.editions_per_year is not None), None)
    last = series[-1]
    if stated is None or 12 % stated or (last.opens_on is not None and last.opens_on > on):
        return None  # no rhythm stated, or one that tells no month (5 a year), or an edition to come
    if last.opens_on is not None and last.opens_on_precision != DatePrecision.YEAR:
        if on.year - last.opens_on.year > YEARLY_LOOKAHEAD_YEARS:
            return None
        step = 12 // stated  # months between two editions
        index = last.opens_on.year * 12 + last.opens_on.month - 1 + step
        while _month_end(index // 12, index % 12 + 1) <= on:
            index += step
        return ExpectedEdition(month=datetime.date(index // 12, index % 12 + 1, 1), basis=(last.opens_on,),
                               rhythm_per_source=True, editions_per_year=stated)
    if stated != 1:
        return None  # several a year, and the month unknown: no estimate
    year = last.opens_on.year if last.opens_on is not None else last.edition_year
    if year is None or on.year - year > YEARLY_LOOKAHEAD_YEARS:
        return None
    return ExpectedEdition(month=datetime.date(max(year + 1, on.year), 1, 1), basis=(datetime.date(year, 1, 1),),
                           precision=DatePrecision.YEAR, rhythm_per_source=True)


def _month_end(year: int, month: int) -> datetime.date:
    """The first day after that month."""
    return datetime.date(year + month // 12, month % 12 + 1, 1)


def _cache_key(on: datetime.date) -> str:
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


_ROW = ("pk", "previous_edition_id", "opens_on", "opens_on_precision", "editions_per_year", "edition_year",
        "publication_state")
# Series are a handful of editions long; this bounds the walk up a malformed chain.
MAX_EDITIONS_BACK = 50


def _not_drafts():
    # Archived past editions still tell the rhythm; a draft announces nothing.
    return Call.objects.exclude(publication_state=PublicationState.DRAFT).order_by()


def _expected_editions(on: datetime.date) -> dict[int, ExpectedEdition]:
    """One query: every call that is not a draft and may belong to a series (it has a previous
    edition, is one, or its sources say it comes back every year), with its opening date and
    previous edition. The other calls have no estimate (`_estimates`): a single edition with no
    rhythm stated."""
    in_series = (Q(previous_edition__isnull=False) | Q(editions_per_year=1)
                 | Q(pk__in=Call.objects.filter(previous_edition__isnull=False).values("previous_edition_id")))
    rows = list(_not_drafts().filter(in_series).values_list(*_ROW))
    by_pk = {row[0]: row for row in rows}
    return _estimates((by_pk, {row[1] for row in rows if row[1] is not None}), set(by_pk), on)


def _series_rows(call_ids: set[int]):
    """(rows by id, ids with a next edition) for these calls and every edition before them: one
    recursive query up their chains (bounded, so a malformed chain cannot loop), and one for next
    editions, whatever the length of the series."""
    if not call_ids:
        return {}, set()
    table = connections[router.db_for_read(Call)].ops.quote_name(Call._meta.db_table)
    columns = ", ".join(["id", "previous_edition_id", "opens_on", "opens_on_precision", "editions_per_year",
                         "edition_year", "publication_state"])
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
    by_pk = {row[0]: (row[0], row[1], _as_date(row[2]), *row[3:]) for row in rows}
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
        _pk, previous, _opens, _precision, per_year, *_rest, state = by_pk[pk]
        if state != PublicationState.PUBLISHED or pk in has_next:
            continue
        if previous not in by_pk and per_year != 1:  # one edition, and no source telling its rhythm
            continue
        series, seen, current = [], set(), pk
        while current in by_pk and current not in seen:
            seen.add(current)
            row = by_pk[current]
            series.append(Edition(pk=row[0], opens_on=row[2], opens_on_precision=row[3],
                                  editions_per_year=row[4], edition_year=row[5]))
            current = row[1]
        if estimate := expected_next_edition(list(reversed(series)), on):
            estimates[pk] = estimate
    return estimates
