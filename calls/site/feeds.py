"""Atom feed of newly published calls, filterable with the search's parameters."""
from django.contrib.syndication.views import Feed
from django.db.models import F
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from calls.models import Call
from calls.reading.cards import attach_cards
from calls.site.views import current_search
from registry.throttling import PageRateThrottle, throttle_view

FEED_SIZE = 50


class NewCallsFeed(Feed):
    """Throttled as the search it runs is (rate `pages`, per client)."""

    feed_type = Atom1Feed

    def __call__(self, request, *args, **kwargs):
        return throttle_view(PageRateThrottle)(super().__call__)(request, *args, **kwargs)

    def get_object(self, request, *args, **kwargs):
        return current_search(request, queryset=Call.objects.listed_cards())

    def title(self):
        return _("Bioproduction funding calls: newly published")

    def subtitle(self):
        return _("The latest calls added to the registry, for the search you chose.")

    def link(self, filterset):
        query = filterset.request.GET.urlencode()
        return reverse("call-search") + (f"?{query}" if query else "")

    def feed_url(self, filterset):
        return filterset.request.get_full_path()

    def items(self, filterset):
        calls = filterset.qs.order_by(F("published_at").desc(nulls_last=True), "-created_at", "-pk")[:FEED_SIZE]
        return attach_cards(calls)  # funders and themes from the read model, as on the site's cards

    def item_title(self, call):
        return call.title

    def item_description(self, call):
        # Atom summaries are typed "html": readers render them, so plain text is escaped first.
        return escape(call.summary)

    def item_link(self, call):
        return call.get_absolute_url()

    def item_pubdate(self, call):
        return call.published_at or call.created_at

    def item_updateddate(self, call):
        return call.updated_at

    def item_author_name(self, call):
        return ", ".join(call.card.funder_names) or None

    def item_categories(self, call):
        return list(call.card.themes)
