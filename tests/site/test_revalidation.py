"""Pages at the speed of their data: a repeated visit is a 304 while nothing it shows has changed."""
import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.cache import get_max_age

from calls import services
from calls.site import revalidation
from tests.factories import CallFunderFactory, CuratorFactory, FunderFactory, ProgrammeFactory
from tests.helpers import make

NOON = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC)
PAGES = ["/", "/?q=bioproduction&status=open", "/calendrier/", "/panorama/", "/appels/vecteurs/",
         "/financeurs/bpi/", "/programmes/france-2030/", "/en/appels/vecteurs/"]


@pytest.fixture
def registry(db):
    programme = ProgrammeFactory(slug="france-2030")
    with time_machine.travel(NOON, tick=False):
        call = make(slug="vecteurs", title="Vecteurs viraux", programme=programme)
    CallFunderFactory(call=call, funder=FunderFactory(slug="bpi"))
    return call


@pytest.fixture
def at_noon():
    with time_machine.travel(NOON, tick=False):
        yield


def visit(client, url, etag=None):
    return client.get(url, HTTP_IF_NONE_MATCH=etag) if etag else client.get(url)


def directives(response):
    return {d.strip() for d in response["Cache-Control"].split(",")}


@pytest.mark.parametrize("url", PAGES)
def test_a_repeated_visit_is_a_304_of_two_queries_at_most(client, registry, at_noon, url,
                                                         django_assert_max_num_queries):
    first = visit(client, url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert {"no-cache", "private"} <= directives(first) and get_max_age(first) is None
    assert "Cookie" in first["Vary"]
    with django_assert_max_num_queries(2):
        again = visit(client, url, etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and "no-cache" in directives(again)
    assert "Set-Cookie" not in again and not again.cookies  # the browser's CSRF cookie is kept, not renewed
    assert visit(client, url, f"W/{etag}").status_code == 304  # as a compressing proxy weakens it
    assert visit(client, url, '"another"').status_code == 200


def test_a_304_with_a_stale_session_cookie_reads_the_version_and_the_session(client, registry, at_noon,
                                                                            django_assert_max_num_queries):
    client.cookies["sessionid"] = "no-such-session"
    etag = visit(client, "/")["ETag"]
    with django_assert_max_num_queries(2):
        assert visit(client, "/", etag).status_code == 304


def test_a_write_through_the_services_makes_a_new_page(client, registry, at_noon):
    before = visit(client, "/appels/vecteurs/")
    search = visit(client, "/")
    registry.title = "Vecteurs viraux : deuxième vague"
    services.save_call(call=registry, unsourced_acknowledged=True)
    after = visit(client, "/appels/vecteurs/", before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert "deuxième vague" in after.content.decode()
    # Every page reads the registry: the search too shows the new title.
    assert visit(client, "/", search["ETag"]).status_code == 200
    assert visit(client, "/appels/vecteurs/", after["ETag"]).status_code == 304


def test_statuses_change_at_midnight_so_does_the_page(client, registry):
    with time_machine.travel(NOON, tick=False):
        etag = visit(client, "/")["ETag"]
        assert visit(client, "/", etag).status_code == 304
    with time_machine.travel(NOON + datetime.timedelta(hours=1), tick=False):
        assert visit(client, "/", etag).status_code == 304  # same day
    with time_machine.travel(NOON + datetime.timedelta(days=1), tick=False):
        next_day = visit(client, "/", etag)
    assert next_day.status_code == 200 and next_day["ETag"] != etag


def test_language_and_query_string_are_other_pages(client, registry, at_noon):
    french = visit(client, "/appels/vecteurs/")
    english = visit(client, "/en/appels/vecteurs/")
    assert english["ETag"] != french["ETag"]
    assert visit(client, "/en/appels/vecteurs/", french["ETag"]).status_code == 200
    search = visit(client, "/?q=vecteurs")
    for other in ("/?q=anticorps", "/?q=vecteurs&status=closed", "/?q=vecteurs&page=2", "/"):
        response = visit(client, other, search["ETag"])
        assert response.status_code == 200 and response["ETag"] != search["ETag"], other


def test_a_new_release_makes_a_new_page(client, registry, at_noon, monkeypatch):
    etag = visit(client, "/")["ETag"]
    monkeypatch.setattr(revalidation, "release", lambda: "the next release")
    assert visit(client, "/", etag).status_code == 200


def test_a_signed_in_user_never_gets_a_304(client, registry, at_noon):
    etag = visit(client, "/")["ETag"]
    client.force_login(CuratorFactory())  # the same browser (same CSRF cookie), now signed in
    for _ in range(2):
        response = visit(client, "/", etag)
        assert response.status_code == 200 and "ETag" not in response
        assert {"no-cache", "private"} <= directives(response)
    staff = Client()
    staff.force_login(CuratorFactory())
    assert visit(staff, "/", etag).status_code == 200


def test_one_browsers_copy_never_validates_in_another(client, registry, at_noon):
    """Pages carry a CSRF token (the language switch, the alert forms): a copy is one browser's."""
    first = visit(client, "/")
    assert "csrfmiddlewaretoken" in first.content.decode()
    assert visit(Client(), "/", first["ETag"]).status_code == 200  # a browser without the cookie
    other = Client()
    other_etag = visit(other, "/")["ETag"]  # a browser with its own CSRF cookie
    assert other_etag != first["ETag"]
    assert visit(other, "/", first["ETag"]).status_code == 200
    assert visit(other, "/", other_etag).status_code == 304


def test_the_first_page_gives_the_csrf_cookie_its_etag_is_built_with(registry, at_noon):
    browser = Client(enforce_csrf_checks=True)
    first = visit(browser, "/")
    assert "csrftoken" in first.cookies
    assert visit(browser, "/", first["ETag"]).status_code == 304
    # The kept copy's form still works: its token is the browser's secret, masked.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', first.content.decode())[1]
    switched = browser.post("/i18n/setlang/", {"csrfmiddlewaretoken": token, "language": "en", "next": "/"})
    assert switched.status_code == 302


def test_a_missing_page_has_no_etag(client, registry, at_noon):
    response = visit(client, "/appels/nulle-part/")
    assert response.status_code == 404 and "ETag" not in response



def csrf_token_of(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


def reads_calls(captured):
    """Whether a request read the calls' rows (it rendered its page, not read it from the cache)."""
    return any("calls_call" in query["sql"] for query in captured.captured_queries)


def test_an_anonymous_page_is_rendered_once_and_each_browser_gets_its_own_token(registry, at_noon,
                                                                               django_assert_num_queries):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    page = visit(first, "/?q=vecteurs")
    assert "Vecteurs viraux" in page.content.decode()
    with django_assert_num_queries(1):  # the registry version: the page itself is kept
        again = visit(second, "/?q=vecteurs")
    assert again.status_code == 200 and again["ETag"] != page["ETag"]
    assert again["Content-Type"] == page["Content-Type"] == "text/html; charset=utf-8"
    token = csrf_token_of(again)
    assert token != csrf_token_of(page)
    assert again.content.decode().replace(token, "T") == page.content.decode().replace(csrf_token_of(page), "T")
    # Its forms carry the second browser's own token: they work for it, and its ETag is its own.
    assert visit(second, "/?q=vecteurs", again["ETag"]).status_code == 304
    switched = second.post("/i18n/setlang/", {"csrfmiddlewaretoken": token, "language": "en", "next": "/"})
    assert switched.status_code == 302


@pytest.mark.parametrize("url", ["/", "/?q=vecteurs", "/appels/vecteurs/", "/financeurs/bpi/",
                                 "/programmes/france-2030/", "/calendrier/"])
def test_a_kept_page_changes_after_a_write_through_the_services(registry, at_noon, url):
    assert "Vecteurs viraux" in visit(Client(), url).content.decode()
    assert "Vecteurs viraux" in visit(Client(), url).content.decode()  # the kept page
    registry.title = "Vecteurs non viraux"
    services.save_call(call=registry, unsourced_acknowledged=True)
    assert "Vecteurs non viraux" in visit(Client(), url).content.decode()


def test_a_kept_page_changes_at_midnight(registry):
    # Open until NOON + 30 days: open that day, closed the next.
    last_day = NOON + datetime.timedelta(days=30)
    with time_machine.travel(last_day, tick=False):
        assert ">Open</span>" in visit(Client(), "/en/appels/vecteurs/").content.decode()
        assert ">Open</span>" in visit(Client(), "/en/appels/vecteurs/").content.decode()
    with time_machine.travel(last_day + datetime.timedelta(days=1), tick=False):
        assert ">Closed</span>" in visit(Client(), "/en/appels/vecteurs/").content.decode()


def test_a_signed_in_users_page_is_never_kept_nor_served_from_the_cache(registry, at_noon):
    staff = Client()
    staff.force_login(CuratorFactory())
    assert visit(staff, "/?q=vecteurs").status_code == 200
    with CaptureQueriesContext(connection) as captured:  # nothing kept by the curator's visit
        rendered = visit(Client(), "/?q=vecteurs")
    assert rendered.status_code == 200 and reads_calls(captured)
    with CaptureQueriesContext(connection) as captured:  # the visitor's page is kept…
        visit(Client(), "/?q=vecteurs")
    assert not reads_calls(captured)
    with CaptureQueriesContext(connection) as captured:  # …but the curator's is rendered for them
        response = visit(staff, "/?q=vecteurs")
    assert response.status_code == 200 and reads_calls(captured) and "ETag" not in response
