"""The sync endpoint (`/api/v1/sync/`) and `updated_since` on the calls list, which answers the same."""
import datetime
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from calls import services
from calls.choices import PublicationState
from calls.querysets import today
from tests.factories import CallFactory, CallFunderFactory, CeilingFactory, RoundFactory, SourceFactory, one_refresh

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
SYNC = "/api/v1/sync/"
CALLS = "/api/v1/calls/"


@pytest.fixture(autouse=True)
def high_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "partner": "100000/minute"},
    }
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


def make(**fields):
    fields.setdefault("opens_on", today() - 10 * DAY)
    fields.setdefault("closes_on", today() + 30 * DAY)
    return CallFactory(**fields)


def url(path, since, **params):
    return f"{path}?{urlencode({'updated_since': since.isoformat(), **params}, doseq=True)}"


def pages(api, first):
    bodies, link = [], first
    while link:
        response = api.get(link)
        assert response.status_code == 200, response.content
        bodies.append(response.json())
        link = bodies[-1]["next"]
    return bodies


def results(api, first):
    return [item for body in pages(api, first) for item in body["results"]]


@pytest.fixture
def changes():
    """Before `since`: an old call. After: a fresh call, an archived one, a renamed one, a draft."""
    make(slug="old")
    since = timezone.now()
    make(slug="fresh", title="Appel frais")
    archived = make(slug="archived", opens_on=today() - 90 * DAY, closes_on=today() - 60 * DAY)
    services.set_publication_state(call=archived, state=PublicationState.ARCHIVED)
    renamed = make(slug="first-name", title="Appel renommé")
    renamed.slug = "second-name"
    services.save_call(call=renamed, unsourced_acknowledged=True)
    make(slug="draft", publication_state=PublicationState.DRAFT)
    return since


def test_the_sync_endpoint_lists_every_change_with_removals_and_renames(api, changes):
    got = results(api, url(SYNC, changes))
    slugs = [item["slug"] for item in got]
    assert set(slugs) == {"fresh", "archived", "first-name", "second-name"}
    by_slug = {item["slug"]: item for item in got}
    assert by_slug["archived"] == {"slug": "archived", "publication_state": "archived",
                                   "updated_at": by_slug["archived"]["updated_at"]}
    assert by_slug["first-name"]["publication_state"] == "renamed"
    assert set(by_slug["first-name"]) == {"slug", "publication_state", "updated_at"}
    assert slugs.index("first-name") == slugs.index("second-name") - 1
    assert by_slug["second-name"]["title"] == "Appel renommé"
    assert by_slug["fresh"]["status"] == "open" and by_slug["fresh"]["url"] == "http://testserver/appels/fresh/"
    calls = [item for item in got if item["publication_state"] != "renamed"]
    stamps = [(datetime.datetime.fromisoformat(item["updated_at"]), item["slug"]) for item in calls]
    assert stamps == sorted(stamps)


def test_updated_since_on_the_list_answers_as_the_sync_endpoint(api, changes):
    for params in ({}, {"page_size": 2}, {"q": "renommé"}, {"region": "11", "trl": 5}):
        from_list = results(api, url(CALLS, changes, **params))
        from_sync = results(api, url(SYNC, changes, **params))
        assert from_list == from_sync, params
    link = api.get(url(CALLS, changes, page_size=1)).json()["next"]
    assert link.startswith("http://testserver/api/v1/calls/?") and "cursor=" in link  # clients keep their path


def test_a_sync_without_filters_lists_what_a_filter_choosing_every_call_lists(api, changes):
    make(slug="abroad", country="DE")  # `foreign=include` keeps every published call, as no filter does
    assert results(api, url(SYNC, changes)) == results(api, url(SYNC, changes, foreign="include"))
    assert {item["slug"] for item in results(api, url(SYNC, changes))} >= {"archived", "first-name", "abroad"}


def test_the_sync_needs_updated_since(api):
    response = api.get(SYNC)
    assert response.status_code == 400 and "updated_since" in response.json()
    for query in ("updated_since=", "updated_since=yesterday", "updated_since=2026-01-01T00:00:00Z&region=99"):
        response = api.get(f"{SYNC}?{query}")
        assert response.status_code == 400, query
        assert set(response.json()) & {"updated_since", "region"}, query
    # A page the sync has not: a cursor it did not write, a page number (it pages by cursor), a 404 naming it.
    for query, name in (("cursor=garbage", "cursor"), ("cursor=", "cursor"), ("page=2", "page")):
        for path in (SYNC, "/api/v1/calls/"):
            response = api.get(f"{path}?updated_since=2026-01-01T00:00:00Z&{query}")
            assert response.status_code == 404 and response.json()["detail"].startswith(f"{name}: "), (path, query)


def test_filters_choose_among_published_calls_and_never_hide_a_removal(api):
    since = timezone.now()
    make(slug="public", title="Appel public", description="bioproduction")
    withdrawn = make(slug="withdrawn", description="bioproduction")
    withdrawn.description = "Projet confidentiel zorglub"
    services.save_call(call=withdrawn)
    services.set_publication_state(call=withdrawn, state=PublicationState.DRAFT)
    assert [item["slug"] for item in results(api, url(SYNC, since, q="zorglub"))] == ["withdrawn"]
    got = results(api, url(SYNC, since, q="public"))
    assert [item["slug"] for item in got] == ["public", "withdrawn"]
    assert set(got[1]) == {"slug", "publication_state", "updated_at"}


def test_paging_a_sync_while_curators_edit_misses_nothing(api):
    since = timezone.now() - DAY
    calls = [make(slug=f"call-{i:02}") for i in range(12)]
    first = api.get(url(SYNC, since, page_size=5)).json()
    assert first["count"] == 12 and first["previous"] is None
    seen = {item["slug"]: item for item in first["results"]}
    calls[0].title = "Edited after it was seen"
    services.save_call(call=calls[0])
    calls[7].title = "Edited before it was seen"
    services.save_call(call=calls[7])
    services.set_publication_state(call=calls[9], state=PublicationState.ARCHIVED)
    for body in pages(api, first["next"]):
        seen.update({item["slug"]: item for item in body["results"]})
    assert set(seen) == {call.slug for call in calls}
    assert seen["call-00"]["title"] == "Edited after it was seen"
    assert seen["call-07"]["title"] == "Edited before it was seen"
    assert seen["call-09"]["publication_state"] == "archived"


def test_count_is_the_number_of_changes_from_the_page_on(api):
    since = timezone.now() - DAY
    for i in range(5):
        make(slug=f"c-{i}")
    assert [body["count"] for body in pages(api, url(SYNC, since, page_size=2))] == [5, 3, 1]


def test_a_sync_page_costs_the_same_queries_whatever_the_calls_and_their_rows(api):
    since = timezone.now() - DAY
    counts = []
    for n in (3, 30):
        with one_refresh():
            for _ in range(n):
                call = make()
                CallFunderFactory(call=call)
                RoundFactory(call=call, opens_on=today() - DAY, closes_on=today() + DAY)
                CeilingFactory(call=call)
                SourceFactory(call=call)
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url(SYNC, since, page_size=100)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_sync_answers_304_until_a_change(api, changes):
    first = api.get(url(SYNC, changes))
    assert api.get(url(SYNC, changes), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    make(slug="later")
    again = api.get(url(SYNC, changes), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and "later" in [item["slug"] for item in again.json()["results"]]


def test_the_schema_documents_the_sync_endpoint(api):
    schema = api.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/sync/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["updated_since"]["required"] is True
    assert parameters["updated_since"]["schema"]["format"] == "date-time"
    assert {"cursor", "page_size", "region", "If-None-Match"} <= set(parameters)
    assert "ordering" not in parameters and "page" not in parameters
    assert {"200", "304", "400", "404", "429"} <= set(operation["responses"])
    listing = {p["name"]: p for p in schema["paths"]["/api/v1/calls/"]["get"]["parameters"]}
    assert "/api/v1/sync/" in listing["updated_since"]["description"]
