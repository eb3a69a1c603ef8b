"""A funder's or a programme's calls on its page: one group per status, each group paginated on
its own, so a funder with thousands of past calls costs what a funder with ten does; and the
indexes of funders and programmes, each with its number of calls in each status."""
import functools
import operator

from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from calls.choices import PublicationState, Status
from calls.models import Call, CallFacet
from calls.querysets import status_condition
from calls.reading.cards import calls_with_cards
from calls.reading.filters import FOREIGN_INCLUDED, CallOrderingFilter

PER_PAGE = 20
# The search's default order: soonest deadline first; calls with none (past ones), newest first.
ORDER = (*CallOrderingFilter.SORTS["deadline"], "pk")
PAGE_PARAMS = tuple(f"{status}_page" for status in Status.values)


def page_number(raw, num_pages: int) -> int:
    """The page a page parameter asks for, never an error: a page past the end, a huge number or
    "last" give the last page; nothing, zero, a negative, decimal or non-numeric value the first."""
    raw = (raw or "").strip()
    if raw == "last" or (raw.isdecimal() and len(raw) > 9):
        return num_pages
    if raw.isdecimal():
        return min(max(int(raw), 1), num_pages)
    return 1


class _CountedIds:
    """A group's calls, counted beforehand, for its paginator: the page's ids are read with those
    of every other group's page (`_pages_ids`), the paginator only slices them out."""

    def __init__(self, total):
        self.total, self.page_ids = total, []

    def __len__(self):
        return self.total

    def __getitem__(self, index):
        return self.page_ids


def _pages_ids(calls, slices: dict[str, tuple[int, int]]) -> dict[str, list[int]]:
    """The ids of each group's page, `{status: (first, last)}` positions (from 0, last excluded) in
    the group's order: one query for every group, ranking each group's calls in its order."""
    if not slices:
        return {}
    ranked = calls.filter(status_condition(list(slices))).annotate(
        group_rank=Window(RowNumber(), partition_by=F("current_status"), order_by=list(ORDER)))
    pages = functools.reduce(operator.or_, (
        Q(current_status=status, group_rank__gt=first, group_rank__lte=last)
        for status, (first, last) in slices.items()))
    found = {status: [] for status in slices}
    for status, pk, _rank in ranked.filter(pages).order_by("group_rank").values_list(
            "current_status", "pk", "group_rank"):
        found[status].append(pk)
    return found


def _group_labels():
    return (
        (Status.OPEN, _("Open now")),
        (Status.UPCOMING, _("Upcoming")),
        (Status.DATES_UNKNOWN, Status.DATES_UNKNOWN.label),
        (Status.CLOSED, _("Past")),
    )


def _page_url(query, param, number, anchor):
    """The link to page `number` of one group, keeping the page the other groups show (and
    nothing else of the query string: the page takes no other parameter)."""
    params = {name: query[name] for name in PAGE_PARAMS if query.get(name) and name != param}
    if number != 1:
        params[param] = number
    return "?" + urlencode(sorted(params.items())) + "#" + anchor


def calls_by_status(calls, query, search: dict[str, str], per_page: int = PER_PAGE) -> list[dict]:
    """`calls` (published, `for_cards()`) in groups: open, upcoming, dates not given by the
    sources (only when some are), past.

    An applicant sees first what they can apply to now, then what is coming, then the history.
    Within a group, the search's default order (soonest deadline first, past calls newest first).
    Each group is paginated on its own (`open_page`, `upcoming_page`, `dates_unknown_page`,
    `closed_page` in `query`; a bad number behaves as in the search), so the page stays small
    however many calls there are, and turning the pages of past calls keeps the open ones in view.

    Each group: `status`, `label`, `count`, `total_budget` and `budget_count` (over the whole
    group, not the page), `calls` (the page's), `page_obj`, `page_links`, `previous_url`,
    `next_url`, and `search_url`: the search (`search`, e.g. `{"funder": slug}`) for the same
    calls. Queries: one for every count and total, one for every group's page, one for
    the page's calls (with their cards, `calls.reading.cards`: one more for the themes' names), whatever the
    number of calls. `calls` should be `Call.objects.listed_cards()`, filtered.
    """
    totals = {
        row["current_status"]: row
        for row in calls.order_by().values("current_status").annotate(
            count=Count("pk"), total_budget=Sum("total_budget_eur"), budget_count=Count("total_budget_eur"),
        )
    }
    groups, paging = [], {}  # paging: {status: (paginator, page number)} of the non-empty groups
    for status, label in _group_labels():
        row = totals.get(status, {})
        count = row.get("count", 0)
        if status == Status.DATES_UNKNOWN and not count:
            continue
        group = {
            "status": status, "label": label, "count": count, "total_budget": row.get("total_budget"),
            "budget_count": row.get("budget_count", 0), "calls": [], "page_obj": None, "page_links": [],
            "search_url": reverse("call-search") + "?" + urlencode(
                {**search, "status": status, "foreign": FOREIGN_INCLUDED}
            ),
        }
        if count:
            paginator = Paginator(_CountedIds(count), per_page)
            paging[status] = (paginator, page_number(query.get(f"{status}_page"), paginator.num_pages))
        groups.append(group)
    pages_ids = _pages_ids(calls, {
        status: ((number - 1) * per_page, number * per_page) for status, (_paginator, number) in paging.items()})
    for group in groups:
        if group["status"] not in paging:
            continue
        status = group["status"]
        paginator, number = paging[status]
        paginator.object_list.page_ids = pages_ids[status]
        param, anchor = f"{status}_page", f"group-{status}"
        page = paginator.page(number)
        group["page_obj"] = page
        if page.has_other_pages():
            group["page_links"] = [
                {"number": n, "url": _page_url(query, param, n, anchor), "current": n == page.number}
                if n != paginator.ELLIPSIS else {"gap": True}
                for n in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
            ]
        if page.has_previous():
            group["previous_url"] = _page_url(query, param, page.previous_page_number(), anchor)
        if page.has_next():
            group["next_url"] = _page_url(query, param, page.next_page_number(), anchor)
    page_ids = [pk for group in groups if group["page_obj"] for pk in group["page_obj"].object_list]
    found = {call.pk: call for call in calls_with_cards(calls, page_ids)}
    for group in groups:
        if group["page_obj"]:
            group["calls"] = [found[pk] for pk in group["page_obj"].object_list if pk in found]
    return groups


def call_counts_by_status(facet: str) -> dict[str, dict[str, int]]:
    """For each value of `facet` ("funder" or "programme": a slug), the number of its published
    calls in each status today (`Call.objects.published().with_status()`'s `current_status`):
    `{slug: {"open": 3, "upcoming": 1, "closed": 12, "dates_unknown": 0}}`, every status present.

    Read from the read model's facet rows, as the funder's and the programme's pages find their
    calls (a programme counts the calls of the programmes under it), so a count is the number of
    calls its page shows. One query, whatever the number of funders or programmes."""
    rows = (
        Call.objects.published().with_status().filter(index__facet_values__facet=facet)
        .order_by().values("index__facet_values__value", "current_status").annotate(count=Count("pk"))
    )
    counts = {}
    for row in rows:
        counts.setdefault(row["index__facet_values__value"], dict.fromkeys(Status.values, 0))[
            row["current_status"]] = row["count"]
    return counts


def with_call_counts(entities, facet: str) -> list:
    """`entities` (a queryset of funders or programmes, found by their slug under `facet`) that
    have published calls, each with `call_counts` (`call_counts_by_status`). Two queries."""
    counts = call_counts_by_status(facet)
    published = CallFacet.objects.filter(facet=facet, call_index__call__publication_state=PublicationState.PUBLISHED)
    found = list(entities.filter(slug__in=published.values("value")))
    for entity in found:
        entity.call_counts = counts.get(entity.slug, dict.fromkeys(Status.values, 0))
    return found
