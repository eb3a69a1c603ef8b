"""The embeddable list: partners frame a search's calls on their own sites.

`/integrer/?<a search's query>` lists what that search lists (the one FilterSet, the same query
string), compactly, and is the only page other sites may frame (`registry.middleware.embeddable`).
Every search page offers the `<iframe>` snippet that frames it.
"""
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _

# The embedded list shows this many calls at most, then links to the whole search on the site.
EMBED_LIMIT = 50
# Parameters of a search page that are not the search: which page of results, and the timeline's
# switch to past calls (given as the statuses it stands for: `TimelineView.get_filter_data`).
NOT_THE_SEARCH = ("page", "past")


def search_query(query) -> str:
    """The search of `query` (a QueryDict) as a query string, without `NOT_THE_SEARCH`."""
    query = query.copy()
    for name in NOT_THE_SEARCH:
        query.pop(name, None)
    return query.urlencode()


def embed_url(request, query) -> str:
    """The absolute address of the embeddable list of the search `query`."""
    search = search_query(query)
    return request.build_absolute_uri(reverse("call-embed") + (f"?{search}" if search else ""))


def embed_snippet(request, query) -> str:
    """The HTML a partner pastes in their page to show the search `query`'s calls: a plain string,
    which a page shows as text (escaped)."""
    source, title = escape(embed_url(request, query)), escape(_("Bioproduction funding calls"))
    return f'<iframe src="{source}" title="{title}" width="100%" height="600" style="border:0" loading="lazy"></iframe>'

