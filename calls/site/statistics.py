"""The sector's funding in figures: announced budgets and numbers of calls, per funder kind, year,
theme, and the share of calls open to each region. Read by the "in pictures" page.

What is counted: published calls of schemes in France (foreign references left out, as in the
default search), whatever their status. Each bar is the set of calls its search link lists (the
search's own rules, read on the same read-model rows: facet rows for kinds, themes and regions,
open periods for years), so a bar counts each of its calls once and sums each call's announced
total budget (`total_budget_eur`) once, over the calls that state one: a call with two funders of
one kind counts once in that kind's bar. A call whose funders are of two kinds, or that has two
themes, counts in each. A call's years are those of its deadlines (the last days of its open
periods: its own closing date and its rounds'): a call whose deadlines fall in two years counts,
with its whole budget, in both, and the charts say so (`Figure.also_in_other_years`,
the figures' `multi_year`).
Each figure comes with the search URL that lists the calls behind it.
"""
import dataclasses
from collections import defaultdict
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import get_language, ngettext

from calls.choices import REGIONS, FunderKind, Status
from calls.date_facts import LATEST
from calls.models import Call, CallFacet, CallPeriod, Theme
from calls.site.templatetags.registry_format import money

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
    also_in_other_years: int = 0  # for years: how many of its calls count in another year too

    @property
    def years_note(self) -> str:
        """What a year's figures hold that another year's hold too ("" when nothing)."""
        if not self.also_in_other_years:
            return ""
        return ngettext("of which %(n)d also counted in another year", "of which %(n)d also counted in another year",
                        self.also_in_other_years) % {"n": self.also_in_other_years}


def search_url(*params) -> str:
    """The public search listing every call (all statuses) with `params` (pairs)."""
    return reverse("call-search") + "?" + urlencode([*params, *ALL_STATUSES])


def multi_year_notes(multi_year: Figure) -> dict[str, str]:
    """What the two charts by year say of the calls `multi_year` whose deadlines fall in several
    years, counted (with their whole budget) in each: {"calls": ..., "budget": ...}, "" when none."""
    notes = {"calls": "", "budget": ""}
    if multi_year.calls:
        notes["calls"] = ngettext(
            "%(n)d call has deadlines in several years: it counts in each of them.",
            "%(n)d calls have deadlines in several years: each counts in every one of them.",
            multi_year.calls) % {"n": multi_year.calls}
    if multi_year.budget_calls:
        notes["budget"] = ngettext(
            "A multi-year budget counts whole in each year of its deadlines: %(amount)s, announced by "
            "%(n)d call, count in several years, so the bars do not add up.",
            "A multi-year budget counts whole in each year of its deadlines: %(amount)s, announced by "
            "%(n)d calls, count in several years, so the bars do not add up.",
            multi_year.budget_calls) % {"n": multi_year.budget_calls, "amount": money(multi_year.budget)}
    return notes


def _calls():
    return Call.objects.published().for_applicants_in_france()


def _figure(label, url, call_ids, budgets) -> Figure:
    """The bar of the calls `call_ids` (a set: each call once), with their summed stated budgets."""
    stated = [budgets[call_id] for call_id in call_ids if budgets[call_id] is not None]
    return Figure(label, calls=len(call_ids), budget=sum(stated), budget_calls=len(stated), url=url)


def funding_in_figures() -> dict:
    """Every chart of the page, as lists of `Figure`s, in four queries whatever the registry's size."""
    calls = _calls()
    budgets, everywhere = {}, set()
    for call_id, budget, open_to_every_region in calls.values_list(
            "pk", "total_budget_eur", "index__open_to_every_region"):
        budgets[call_id] = budget
        if open_to_every_region:
            everywhere.add(call_id)

    # The facet rows the search's funder_kind, theme and region filters read.
    by_facet = defaultdict(lambda: defaultdict(set))
    for call_id, facet, value in CallFacet.objects.filter(
            call_index__call__in=calls, facet__in=("funder_kind", "theme", "region")).values_list(
            "call_index_id", "facet", "value"):
        by_facet[facet][value].add(call_id)

    kinds = [
        _figure(str(label), search_url(("funder_kind", code)), by_facet["funder_kind"][code], budgets)
        for code, label in FunderKind.choices
    ]

    # The periods the search's closes_after / closes_before filters read (an open-ended one has no deadline).
    years = defaultdict(set)
    for call_id, day in CallPeriod.objects.filter(call_index__call__in=calls).exclude(ends_on=LATEST).values_list(
            "call_index_id", "ends_on"):
        years[day.year].add(call_id)
    by_year = []
    for year in sorted(years):
        url = search_url(("closes_after", f"{year}-01-01"), ("closes_before", f"{year}-12-31"))
        figure = _figure(str(year), url, years[year], budgets)
        others = set().union(*(ids for other, ids in years.items() if other != year))
        figure.also_in_other_years = len(years[year] & others)
        by_year.append(figure)
    in_several_years = {call_id for call_id in budgets if sum(call_id in ids for ids in years.values()) > 1}

    english = (get_language() or "fr").startswith("en")
    names = {slug: ((name_en or name) if english else name)
             for slug, name, name_en in Theme.objects.filter(slug__in=list(by_facet["theme"])).values_list(
                 "slug", "name", "name_en")}
    themes = [_figure(names.get(slug, slug), search_url(("theme", slug)), ids, budgets)
              for slug, ids in by_facet["theme"].items()]

    total = len(budgets)
    regions = []
    for code, name in sorted(REGIONS.items(), key=lambda item: item[1]):
        figure = _figure(name, search_url(("region", code)), everywhere | by_facet["region"][code], budgets)
        figure.share = (figure.calls / total) if total else None
        regions.append(figure)

    def ranked(figures):
        return sorted((f for f in figures if f.calls), key=lambda f: (-f.calls, f.label))

    multi_year = _figure("", "", in_several_years, budgets)
    return {
        "total": total,
        "by_kind": ranked(kinds),
        "by_year": by_year,
        "by_theme": ranked(themes),
        "regions": regions,
        "unrestricted": len(everywhere),
        "multi_year": multi_year,
    }


# Geometry of the server-rendered bar charts (SVG user units). Each row is a label on its own line,
# then the bar and its value: the drawing stays narrow, so that scaled to a phone's width (390 px,
# about 320 px for the chart) its text (13 units, static/css/site.css) stays at least 12 px; the
# stylesheet caps its width on wider screens.
CHART_WIDTH = 320
VALUE_SPACE = 78  # room right of the longest bar for its value ("1,25 Md€")
BAR_SPACE = CHART_WIDTH - VALUE_SPACE
ROW_HEIGHT = 42
LABEL_BASELINE = 15  # from the row's top
BAR_TOP, BAR_HEIGHT = 21, 16


def bars(figures, value: str) -> dict:
    """Bars for `figures` along `value` ("calls", "budget" or "share"), as SVG coordinates: each
    row's label line (`text_y`) above its bar (`bar_y`) and value (`value_y`, `value_x`)."""
    values = [getattr(f, value) or 0 for f in figures]
    top = max(values, default=0) or 1
    rows = []
    for index, (figure, number) in enumerate(zip(figures, values, strict=True)):
        length = number / top * BAR_SPACE
        row_top = index * ROW_HEIGHT
        rows.append({
            "figure": figure, "value": number, "y": row_top,
            "text_y": row_top + LABEL_BASELINE,
            "bar_y": row_top + BAR_TOP,
            "value_y": f"{row_top + BAR_TOP + BAR_HEIGHT - 3:.1f}",
            "width": f"{max(length, 1 if number else 0):.1f}",
            "value_x": f"{length + 6:.1f}",
        })
    return {"rows": rows, "height": max(len(rows), 1) * ROW_HEIGHT, "width": CHART_WIDTH,
            "label_x": 0, "bar_x": 0, "bar_height": BAR_HEIGHT}
