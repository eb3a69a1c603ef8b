"""Domain rules of the registry, expressed on querysets in the domain's words."""
import datetime
import functools
import operator

from django.apps import apps
from django.db import models
from django.db.models import Exists, F, OuterRef, Q

from . import date_facts
from .choices import PublicationState, Status
from .clock import today


def _facet_rows():
    # Looked up by name: the models import this module, not the other way round.
    return apps.get_model("calls", "CallFacet").objects


def status_conditions(on: datetime.date | None = None) -> dict[str, Q]:
    """One filter condition per status on `on` (today), over the read model's stored date facts.

    The rules are written once, in `calls.date_facts` (`DateFacts.status_on` in Python, the same
    conditions in SQL); a property test checks the two agree over generated calls and days.
    """
    return date_facts.status_conditions(on or today())


def status_expression(on: datetime.date | None = None):
    """The status on `on` (today) as an SQL expression over the stored date facts."""
    return date_facts.status_expression(on or today())


def status_condition(statuses, on=None) -> Q:
    """Calls whose derived status is one of `statuses` (not empty), as a filter condition."""
    statuses = set(statuses)
    on = on or today()
    conditions = status_conditions(on)
    if statuses >= {Status.OPEN, Status.UPCOMING} and Status.CLOSED not in statuses:
        # The search's default, in two indexed comparisons: anything still to close or to open.
        still_ahead = date_facts.still_ahead_condition(on)
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
        """Annotate `current_status` and `next_deadline` on `on` (today), from the stored date facts.

        The rules are those of `calls.date_facts` (open while an open period holds the day;
        upcoming while an opening is still to come; "dates not given by the sources" when the
        sources give no date; closed otherwise; the next deadline is the nearest last day of a
        period not past). `Call.status_on()` applies the same rules in Python.
        """
        on = on or today()
        return self.annotate(
            current_status=date_facts.status_expression(on),
            next_deadline=date_facts.next_deadline_expression(on),
            last_open_day=F("index__open_until"),  # the last day it is open (a sort key of past calls)
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
        return self.alias(deadline_ahead=date_facts.next_deadline_expression(on)).filter(
            deadline_ahead__range=(on, on + datetime.timedelta(days=days))
        )

    def for_applicants_in_france(self):
        """Leave out foreign schemes (kept as references): national or regional for another country
        (`Call.is_for_applicants_in_france`, stored in the read model). The one rule the default
        search, the home page and the charts read."""
        return self.filter(index__for_applicants_in_france=True)

    def without_regional_restriction(self):
        """Calls for applicants in France wherever they are: national, European and international
        calls, and regional ones that name no region (`Call.is_open_to_every_region`)."""
        return self.filter(index__open_to_every_region=True)

    def with_facet_value(self, facet: str, values):
        """Calls found under `facet` (theme, funder, funder_kind, aid_form, programme, beneficiary,
        region) by one of `values`: the read model's facet rows, which the facets count too."""
        return self.filter(Exists(_facet_rows().filter(call_index=OuterRef("pk"), facet=facet, value__in=values)))

    def open_to_region(self, code: str):
        """Calls an applicant located in region `code` (INSEE) may apply to: those open to every
        region of France, and regional ones that name `code`."""
        named = Exists(_facet_rows().filter(call_index=OuterRef("pk"), facet="region", value=code))
        return self.filter(Q(index__open_to_every_region=True) | named)

    def for_beneficiaries(self, codes):
        """Calls open to one of the beneficiaries `codes`: those naming one, and those naming none
        (they may apply)."""
        named = Exists(_facet_rows().filter(call_index=OuterRef("pk"), facet="beneficiary", value__in=codes))
        return self.filter(Q(index__names_no_beneficiary=True) | named)

    def foreign_references(self):
        """The foreign schemes kept as references: the calls `for_applicants_in_france` leaves out."""
        return self.filter(index__for_applicants_in_france=False)

    def with_deadline_between(self, first=None, last=None):
        """Calls with one deadline (their own, or a round's: the last day of one of their open
        periods, `calls.date_facts`) from `first` to `last`, both included (either may be None)."""
        bounds = {"ends_on__lt": date_facts.LATEST}
        if first:
            bounds["ends_on__gte"] = first
        if last:
            bounds["ends_on__lte"] = last
        return self.filter(Exists(date_facts.periods_of_outer_call().filter(**bounds)))

    def with_opening_between(self, first=None, last=None):
        """Calls with one opening (their own, or a round's) from `first` to `last`, both included."""
        bounds = {}
        if first:
            bounds["opens_on__gte"] = first
        if last:
            bounds["opens_on__lte"] = last
        rounds = apps.get_model("calls", "Round").objects.filter(call=OuterRef("pk"), **bounds)
        return self.filter(Q(**bounds) | Exists(rounds))

    def not_verified_since(self, days: int, on=None):
        """Calls whose facts nobody has checked against their sources for `days` days."""
        limit = (on or today()) - datetime.timedelta(days=days)
        return self.filter(Q(last_verified_on__isnull=True) | Q(last_verified_on__lt=limit))

    def with_max_ceiling(self):
        """Annotate `max_ceiling`: the highest per-project ceiling (null when none is stated)."""
        return self.annotate(max_ceiling=F("index__max_ceiling_eur"))

    def listed(self):
        """What the public surfaces list: published calls with the listing annotations (the one
        selector of the HTML search, feeds, alerts and the API's readers)."""
        return self.published().for_listing()

    def for_listing(self):
        """What every list of calls shows: status, next deadline, highest ceiling, related rows."""
        return (
            self.with_status()
            .with_max_ceiling()
            .select_related("programme")
            .prefetch_related("funder_roles__funder", "themes", "beneficiaries", "regions", "aid_forms")
        )

    def for_cards(self):
        """What a list of call cards reads (`calls.cards`): the listing annotations and, from the
        read model's stored document, the call's funders, beneficiaries, themes and regions; no
        related rows, so a page of cards is one query."""
        from django.db.models.fields.json import KeyTransform

        from .cards import DOCUMENT_KEYS

        parts = {f"card_{key}": KeyTransform(key, "index__document") for key in DOCUMENT_KEYS}
        # Why an undated call reads closed (`closed_because`).
        parts["card_succeeded_on"] = F("index__succeeded_on")
        return self.with_status().with_max_ceiling().annotate(**parts)

    def listed_cards(self):
        """Published calls as the public lists show them in cards (the search, home, funder and
        programme pages)."""
        return self.published().for_cards()

    def search(self, text: str):
        """Full-text search in French of the read model's stored search document; annotates `rank`.

        The document holds the call's title (first in rank), summary, description, eligibility
        and type, its funders' names and acronyms, its programme and the programme's parents,
        its laureates. Every word is required, "quoted words" are a phrase, `-word` excludes,
        `ou` / `or` joins, and synonyms find each other (AAP and "appel à projets", AMI,
        startup / start-up / jeune pousse…): see `calls.search`. Case and accents are ignored
        and words stemmed: on PostgreSQL by the `french_unaccent` configuration over the stored
        tsvector (GIN-indexed), ranked by ts_rank; on SQLite over the stored plain text, ranked
        by the words found in the title.
        """
        from .search import search_calls

        return search_calls(self, text)
