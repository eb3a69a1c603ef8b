"""A call's date facts: what its status on any day follows from, and that today's date doesn't change.

The status of a call (open, upcoming, closed, dates not given) is never stored: it depends on
today. What is stored, per call, in the read model (`calls.models.CallIndex`), are these facts,
computed once by the write path from the call's dates and its rounds' dates:

- its **open periods**: the days an applicant can apply, each from a first day (or "always") to a
  last day (or "no end"): a rolling call's own window, each dated round (from its own opening date,
  or its call's when it gives none, to its closing date), or, for a call without dated rounds, its
  own window when it has a closing date;
- its **last opening**: the latest opening date of the call or of a round, so that a call still to
  open is "upcoming";
- whether its **dates are unknown**: not rolling nor permanent, neither an opening nor a closing
  date, no dated round, and no laureates announced (an edition whose laureates are known is over);
- its **edition year**, when its dates are unknown but its edition is named by a year ("i-Lab
  2023"): once that year has passed, the edition is over;
- when its dates are unknown, the day its **next edition** had surely opened by (`succeeded_on`:
  that edition's first opening date, or else its first closing date): once it has, this one is over.

A scheme whose page says it stopped or was replaced (`discontinued`) has no open period without an
end, and its dates are not "unknown": it is closed unless a dated period still holds.

A **permanent** scheme (a funder's standing aid with no call window, `Recurrence.PERMANENT`) is open
like a rolling call: from its opening date (or always) to its closing date (or with no end); an end
date closes it.

From them, the status on a day `on` is (`DateFacts.status_on`, and in SQL `status_conditions`):
open while a period holds `on`; otherwise upcoming while the last opening is after `on`; otherwise
"dates not given" when the dates are unknown, no edition year has passed and no next edition has
opened; otherwise closed (on evidence: its dates, its laureates, its past edition year, its page
saying it stopped, or its next edition). The next deadline is the nearest
last day of a period that is not past: a closed call never shows a future deadline.
"""
import dataclasses
import datetime
from collections.abc import Iterable

from django.apps import apps
from django.db.models import Case, DateField, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from .choices import PublicationState, Recurrence, Status

# Stored in place of "no first day" and "no last day", so that SQL compares plain dates. The
# registry's own dates are 1990-2100 (`calls.dates`): these can't be mistaken for one.
EARLIEST = datetime.date(1, 1, 1)
LATEST = datetime.date(9999, 12, 31)

Period = tuple[datetime.date, datetime.date]


@dataclasses.dataclass(frozen=True)
class DateFacts:
    """The date facts of one call (see the module's docstring)."""

    periods: tuple[Period, ...]
    last_opening: datetime.date | None
    dates_unknown: bool
    edition_year: int | None = None
    succeeded_on: datetime.date | None = None

    @property
    def open_from(self) -> datetime.date:
        """The first day of the earliest period (LATEST when the call is never open)."""
        return min((start for start, _ in self.periods), default=LATEST)

    @property
    def open_until(self) -> datetime.date:
        """The last day of the latest period (EARLIEST when the call is never open)."""
        return max((end for _, end in self.periods), default=EARLIEST)

    @property
    def deadlines(self) -> list[datetime.date]:
        """The periods' last days, soonest first ("no end" is no deadline)."""
        return sorted({end for _, end in self.periods if end != LATEST})

    def is_open_on(self, on: datetime.date) -> bool:
        return any(start <= on <= end for start, end in self.periods)

    def status_on(self, on: datetime.date) -> str:
        """The status on `on`: the one rule, in Python (`status_conditions` is the same in SQL)."""
        if self.is_open_on(on):
            return Status.OPEN
        if self.last_opening is not None and self.last_opening > on:
            return Status.UPCOMING
        if self.dates_unknown and not self.edition_passed(on) and not self.succeeded(on):
            return Status.DATES_UNKNOWN
        return Status.CLOSED

    def edition_passed(self, on: datetime.date) -> bool:
        """Whether the year the edition is named by is over on `on`."""
        return self.edition_year is not None and self.edition_year < on.year

    def succeeded(self, on: datetime.date) -> bool:
        """Whether the next edition had opened by `on`."""
        return self.succeeded_on is not None and self.succeeded_on <= on

    def next_deadline(self, on: datetime.date) -> datetime.date | None:
        """The nearest deadline on or after `on`: the last day of a period not past."""
        return next((day for day in self.deadlines if day >= on), None)


def date_facts(
    *, opens_on: datetime.date | None, closes_on: datetime.date | None, is_rolling: bool,
    rounds: Iterable[tuple[datetime.date | None, datetime.date | None]],
    permanent: bool = False, laureates_announced: bool = False, edition_year: int | None = None,
    discontinued: bool = False, next_edition_opened_by: datetime.date | None = None,
) -> DateFacts:
    """The date facts of a call with these dates and rounds (`(opens_on, closes_on)` pairs);
    `next_edition_opened_by` is `opened_by()` of its next edition's facts."""
    dated_rounds = [(start, end) for start, end in rounds if start is not None or end is not None]
    periods = set()
    is_rolling = is_rolling or permanent  # a standing scheme is open as a rolling call is
    if is_rolling and not (discontinued and closes_on is None):
        periods.add((opens_on or EARLIEST, closes_on or LATEST))
    for start, end in dated_rounds:
        if end is not None:  # a round without a closing date is never open; its opening still counts
            periods.add((start or opens_on or EARLIEST, end))
    if not dated_rounds and not is_rolling and closes_on is not None:
        periods.add((opens_on or EARLIEST, closes_on))
    openings = [day for day in [opens_on, *(start for start, _ in dated_rounds)] if day is not None]
    no_dates = not is_rolling and opens_on is None and closes_on is None and not dated_rounds
    unknown = no_dates and not laureates_announced and not discontinued
    return DateFacts(
        periods=tuple(sorted(periods)),
        last_opening=max(openings, default=None),
        dates_unknown=unknown,
        edition_year=edition_year if no_dates else None,
        succeeded_on=next_edition_opened_by if unknown else None,
    )


def opened_by(*, opens_on: datetime.date | None, closes_on: datetime.date | None, rounds) -> datetime.date | None:
    """The day a call had surely opened by: its first opening date (its own or a round's), or else
    its first closing date; None for a call without dates."""
    openings = [day for day in [opens_on, *(start for start, _ in rounds)] if day is not None]
    if openings:
        return min(openings)
    closings = [day for day in [closes_on, *(end for _, end in rounds)] if day is not None]
    return min(closings, default=None)


def facts_of_call(call, rounds=None, laureates=None) -> DateFacts:
    """The date facts of a `Call` with its rounds and laureates (those given, else those it has),
    and its next edition when published."""
    rounds = call.rounds.all() if rounds is None else rounds
    laureates = call.laureates.all() if laureates is None else laureates
    return date_facts(
        opens_on=call.opens_on, closes_on=call.closes_on, is_rolling=call.is_rolling,
        rounds=[(r.opens_on, r.closes_on) for r in rounds],
        permanent=call.recurrence == Recurrence.PERMANENT,
        laureates_announced=any(True for _ in laureates),
        edition_year=call.edition_year,
        discontinued=call.discontinued,
        next_edition_opened_by=_next_edition_opened_by(call),
    )


def _next_edition_opened_by(call) -> datetime.date | None:
    """`opened_by()` of the call's published next edition (None without one)."""
    try:
        following = call.next_edition
    except call.__class__.next_edition.RelatedObjectDoesNotExist:
        return None
    if following is None or following.publication_state != PublicationState.PUBLISHED:
        return None
    return opened_by(
        opens_on=following.opens_on, closes_on=following.closes_on,
        rounds=[(r.opens_on, r.closes_on) for r in following.rounds.all()],
    )


# -- The same rules in SQL, over the stored columns of `CallIndex` -------------------------------

def periods_of_outer_call():
    """The outer call's periods (a call and its `CallIndex` row share their primary key)."""
    # Looked up by name: the models import this module, not the other way round.
    return apps.get_model("calls", "CallPeriod").objects.filter(call_index=OuterRef("pk"))


def open_condition(on: datetime.date, prefix: str = "index__") -> Q:
    """Calls open on `on`. Most calls have one period: their first and last days decide, and the
    period table is read only for calls with several."""
    within = Q(**{f"{prefix}open_from__lte": on, f"{prefix}open_until__gte": on})
    several = Q(**{f"{prefix}period_count__gt": 1})
    holding = Exists(periods_of_outer_call().filter(starts_on__lte=on, ends_on__gte=on))
    return within & (~several | holding)


def still_ahead_condition(on: datetime.date, prefix: str = "index__") -> Q:
    """Calls open or upcoming on `on`: a period not ended, or an opening still to come (two
    indexed comparisons: the search's default)."""
    return Q(**{f"{prefix}open_until__gte": on}) | Q(**{f"{prefix}last_opening__gt": on})


def status_conditions(on: datetime.date, prefix: str = "index__") -> dict[str, Q]:
    """One filter condition per status on `on`: `DateFacts.status_on` in SQL."""
    is_open = open_condition(on, prefix)
    is_upcoming = ~is_open & Q(**{f"{prefix}last_opening__gt": on})
    is_unknown = Q(**{f"{prefix}dates_unknown": True}) & (
        Q(**{f"{prefix}edition_year__isnull": True}) | Q(**{f"{prefix}edition_year__gte": on.year})
    ) & (Q(**{f"{prefix}succeeded_on__isnull": True}) | Q(**{f"{prefix}succeeded_on__gt": on}))
    return {
        Status.OPEN: is_open,
        Status.UPCOMING: is_upcoming,
        Status.CLOSED: ~is_open & ~Q(**{f"{prefix}last_opening__gt": on}) & ~is_unknown,
        Status.DATES_UNKNOWN: is_unknown,
    }


def status_expression(on: datetime.date, prefix: str = "index__"):
    """The status on `on` as an SQL expression (to annotate a listing)."""
    conditions = status_conditions(on, prefix)
    return Case(
        When(conditions[Status.OPEN], then=Value(Status.OPEN)),
        When(Q(**{f"{prefix}last_opening__gt": on}), then=Value(Status.UPCOMING)),
        When(conditions[Status.DATES_UNKNOWN], then=Value(Status.DATES_UNKNOWN)),
        default=Value(Status.CLOSED),
    )


def next_deadline_expression(on: datetime.date, prefix: str = "index__"):
    """`DateFacts.next_deadline` in SQL: with one period, its last day if not past; with several,
    the nearest last day not past, read from the period table (only for those calls)."""
    single = Case(
        When(Q(**{f"{prefix}open_until__gte": on}) & ~Q(**{f"{prefix}open_until": LATEST}),
             then=F(f"{prefix}open_until")),
        default=None, output_field=DateField(),
    )
    nearest = (
        periods_of_outer_call().filter(ends_on__gte=on).exclude(ends_on=LATEST)
        .order_by("ends_on").values("ends_on")[:1]
    )
    return Case(
        When(Q(**{f"{prefix}period_count__gt": 1}), then=Coalesce(Subquery(nearest), None, output_field=DateField())),
        default=single, output_field=DateField(),
    )
