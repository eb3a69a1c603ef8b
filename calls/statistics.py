"""The sector's funding in figures: announced budgets and numbers of calls, per funder kind, year,
theme, and the share of calls open to each region. Read by the "in pictures" page.

What is counted: published calls of schemes in France (foreign references left out, as in the
default search), whatever their status. A call whose funders are of two kinds, or that has two
themes, counts in each; a budget is the call's announced total budget (`total_budget_eur`),
summed over the calls that state one. A call's year is the year of its deadlines: its own
closing date and its rounds' (a call whose rounds close in two years counts in both).
Each figure comes with the search URL that lists the calls behind it.
"""
import dataclasses
from collections import defaultdict
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import get_language

from .choices import REGIONS, FunderKind, Status

ALL_STATUSES = [("status", status) for status in Status.values]


@dataclasses.dataclass
class Figure:
    """One bar: a label, its number of calls and summed budget, and the search behind it."""

    label: str
    calls: int = 0
    budget: int = 0
    budget_calls: int = 0  # how many of the calls state a budget
    url: str = ""
    share: float | None = None  # for shares (regions): calls / all calls


def search_url(*params) -> str:
    """The public search listing every call (all statuses) with `params` (pairs)."""
    return reverse("call-search") + "?" + urlencode([*params, *ALL_STATUSES])


def _calls():
    from .models import Call

    return Call.objects.published().for_applicants_in_france()


def _add(figure, budget):
    figure.calls += 1
    if budget is not None:
        figure.budget += budget
        figure.budget_calls += 1


def funding_in_figures() -> dict:
    """Every chart of the page, as lists of `Figure`s, in six queries whatever the registry's size."""
    from .models import Call, CallFacet, CallFunder, Round

    calls = _calls()
    budgets = dict(calls.values_list("pk", "total_budget_eur"))
    closing = dict(calls.values_list("pk", "closes_on"))

    kinds = {code: Figure(str(label), url=search_url(("funder_kind", code))) for code, label in FunderKind.choices}
    for call_id, kind in CallFunder.objects.filter(call__in=calls).values_list("call_id", "funder__kind").distinct():
        _add(kinds[kind], budgets[call_id])

    years = defaultdict(set)
    for call_id, day in closing.items():
        if day:
            years[day.year].add(call_id)
    for call_id, day in Round.objects.filter(call__in=calls, closes_on__isnull=False).values_list("call_id",
                                                                                                    "closes_on"):
        years[day.year].add(call_id)
    by_year = []
    for year in sorted(years):
        url = search_url(("closes_after", f"{year}-01-01"), ("closes_before", f"{year}-12-31"))
        figure = Figure(str(year), url=url)
        for call_id in years[year]:
            _add(figure, budgets[call_id])
        by_year.append(figure)

    english = (get_language() or "fr").startswith("en")
    themes = {}
    rows = Call.themes.through.objects.filter(call__in=calls).values_list(
        "call_id", "theme__slug", "theme__name", "theme__name_en"
    )
    for call_id, slug, name, name_en in rows:
        label = (name_en or name) if english else name
        figure = themes.setdefault(slug, Figure(label, url=search_url(("theme", slug))))
        _add(figure, budgets[call_id])

    in_france = calls.for_applicants_in_france()
    total = in_france.count()
    everywhere = in_france.without_regional_restriction().count()
    regional = defaultdict(int)
    named = CallFacet.objects.filter(facet="region", call_index__call__in=in_france).values_list("value", flat=True)
    for code in named:
        regional[code] += 1
    regions = []
    for code, name in sorted(REGIONS.items(), key=lambda item: item[1]):
        count = everywhere + regional[code]
        regions.append(Figure(name, calls=count, url=search_url(("region", code)),
                              share=(count / total) if total else None))

    def ranked(figures):
        return sorted((f for f in figures if f.calls), key=lambda f: (-f.calls, f.label))

    return {
        "total": total,
        "by_kind": ranked(kinds.values()),
        "by_year": by_year,
        "by_theme": ranked(themes.values()),
        "regions": regions,
        "unrestricted": everywhere,
    }


# Geometry of the server-rendered bar charts (SVG user units).
CHART_WIDTH = 640
LABEL_WIDTH = 230
BAR_SPACE = 300
ROW_HEIGHT = 26


def bars(figures, value: str) -> dict:
    """Bars for `figures` along `value` ("calls", "budget" or "share"), as SVG coordinates."""
    values = [getattr(f, value) or 0 for f in figures]
    top = max(values, default=0) or 1
    rows = []
    for index, (figure, number) in enumerate(zip(figures, values, strict=True)):
        rows.append({
            "figure": figure, "value": number, "y": index * ROW_HEIGHT,
            "text_y": index * ROW_HEIGHT + ROW_HEIGHT * 0.65,
            "width": f"{max(number / top * BAR_SPACE, 1 if number else 0):.1f}",
            "value_x": f"{LABEL_WIDTH + number / top * BAR_SPACE + 6:.1f}",
        })
    return {"rows": rows, "height": max(len(rows), 1) * ROW_HEIGHT, "width": CHART_WIDTH,
            "label_width": LABEL_WIDTH, "bar_x": LABEL_WIDTH}

