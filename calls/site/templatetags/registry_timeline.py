"""The timeline page's geometry: calls as bars on a shared time axis (SVG user units 0–1000)."""
import datetime

from django import template
from django.utils.dates import MONTHS_AP

from calls.choices import Status
from calls.querysets import today

register = template.Library()
WIDTH = 1000
GROUPS = (Status.CLOSED, Status.OPEN, Status.UPCOMING)


def _bounds(call):
    """The known start and end of a call: its own dates, else its rounds'."""
    rounds = list(call.rounds.all())
    starts = [d for d in [call.opens_on, *(r.opens_on for r in rounds)] if d]
    ends = [d for d in [call.closes_on, *(r.closes_on for r in rounds)] if d]
    return (min(starts) if starts else None), (max(ends) if ends else None)


MONTHS_AHEAD = 12


def _add_months(day, months):
    index = day.month - 1 + months
    return datetime.date(day.year + index // 12, index % 12 + 1, 1)


def _month_tick(month: datetime.date, n: int, x: float) -> dict:
    """The `n`th month of the forward axis: its unambiguous abbreviation ("juin", "juil.": never
    "Jui" for both), and its year on a line of its own on the axis' first month and in January
    (not on a first December, right before the January that gives the next year). On narrow
    screens every other month is named (not the "minor" ones, the last among them), each name
    using its unnamed neighbour's room; the years stay."""
    with_year = month.month == 1 or (n == 0 and month.month != 12)
    return {
        "label": MONTHS_AP[month.month].capitalize(), "year": month.year if with_year else "",
        "x": f"{x:.1f}", "labelled": True, "minor": n % 2 == 1,
    }


@register.simple_tag
def timeline(calls, past=False):
    """Rows grouped as past, ongoing and upcoming, with x positions on a shared time axis.

    By default the axis looks forward: from the first day of this month to twelve months
    later, with a tick per month; bars are clipped to it. With `past`, the axis spans every
    call's years. Calls with no dates go to `undated`.
    """
    now = today()
    spans = [(call, *_bounds(call)) for call in calls]
    if past:
        known = [d for _, start, end in spans for d in (start, end) if d] + [now]
        first = datetime.date(min(known).year, 1, 1)
        last = datetime.date(max(known).year + 1, 1, 1)
    else:
        first = now.replace(day=1)
        last = _add_months(first, MONTHS_AHEAD)
    total = (last - first).days

    def x(day):
        return min(max(round((day - first).days * WIDTH / total, 1), 0), WIDTH)

    def svg(number):
        """SVG wants a dot as decimal separator, whatever the language: format it here, not in the template."""
        return f"{number:.1f}"

    groups = {status: [] for status in GROUPS}
    undated = []
    for call, start, end in spans:
        if call.status == Status.DATES_UNKNOWN or (start is None and end is None and not call.is_rolling):
            undated.append(call)
            continue
        left = x(start) if start else 0
        right = x(end) if end else (x(now) if not call.is_rolling else WIDTH)
        groups.setdefault(call.status, []).append({
            "call": call, "x": svg(left), "width": svg(max(right - left, 4)),
            "open_start": start is None or start < first, "open_end": end is None or end >= last,
            "rounds": [svg(x(r.closes_on)) for r in call.rounds.all() if r.closes_on and first <= r.closes_on < last],
            "sort": start or end or first,
        })
    if past:
        step = max(1, -(-(last.year - first.year) // 12))  # at most about twelve labels
        ticks = [
            {"label": year, "year": "", "x": svg(x(datetime.date(year, 1, 1))),
             "labelled": (year - first.year) % step == 0, "minor": (year - first.year) % 2 == 1}
            for year in range(first.year, last.year)
        ]
    else:
        ticks = [_month_tick(_add_months(first, n), n, x(_add_months(first, n))) for n in range(MONTHS_AHEAD)]
    return {
        "years": ticks, "today_x": svg(x(now)), "width": WIDTH, "undated": undated,
        "first": first, "last": last - datetime.timedelta(days=1), "past": past,
        "groups": [
            {"status": status, "rows": sorted(groups[status], key=lambda row: (row["sort"], row["call"].title))}
            for status in GROUPS
        ],
    }
