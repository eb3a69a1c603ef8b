"""The timeline page's geometry: calls as bars on a shared time axis (SVG user units 0–1000)."""
import datetime

from django import template

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


@register.simple_tag
def timeline(calls):
    """Rows grouped as past, ongoing and upcoming, with x positions on a shared axis of years."""
    now = today()
    spans = [(call, *_bounds(call)) for call in calls]
    known = [d for _, start, end in spans for d in (start, end) if d] + [now]
    first = datetime.date(min(known).year, 1, 1)
    last = datetime.date(max(known).year + 1, 1, 1)
    total = (last - first).days

    def x(day):
        return round((day - first).days * WIDTH / total, 1)

    def svg(number):
        """SVG wants a dot as decimal separator, whatever the language: format it here, not in the template."""
        return f"{number:.1f}"

    groups = {status: [] for status in GROUPS}
    undated = []
    for call, start, end in spans:
        if start is None and end is None and not call.is_rolling:
            undated.append(call)
            continue
        left = x(start) if start else 0
        right = x(end) if end else (x(now) if not call.is_rolling else WIDTH)
        groups[call.status].append({
            "call": call, "x": svg(left), "width": svg(max(right - left, 4)),
            "open_start": start is None, "open_end": end is None,
            "rounds": [svg(x(r.closes_on)) for r in call.rounds.all() if r.closes_on],
            "sort": start or end or first,
        })
    step = max(1, -(-(last.year - first.year) // 12))  # at most about twelve labels
    years = [
        {"label": year, "x": svg(x(datetime.date(year, 1, 1))), "labelled": (year - first.year) % step == 0}
        for year in range(first.year, last.year)
    ]
    return {
        "years": years, "today_x": svg(x(now)), "width": WIDTH, "undated": undated,
        "groups": [
            {"status": status, "rows": sorted(groups[status], key=lambda row: (row["sort"], row["call"].title))}
            for status in GROUPS
        ],
    }
