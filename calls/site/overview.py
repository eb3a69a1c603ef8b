"""The home page's answer to "what can I apply to now, and what is coming": calls in four groups."""
import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from calls.choices import Status
from calls.querysets import status_condition, today
from calls.reading.cards import attach_cards
from calls.reading.editions import expected_editions

RECENTLY_CLOSED_DAYS = 90
SHOWN_PER_GROUP = 10
MAX_CALLS = 500  # a bound on what one home page reads, whatever the registry's size


def _recently_closed(on):
    """Closed calls whose last deadline (their own, or a round's) fell in the last 90 days."""
    since, before = on - datetime.timedelta(days=RECENTLY_CLOSED_DAYS), on - datetime.timedelta(days=1)
    return status_condition([Status.CLOSED], on) & Q(index__open_until__range=(since, before))


def _far(day):
    return day or datetime.date.max


def home_groups(queryset, on: datetime.date | None = None) -> list[dict]:
    """Open calls by soonest deadline, then upcoming ones by opening date, then the series whose
    next edition can be expected (an estimate, never counted as upcoming), then the calls closed in
    the last 90 days; each group with its count and the search URL that lists it whole.

    `queryset` is what the public sees (published, `for_cards()`); foreign schemes are left out
    as in the default search. One query for the calls, one for the themes' names of their cards.
    """
    on = on or today()
    estimates = expected_editions(on)
    calls = list(
        queryset.for_applicants_in_france()
        .filter(status_condition([Status.OPEN, Status.UPCOMING], on) | _recently_closed(on) | Q(pk__in=list(estimates)))
        .order_by("next_deadline", "opens_on", "pk")[:MAX_CALLS]
    )
    for call in calls:
        call.expected_edition = estimates.get(call.pk)
    opened = sorted((c for c in calls if c.status == Status.OPEN), key=lambda c: (_far(c.next_deadline), c.title))
    coming = sorted((c for c in calls if c.status == Status.UPCOMING), key=lambda c: (_far(c.opens_on), c.title))
    expected = sorted(
        (c for c in calls if c.expected_edition and c.status not in (Status.OPEN, Status.UPCOMING)),
        key=lambda c: (c.expected_edition.month, c.title),
    )
    closed = sorted(
        (c for c in calls if c.status == Status.CLOSED and not c.expected_edition),
        key=lambda c: (c.closes_on or datetime.date.min), reverse=True,
    )
    groups = [
        ("open", _("Open now"), _("Soonest deadline first."), opened, "?status=open"),
        ("upcoming", _("Coming"), _("Announced, not open yet: soonest opening first."), coming, "?status=upcoming"),
        ("expected", _("Next editions expected"),
         _("Estimates from past editions' dates or from what their sources say of their rhythm: no funder "
           "has announced them yet."), expected, ""),
        ("closed", _("Recently closed"), _("Closed in the last 90 days."), closed, "?status=closed"),
    ]
    attach_cards(call for *_, members, _url in groups for call in members[:SHOWN_PER_GROUP])
    return [
        {"key": key, "label": label, "hint": hint, "calls": members[:SHOWN_PER_GROUP], "count": len(members),
         "more_url": url if len(members) > SHOWN_PER_GROUP else ""}
        for key, label, hint, members, url in groups
    ]
