"""Domain rules of the registry, expressed on querysets in the domain's words."""
import datetime
import functools
import operator

from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from .choices import PublicationState, Scope, Status


def today():
    """The registry's 'today', in its time zone (Europe/Paris)."""
    return timezone.localdate()


def _rounds():
    from .models import Round

    return Round.objects.filter(call=OuterRef("pk"))


def _call_regions():
    from .models import Call

    return Call.regions.through.objects.filter(call=OuterRef("pk"))


def _unrestricted_by_region() -> Q:
    return ~Q(scope=Scope.REGIONAL) | ~Exists(_call_regions())


def _dated_rounds():
    """Rounds that give a date: a round named without any date says nothing of the status."""
    return _rounds().filter(Q(opens_on__isnull=False) | Q(closes_on__isnull=False))


def _rolling_window_running(on) -> Q:
    """A rolling call whose own window holds `on`: opened (or no opening date), not closed."""
    return Q(is_rolling=True) & ~Q(opens_on__gt=on) & (Q(closes_on__isnull=True) | Q(closes_on__gte=on))


def _dates_unknown() -> Q:
    """Neither an opening nor a closing date and not rolling (rounds with dates checked apart)."""
    return Q(opens_on__isnull=True, closes_on__isnull=True, is_rolling=False)


def _round_opened(on) -> Q:
    """A round has opened on `on`: on its own opening date or, when it gives none, on its call's."""
    undated_call_opened = Q(call__opens_on__isnull=True) | Q(call__opens_on__lte=on)
    return Q(opens_on__lte=on) | (Q(opens_on__isnull=True) & undated_call_opened)


def status_conditions(on: datetime.date | None = None) -> dict[str, Q]:
    """The rules of `CallQuerySet.with_status()` (and `Call.status_on()`) as one condition per status.

    Filtering and counting with these conditions on plain columns lets the database use its
    indexes and hash the rounds once, instead of computing a status for every row first.
    """
    on = on or today()
    rounds = _rounds()
    has_rounds = Exists(_dated_rounds())
    open_round = Exists(rounds.filter(_round_opened(on), closes_on__gte=on))
    future_round = Exists(rounds.filter(opens_on__gt=on))
    not_opened_yet = Q(opens_on__gt=on)
    is_open = (
        open_round | _rolling_window_running(on) | (~has_rounds & ~not_opened_yet & Q(closes_on__gte=on))
    )
    is_upcoming = ~is_open & (future_round | not_opened_yet)
    is_unknown = ~has_rounds & _dates_unknown()
    return {
        Status.OPEN: is_open,
        Status.UPCOMING: is_upcoming,
        Status.CLOSED: ~is_open & ~is_upcoming & ~is_unknown,
        Status.DATES_UNKNOWN: is_unknown,
    }


def status_condition(statuses, on=None) -> Q:
    """Calls whose derived status is one of `statuses` (not empty), as a filter condition."""
    statuses = set(statuses)
    conditions = status_conditions(on)
    if statuses >= {Status.OPEN, Status.UPCOMING} and Status.CLOSED not in statuses:
        # The search's default, in one pass: anything still to close or to open.
        on = on or today()
        still_ahead = (
            Exists(_rounds().filter(Q(closes_on__gte=on) | Q(opens_on__gt=on)))
            | Q(opens_on__gt=on) | _rolling_window_running(on)
            | (~Exists(_dated_rounds()) & Q(closes_on__gte=on))
        )
        if Status.DATES_UNKNOWN in statuses:
            return still_ahead | conditions[Status.DATES_UNKNOWN]
        return still_ahead
    return functools.reduce(operator.or_, (conditions[status] for status in sorted(statuses)))


class CallQuerySet(models.QuerySet):
    def published(self):
        """Calls visible to the public: published by a curator (not drafts, not archived)."""
        return self.filter(publication_state=PublicationState.PUBLISHED)

    def drafts(self):
        """Calls waiting for a curator's review, such as partners' submissions."""
        return self.filter(publication_state=PublicationState.DRAFT)

    def with_status(self, on: datetime.date | None = None):
        """Annotate `current_status` and `next_deadline`, derived from the dates on `on` (today).

        The rules, in order (`Call.status_on()` is the same in Python, `status_conditions()` as
        filter conditions; a test checks the three agree):
        - open while a round is open (opened on its own date, or on its call's when it gives none,
          and closing on or after `on`), or while a rolling call's own window holds `on` (rounds or not);
        - upcoming while a round, or the call itself, is still to open;
        - a call with rounds that give dates is closed otherwise;
        - without such rounds, open until its closing date when that date is known and not past;
        - "dates not given by the sources" when it is not rolling and has neither an opening nor
          a closing date (nor dated rounds): we cannot say it is closed;
        - closed otherwise (e.g. an opening date passed and no known deadline).
        `next_deadline` is the nearest round closing date from `on`, else the call's closing
        date if not past.
        """
        from .models import Round

        on = on or today()
        rounds = Round.objects.filter(call=OuterRef("pk"))
        open_round = rounds.filter(_round_opened(on), closes_on__gte=on)
        future_round = rounds.filter(opens_on__gt=on)
        next_round_deadline = (
            rounds.filter(closes_on__gte=on).order_by("closes_on").values("closes_on")[:1]
        )
        dated_rounds = rounds.filter(Q(opens_on__isnull=False) | Q(closes_on__isnull=False))
        return self.annotate(
            current_status=Case(
                When(Exists(open_round), then=Value(Status.OPEN)),
                When(_rolling_window_running(on), then=Value(Status.OPEN)),
                When(Exists(future_round), then=Value(Status.UPCOMING)),
                When(opens_on__gt=on, then=Value(Status.UPCOMING)),
                When(Exists(dated_rounds), then=Value(Status.CLOSED)),
                When(closes_on__gte=on, then=Value(Status.OPEN)),
                When(_dates_unknown(), then=Value(Status.DATES_UNKNOWN)),
                default=Value(Status.CLOSED),
                output_field=models.CharField(),
            ),
            next_deadline=Coalesce(
                Subquery(next_round_deadline),
                Case(When(closes_on__gte=on, then="closes_on"), default=None),
                output_field=models.DateField(),
            ),
        )

    def with_statuses(self, statuses, on=None):
        """Calls whose derived status is one of `statuses` (upcoming, open, closed)."""
        return self.with_status(on).filter(status_condition(statuses, on))

    def open(self, on=None):
        """Calls an applicant can apply to today."""
        return self.with_statuses([Status.OPEN], on)

    def upcoming(self, on=None):
        """Calls announced but not open yet."""
        return self.with_statuses([Status.UPCOMING], on)

    def closed(self, on=None):
        """Calls whose (last) deadline has passed, or whose dates say nothing of an opening."""
        return self.with_statuses([Status.CLOSED], on)

    def dates_unknown(self, on=None):
        """Calls whose sources give no dates: neither open, upcoming nor closed as far as we know."""
        return self.with_statuses([Status.DATES_UNKNOWN], on)

    def published_between(self, start: datetime.datetime, end: datetime.datetime):
        """Calls first published after the instant `start` and no later than `end`: newly published ones."""
        return self.filter(published_at__gt=start, published_at__lte=end)

    def opened_between(self, start: datetime.date, on: datetime.date | None = None):
        """Calls open on `on` (today) that were not open on `start`: they opened in between.

        "Open" is the rule of `with_status()` (as `status_conditions`), read on both days.
        """
        on = on or today()
        return self.filter(status_conditions(on)[Status.OPEN]).exclude(status_conditions(start)[Status.OPEN])

    def next_deadline_within(self, days: int, on: datetime.date | None = None):
        """Calls whose next deadline (see `with_status()`) falls within `days` days of `on` (today), both included."""
        on = on or today()
        return self.with_status(on).filter(next_deadline__lte=on + datetime.timedelta(days=days))

    def for_applicants_in_france(self):
        """Leave out foreign schemes (kept as references): national or regional for another country."""
        return self.exclude(~Q(country="FR"), scope__in=[Scope.NATIONAL, Scope.REGIONAL])

    def without_regional_restriction(self):
        """National, European and international calls, and regional ones that name no region."""
        return self.filter(_unrestricted_by_region())

    def open_to_region(self, code: str):
        """Calls an applicant located in region `code` (INSEE) may apply to."""
        in_region = Exists(_call_regions().filter(region=code))
        return self.for_applicants_in_france().filter(_unrestricted_by_region() | in_region)

    def not_verified_since(self, days: int, on=None):
        """Calls whose facts nobody has checked against their sources for `days` days."""
        limit = (on or today()) - datetime.timedelta(days=days)
        return self.filter(Q(last_verified_on__isnull=True) | Q(last_verified_on__lt=limit))

    def with_max_ceiling(self):
        """Annotate `max_ceiling`: the highest per-project ceiling (null when none is stated)."""
        from .models import Ceiling

        highest = Ceiling.objects.filter(call=OuterRef("pk")).order_by("-amount_eur").values("amount_eur")[:1]
        return self.annotate(max_ceiling=Subquery(highest, output_field=models.BigIntegerField()))

    def for_listing(self):
        """What every list of calls shows: status, next deadline, highest ceiling, related rows."""
        return (
            self.with_status()
            .with_max_ceiling()
            .select_related("programme")
            .prefetch_related("funder_roles__funder", "themes", "beneficiaries", "regions", "aid_forms")
        )

    def search(self, text: str):
        """Full-text search in French, case- and accent-insensitive and stemmed, ranked.

        On PostgreSQL it uses the `french_unaccent` text search configuration (created by a
        migration, with a GIN index on the same expression) and annotates `rank`. On SQLite,
        each word, unaccented and stripped of common French endings, must appear in the title,
        summary or description; `rank` counts matches in the title first.
        """
        from .search import search_calls

        return search_calls(self, text)
