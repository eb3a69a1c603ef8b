"""The embeddable list (/integrer/): a search's calls for partners' sites to frame, and the only
page other sites may frame."""
import datetime
import html
import re
from urllib.parse import urlparse

import pytest
from django.http import QueryDict

from calls.reading.filters import CallFilterSet
from tests.factories import CallFunderFactory, FunderFactory, ThemeFactory
from tests.helpers import make, reindex

pytestmark = pytest.mark.django_db
QUERY = "theme=vecteurs&status=open&status=closed"


@pytest.fixture
def calls():
    theme = ThemeFactory(slug="vecteurs", name="Vecteurs viraux")
    inside = [make(title="Vecteurs ouverts", slug="vecteurs-ouverts"),
              make(title="Vecteurs clos", slug="vecteurs-clos", opens_on=datetime.date(2024, 1, 1),
                   closes_on=datetime.date(2024, 3, 1)),
              make(title="Vecteurs à venir", slug="vecteurs-a-venir", opens_on=datetime.date(2099, 1, 1),
                   closes_on=datetime.date(2099, 3, 1))]  # upcoming: not in this search
    for call in inside:
        call.themes.add(theme)
        reindex(call=call)
    CallFunderFactory(call=inside[0], funder=FunderFactory(name="Bpifrance", slug="bpifrance"))
    make(title="Anticorps ouverts", slug="anticorps")
    return inside


def _titles(body):
    return re.findall(r'class="embed__title" href="[^"]+" target="_blank" rel="noopener"[^>]*>([^<]+)</a>', body)


def test_the_embedded_list_lists_what_the_same_search_lists_with_links_opening_our_pages(client, calls):
    response = client.get(f"/integrer/?{QUERY}")
    assert response.status_code == 200
    body = response.content.decode()
    expected = [call.title for call in CallFilterSet(QueryDict(QUERY)).qs]
    assert sorted(expected) == ["Vecteurs clos", "Vecteurs ouverts"]
    assert [html.unescape(title) for title in _titles(body)] == expected
    assert 'href="http://testserver/appels/vecteurs-ouverts/" target="_blank" rel="noopener"' in body
    assert "Bpifrance" in body and "2 appels" in body
    # Without the site's header, footer, forms or scripts.
    assert "site-header" not in body and "site-footer" not in body and "<form" not in body and "<script" not in body
    # In English under /en/, with English call pages.
    english = client.get(f"/en/integrer/?{QUERY}").content.decode()
    assert 'href="http://testserver/en/appels/vecteurs-ouverts/"' in english and "2 calls" in english


def test_the_embedded_list_sets_no_cookie(client, calls):
    response = client.get(f"/integrer/?{QUERY}")
    assert response.cookies == {} and "Set-Cookie" not in response.headers
    assert "csrfmiddlewaretoken" not in response.content.decode()
    # Even for a visitor who has a session and chose a language on our site.
    client.cookies["django_language"] = "en"
    assert "csrftoken" in client.get("/alertes/").cookies  # a page of the site with a form sets one
    response = client.get(f"/integrer/?{QUERY}")
    assert response.cookies == {} and "Set-Cookie" not in response.headers


def test_only_the_embedded_list_may_be_framed_by_other_sites(client, calls, settings):
    response = client.get(f"/integrer/?{QUERY}")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy and "frame-ancestors 'none'" not in policy
    assert "script-src 'self'" in policy and "X-Frame-Options" not in response.headers
    for url in ("/", f"/?{QUERY}", "/calendrier/", "/panorama/", "/appels/vecteurs-ouverts/", "/a-propos/",
                "/api/v1/calls/", "/alertes/", "/nulle-part/", "/en/"):
        other = client.get(url)
        assert "frame-ancestors 'none'" in other.headers["Content-Security-Policy"], url
        assert other.headers["X-Frame-Options"] == "DENY", url
    settings.EMBED_FRAME_ANCESTORS = "https://partenaire.example https://autre.example"
    policy = client.get("/integrer/").headers["Content-Security-Policy"]
    assert "frame-ancestors https://partenaire.example https://autre.example;" in policy + ";"


def test_every_search_page_offers_the_snippet_of_its_own_search(client, calls):
    for page in ("/", "/calendrier/"):
        body = client.get(f"{page}?{QUERY}&page=1").content.decode()
        assert "Intégrer cette liste" in body, page
        snippet = html.unescape(re.search(r'<textarea id="embed-snippet"[^>]*>([^<]+)</textarea>', body).group(1))
        src = html.unescape(re.search(r'<iframe src="([^"]+)"', snippet).group(1))
        assert src == f"http://testserver/integrer/?{QUERY}", page
        assert 'loading="lazy"' in snippet and 'title="' in snippet
    # The timeline's "past" switch becomes the statuses it stands for.
    body = html.unescape(client.get("/calendrier/?theme=vecteurs&past=1").content.decode())
    src = urlparse(html.unescape(re.search(r'<iframe src="([^"]+)"', body).group(1)))
    query = QueryDict(src.query)
    assert src.path == "/integrer/" and "past" not in query and query.getlist("status") == [
        "upcoming", "open", "closed", "dates_unknown"]


def test_a_bad_filter_value_in_the_embedded_list_is_a_message_naming_it(client, calls):
    response = client.get("/integrer/?theme=vecteurs&status=open&closes_after=hier")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Filtre « Clôture après le » ignoré" in body
    assert "Vecteurs ouverts" in body  # the other filters still apply
    response = client.get("/integrer/?q=" + "x" * 300)
    assert response.status_code == 200 and "Filtre « " in response.content.decode()
