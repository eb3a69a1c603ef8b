"""Public pages of the registry: thin views over the model's querysets and the one FilterSet."""
from django.conf import settings
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, ListView, TemplateView
from django_filters.views import FilterView

from calls.choices import PublicationState, Status
from calls.clock import today
from calls.models import Call, CallFunder, Funder, Laureate, Programme, Source
from calls.reading.calendar import calendar_of_deadlines
from calls.reading.cards import calls_with_cards
from calls.reading.editions import expected_editions_of
from calls.reading.exports import people_csv_download
from calls.reading.filters import CallFilterSet
from calls.reading.status_groups import calls_by_status, page_number, with_call_counts
from calls.site.embedding import EMBED_LIMIT, embed_snippet, search_query
from calls.site.overview import home_groups
from calls.site.revalidation import RevalidatedPageMixin
from calls.site.statistics import bars, funding_in_figures, multi_year_notes
from registry.middleware import embeddable
from registry.throttling import ExportRateThrottle, PageRateThrottle, refund, throttle_view

# The filters the search form shows; others (updated_since, for API clients) report errors apart.
SHOWN_FILTERS = (
    "q status funder funder_kind programme call_type beneficiary region theme aid_form amount trl "
    "amount_max closes_after closes_before opens_after opens_before closing_within consortium foreign ordering"
)
MAX_TIMELINE_CALLS = 300
MAX_EXPECTED_IN_CALENDAR = 200


class CallFilterMixin:
    """The current search: CallFilterSet always bound to the query string, lenient with bad input.

    Invalid values are reported next to their filter by the form; the valid filters still apply
    (a non-strict FilterView filters with the form's cleaned data, which leaves the invalid ones out).
    """

    filterset_class = CallFilterSet
    strict = False

    def get_filterset_kwargs(self, filterset_class):
        # Bound even with an empty query string, so the default statuses apply on the home page.
        return {"data": self.get_filter_data(), "request": self.request, "queryset": self.get_queryset()}

    def get_filter_data(self):
        return self.request.GET

    def get_queryset(self):
        return Call.objects.listed_cards()


@method_decorator(throttle_view(PageRateThrottle), name="dispatch")
class CallSearchView(RevalidatedPageMixin, CallFilterMixin, FilterView):
    template_name = "calls/call_search.html"
    paginate_by = 20

    def paginate_queryset(self, queryset, page_size):
        """Like ListView's, but a bad page number shows the first page, a too large one the last;
        the number of results comes with the facet counts the page shows anyway."""
        paginator = self.get_paginator(queryset.values_list("pk", flat=True), page_size)
        paginator.count = self.filterset.result_count()
        page = paginator.page(page_number(self.request.GET.get(self.page_kwarg), paginator.num_pages))
        # The search sorts ids only (narrow rows); then the page's calls are read by id.
        page.object_list = calls_with_cards(self.get_queryset(), list(page.object_list))
        return paginator, page, page.object_list, page.has_other_pages()

    def is_home(self):
        """The bare home page (no search asked for): the overview in groups, not a list of results."""
        return not self.request.GET and self.template_name == CallSearchView.template_name

    def get_paginate_by(self, queryset):
        return None if self.is_home() else self.paginate_by

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        filterset.use_listed_reference_choices()
        if self.is_home():
            context["home_groups"] = home_groups(self.get_queryset())
            context["shown_filters"] = SHOWN_FILTERS
            return context
        context["facets"] = filterset.facet_counts()
        context["chosen_count"] = sum(
            1 for name in SHOWN_FILTERS.split() if name not in ("q", "ordering") and self.request.GET.get(name)
        )
        if context.get("page_obj") is not None:  # the search's page (the timeline draws every call)
            if context["page_obj"].number == 1 and self.template_name == CallSearchView.template_name:
                # First: it reads the registry's estimates once (cached), which the page's cards then read.
                context["expected"] = filterset.expected_next_editions()
            estimates = expected_editions_of(call.pk for call in context["page_obj"].object_list)
            for call in context["page_obj"].object_list:
                call.expected_edition = estimates.get(call.pk)
        context["shown_filters"] = SHOWN_FILTERS
        context["query_string"] = self.request.GET.urlencode()
        context["embed_snippet"] = embed_snippet(self.request, self.get_filter_data())
        include_closed = self.request.GET.copy()
        include_closed.setlist("status", Status.values)
        context["include_closed_url"] = "?" + include_closed.urlencode()
        return context


class TimelineView(CallSearchView):
    """Calls on a time axis: the next twelve months by default (open and upcoming calls), past
    calls too on request (`?past=1`, or statuses chosen in the filters)."""

    template_name = "calls/timeline.html"
    paginate_by = None

    def shows_past(self):
        return self.request.GET.get("past") == "1" or Status.CLOSED in self.request.GET.getlist("status")

    def get_filter_data(self):
        data = self.request.GET
        if self.request.GET.get("past") == "1" and not data.get("status"):
            data = data.copy()
            data.setlist("status", Status.values)
        return data

    def get_queryset(self):
        return super().get_queryset().prefetch_related("rounds")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        calls = list(context["object_list"][: MAX_TIMELINE_CALLS + 1])
        context["timeline_calls"] = calls[:MAX_TIMELINE_CALLS]
        context["timeline_truncated"] = len(calls) > MAX_TIMELINE_CALLS
        context["shows_past"] = self.shows_past()
        with_past = self.request.GET.copy()
        with_past["past"] = "1"
        without_past = self.request.GET.copy()
        without_past.pop("past", None)
        if not self.request.GET.get("past"):
            without_past.setlist("status", [s for s in without_past.getlist("status") if s != Status.CLOSED])
        context["past_url"] = "?" + with_past.urlencode()
        context["future_url"] = "?" + without_past.urlencode()
        return context


@method_decorator(embeddable, name="dispatch")  # outermost: its 429 page shows in the frame too
@method_decorator(throttle_view(PageRateThrottle), name="dispatch")
class EmbeddedListView(CallFilterMixin, FilterView):
    """A search's calls, compact, for partners' sites to frame (`/integrer/?<the search's query>`):
    the one FilterSet on the same query string, the search's first `EMBED_LIMIT` calls in its order.
    No header or footer, links opening our pages in a new tab, and no cookie set (no form, no
    session): the only page other sites may frame (`calls.site.embedding`)."""

    template_name = "calls/embed.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        ids = list(filterset.qs.values_list("pk", flat=True)[:EMBED_LIMIT])
        calls = calls_with_cards(self.get_queryset(), ids)
        for call in calls:
            call.public_url = self.request.build_absolute_uri(call.get_absolute_url())
        search = search_query(self.request.GET)
        context.update({
            "calls": calls,
            "count": len(ids) if len(ids) < EMBED_LIMIT else filterset.qs.count(),
            "search_url": self.request.build_absolute_uri(reverse("call-search") + (f"?{search}" if search else "")),
            # A value refused is said, field by field (the other filters still apply).
            "errors": [(filterset.form.fields[name].label if name in filterset.form.fields else name, messages)
                       for name, messages in filterset.form.errors.items()],
        })
        return context


def current_search(request, queryset=None):
    """The search the query string describes, its invalid filters left out (for exports and feeds)."""
    filterset = CallFilterSet(request.GET, queryset=queryset, request=request)
    filterset.is_valid()
    return filterset


def overlong_search(filterset):
    """A 400 for a download whose search has an over-long filter value (None otherwise): a file
    cannot show the form's message, and the search without that filter would give too much."""
    if not filterset.overlong:
        return None
    lines = [f"{name}: {message}" for name, message in filterset.overlong.items()]
    return HttpResponseBadRequest("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@throttle_view(ExportRateThrottle)
def export_csv(request):
    """The current search as a CSV file (every result, not one page)."""
    filterset = current_search(request)
    if refused := overlong_search(filterset):
        return refused
    response = people_csv_download(filterset.qs, filename=_("bioproduction-calls.csv"))
    if response.status_code == 503:  # being built: coming back after Retry-After costs nothing
        refund(request)
    return response


@throttle_view(ExportRateThrottle)
def export_ics(request):
    """The deadlines of the current search as an iCalendar file a calendar can subscribe to.

    Read from the read model (each call's stored date facts and document, `calls.reading.calendar`): no
    related rows prefetched, no query per call."""
    filterset = current_search(request, queryset=Call.objects.listed().prefetch_related(None))
    if refused := overlong_search(filterset):
        return refused
    # A search of what one can still apply to (past calls not asked for) is a subscription to what
    # lies ahead: its past openings and deadlines are left out; its expected editions are in.
    ahead = Status.CLOSED not in (filterset.form.cleaned_data.get("status") or [])
    body = calendar_of_deadlines(
        filterset.qs, name=_("Bioproduction funding calls: deadlines"), host=request.get_host(),
        build_url=request.build_absolute_uri, from_day=today() if ahead else None,
        expected=filterset.expected_next_editions(limit=MAX_EXPECTED_IN_CALENDAR),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="echeances-bioproduction.ics"'
    return response


@throttle_view(PageRateThrottle)
def call_ics(request, slug):
    """One published call's openings and deadlines (its rounds' too) as an iCalendar file, each
    deadline with a reminder (`calls.reading.calendar`): "add to my calendar" on the call's page."""
    calls = Call.objects.listed().prefetch_related(None).filter(slug=slug)
    title = calls.values_list("title", flat=True).first()
    if title is None:
        raise Http404
    body = calendar_of_deadlines(calls, name=title, host=request.get_host(), build_url=request.build_absolute_uri)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}.ics"'
    return response


class CallDetailView(RevalidatedPageMixin, DetailView):
    template_name = "calls/call_detail.html"
    context_object_name = "call"

    def calls(self):
        """The calls this page may show: the published ones."""
        return Call.objects.listed_cards()

    def get_queryset(self):
        # Its vocabularies (themes, beneficiaries, regions, forms of aid) from the read model's
        # document, as on its card; its own rows in one query each.
        return (
            self.calls()
            .select_related("programme", "previous_edition", "next_edition")
            .prefetch_related(
                Prefetch("funder_roles", queryset=CallFunder.objects.select_related("funder")),
                "rounds", "ceilings",
                Prefetch("sources", queryset=Source.objects.select_related("document")),
                Prefetch("laureates", queryset=Laureate.objects.select_related("region")),
            )
        )

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            archived = Call.objects.filter(slug=kwargs["slug"], publication_state=PublicationState.ARCHIVED).first()
            if archived is None:
                raise
            return render(request, "calls/call_archived.html", {"call": archived, "newer": newest_edition(archived)},
                          status=404)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["previous_edition"] = self.object.public_previous_edition
        context["next_edition"] = self.object.public_next_edition
        if context["next_edition"] is None and self.object.previous_edition_id:  # a series, not yet continued
            context["expected_edition"] = expected_editions_of([self.object.pk]).get(self.object.pk)
        context["may_be_outdated"] = context["next_edition"] is None and self.object.dates_passed_since_verified()
        return context


@method_decorator(never_cache, name="dispatch")
class CallPreviewView(PermissionRequiredMixin, CallDetailView):
    """A call's public page as it would be published, for curators reviewing a draft (or an
    archived call): marked as a preview, never indexed, never cached."""

    permission_required = "calls.view_call"

    def calls(self):
        return Call.objects.for_cards()

    def get(self, request, *args, **kwargs):
        return DetailView.get(self, request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "preview": True}


def newest_edition(call, limit=50):
    """The newest published edition after `call`, following its next editions (None if none is)."""
    newest, current = None, call
    for _step in range(limit):
        current = Call.objects.filter(previous_edition=current).first()
        if current is None:
            break
        if current.publication_state == PublicationState.PUBLISHED:
            newest = current
    return newest


@method_decorator(throttle_view(PageRateThrottle), name="dispatch")
class FunderDetailView(RevalidatedPageMixin, DetailView):
    model = Funder
    template_name = "calls/funder_detail.html"
    queryset = Funder.objects.select_related("region").prefetch_related("programmes")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        calls = Call.objects.listed_cards().with_facet_value("funder", [self.object.slug])
        context["groups"] = calls_by_status(calls, self.request.GET, search={"funder": self.object.slug})
        return context


@method_decorator(throttle_view(PageRateThrottle), name="dispatch")
class ProgrammeDetailView(RevalidatedPageMixin, DetailView):
    model = Programme
    template_name = "calls/programme_detail.html"
    queryset = Programme.objects.select_related("parent").prefetch_related(
        "children", "funders", "sources__document"
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Its calls and those of the programmes under it, as the search's programme filter keeps them.
        calls = Call.objects.listed_cards().with_facet_value("programme", [self.object.slug])
        context["groups"] = calls_by_status(calls, self.request.GET, search={"programme": self.object.slug})
        return context


class _CallCountsIndex(ListView):
    """An index of funders or programmes with published calls, each with its number of open,
    upcoming and past calls (`calls.reading.status_groups.with_call_counts`): two queries in all."""

    facet = None

    def get_queryset(self):
        return with_call_counts(super().get_queryset(), self.facet)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["shows_dates_unknown"] = any(entity.call_counts[Status.DATES_UNKNOWN] for entity in self.object_list)
        return context


@method_decorator(throttle_view(PageRateThrottle), name="dispatch")
class FunderIndexView(_CallCountsIndex):
    model = Funder
    facet = "funder"
    template_name = "calls/funder_index.html"
    context_object_name = "funders"


@method_decorator(throttle_view(PageRateThrottle), name="dispatch")
class ProgrammeIndexView(_CallCountsIndex):
    facet = "programme"
    queryset = Programme.objects.select_related("parent")
    template_name = "calls/programme_index.html"
    context_object_name = "programmes"


@method_decorator(throttle_view(PageRateThrottle), name="dispatch")
class FundingInPicturesView(RevalidatedPageMixin, TemplateView):
    """The sector's funding in pictures: server-rendered SVG charts, each bar linking to its calls."""

    template_name = "calls/funding_in_pictures.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        figures = funding_in_figures()
        context["figures"] = figures
        notes = multi_year_notes(figures["multi_year"])
        context["charts"] = [
            {"key": "kind-calls", "title": _("Number of calls by kind of funder"),
             "chart": bars(figures["by_kind"], "calls"), "value": "calls"},
            {"key": "kind-budget", "title": _("Announced budgets by kind of funder"),
             "chart": bars([f for f in figures["by_kind"] if f.budget_calls], "budget"), "value": "budget"},
            {"key": "year-calls", "title": _("Number of calls by year of their deadlines"),
             "chart": bars(figures["by_year"], "calls"), "value": "calls", "note": notes["calls"]},
            {"key": "year-budget", "title": _("Announced budgets by year of their deadlines"),
             "chart": bars([f for f in figures["by_year"] if f.budget_calls], "budget"), "value": "budget",
             "note": notes["budget"]},
            {"key": "theme-calls", "title": _("Number of calls by theme"), "chart": bars(figures["by_theme"], "calls"),
             "value": "calls"},
            {"key": "theme-budget", "title": _("Announced budgets by theme"),
             "chart": bars([f for f in figures["by_theme"] if f.budget_calls], "budget"), "value": "budget"},
            {"key": "regions", "title": _("Share of calls open to applicants of each region"),
             "chart": bars(figures["regions"], "share"), "value": "share"},
        ]
        return context


class AboutView(TemplateView):
    template_name = "pages/about.html"


class ContactView(TemplateView):
    template_name = "pages/contact.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "contact_email": settings.CONTACT_EMAIL}
