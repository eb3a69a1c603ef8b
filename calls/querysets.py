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


def status_conditions(on: datetime.date | None = None) -> dict[str, Q]:
    """The rules of `CallQuerySet.with_status()` as one condition per status.

    Filtering and counting with these conditions on plain columns lets the database use its
    indexes and hash the rounds once, instead of computing a status for every row first.
    """
    on = on or today()
    rounds = _rounds()
    has_rounds = Exists(rounds)
    open_round = Exists(rounds.filter(Q(opens_on__isnull=True) | Q(opens_on__lte=on), closes_on__gte=on))
    future_round = Exists(rounds.filter(opens_on__gt=on))
    not_opened_yet = Q(opens_on__gt=on)
    running = Q(closes_on__gte=on) | Q(is_rolling=True, closes_on__isnull=True)
    is_open = open_round | (~has_rounds & ~not_opened_yet & running)
    is_upcoming = (~open_round & future_round) | (~has_rounds & not_opened_yet)
    return {
        Status.OPEN: is_open,
        Status.UPCOMING: is_upcoming,
        Status.CLOSED: ~is_open & ~is_upcoming,
    }


def status_condition(statuses, on=None) -> Q:
    """Calls whose derived status is one of `statuses` (not empty), as a filter condition."""
    statuses = set(statuses)
    conditions = status_conditions(on)
    if statuses >= {Status.OPEN, Status.UPCOMING} and Status.CLOSED not in statuses:
        # The search's default, in one pass: anything still to close or to open.
        rounds = _rounds()
        on = on or today()
        still_ahead = Q(opens_on__gt=on) | Q(closes_on__gte=on) | Q(is_rolling=True, closes_on__isnull=True)
        return (
            Exists(rounds.filter(closes_on__gte=on)) | Exists(rounds.filter(opens_on__gt=on))
            | (~Exists(rounds) & still_ahead)
        )
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

        The rules, in order:
        - a call with rounds is open while any round is open (opened, and closing on or
          after `on`), upcoming while a round is still to open, closed otherwise;
        - a rolling (open-ended) call is open between its opening and closing dates,
          either of which may be unknown;
        - any other call is open from its opening date (or an unknown one) until its
          closing date; it is only said open when that closing date is known and not past.
        `next_deadline` is the nearest round closing date from `on`, else the call's closing
        date if not past.
        """
        from .models import Round

        on = on or today()
        rounds = Round.objects.filter(call=OuterRef("pk"))
        open_round = rounds.filter(
            Q(opens_on__isnull=True) | Q(opens_on__lte=on), closes_on__gte=on
        )
        future_round = rounds.filter(opens_on__gt=on)
        next_round_deadline = (
            rounds.filter(closes_on__gte=on).order_by("closes_on").values("closes_on")[:1]
        )
        not_opened_yet = Q(opens_on__gt=on)
        return self.annotate(
            has_rounds=Exists(rounds),
            current_status=Case(
                When(Exists(open_round), then=Value(Status.OPEN)),
                When(Exists(future_round), then=Value(Status.UPCOMING)),
                When(has_rounds=True, then=Value(Status.CLOSED)),
                When(not_opened_yet, then=Value(Status.UPCOMING)),
                When(
                    Q(is_rolling=True) & (Q(closes_on__isnull=True) | Q(closes_on__gte=on)),
                    then=Value(Status.OPEN),
                ),
                When(closes_on__gte=on, then=Value(Status.OPEN)),
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
