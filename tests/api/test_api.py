"""The partners' API (/api/v1/): contract, filters, sync, conditional requests, exports, access."""
import datetime
import gc
import json
import os
import resource

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.http import http_date
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from calls import services
from calls.api.exports import LICENCE
from calls.choices import REGIONS, Beneficiary, PublicationState, Status
from calls.models import Call, Funder, Region
from calls.querysets import today
from calls.reading import read_model
from calls.reading.filters import CallFilterSet
from tests.factories import (
    CallFactory,
    CallFunderFactory,
    CeilingFactory,
    FunderFactory,
    LaureateFactory,
    ProgrammeFactory,
    RoundFactory,
    SourceFactory,
    ThemeFactory,
    UserFactory,
    one_refresh,
)
from tests.helpers import all_results, reindex

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
CALLS = "/api/v1/calls/"
HIGH_RATES = {"anon": "100000/minute", "partner": "100000/minute"}


@pytest.fixture(autouse=True)
def fresh_throttles(settings):
    """Throttle counters live in the cache: each test starts with none, and rates high enough."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": HIGH_RATES}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


def make(**fields):
    """A published call open today (statuses use the real today)."""
    fields.setdefault("opens_on", today() - 10 * DAY)
    fields.setdefault("closes_on", today() + 30 * DAY)
    return CallFactory(**fields)


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def partner():
    user = UserFactory(username="cluster-partner")
    user.user_permissions.add(Permission.objects.get(codename="submit_call", content_type__app_label="calls"))
    return user


@pytest.fixture
def full_call():
    """A published call with every relation filled in, and a published previous edition."""
    with one_refresh():  # its read model brought up to date once, as every writer does
        previous = make(slug="edition-2022", opens_on=datetime.date(2022, 1, 1), closes_on=datetime.date(2022, 3, 1))
        call = make(
            slug="integrateurs", title="Intégrateurs", total_budget_eur=40_000_000, floor_eur=500_000,
            funding_rate_min_pct=25, funding_rate_max_pct=50, trl_min=4, trl_max=7, consortium_required=True,
            scope="regional", eligibility="PME et ETI", eligible_expenses="Équipements",
            apply_url="https://example.org/candidater", previous_edition=previous,
        )
        CallFunderFactory(call=call, funder=FunderFactory(slug="bpifrance", name="Bpifrance", kind="public_bank"))
        CallFunderFactory(call=call, funder=FunderFactory(slug="region-idf", kind="regional_authority",
                                                          region=Region.objects.get(code="11")), role="co_funder")
        RoundFactory(call=call, name="Vague 1", opens_on=today() - 5 * DAY, closes_on=today() + 5 * DAY,
                     budget_eur=10_000_000)
        CeilingFactory(call=call, amount_eur=3_000_000, condition="Plateformes déjà labellisées")
        CeilingFactory(call=call, amount_eur=2_000_000, condition="Nouvelles plateformes")
        SourceFactory(call=call, locator="p. 12", accessed_on=datetime.date(2026, 1, 5))
        LaureateFactory(call=call, organisation="Bioprod SAS", project="Proto", amount_eur=1_500_000,
                        region=Region.objects.get(code="84"), year=2023)
        call.beneficiaries.set(["sme", "startup"])
        call.aid_forms.set(["grant"])
        call.regions.set(["11", "84"])
        call.themes.set([ThemeFactory(slug="bioproduction"), ThemeFactory(slug="therapie-cellulaire")])
        call.programme = ProgrammeFactory(slug="france-2030", name="France 2030")
        call.save()
    return call


# -- Contract ------------------------------------------------------------------------------------

CALL_FIELD_TYPES = {
    "slug": str, "url": str, "title": str, "summary": str, "status": str, "call_type": str,
    "programme": (dict, type(None)), "funders": list, "opens_on": (str, type(None)),
    "closes_on": (str, type(None)), "is_rolling": bool, "next_deadline": (str, type(None)), "rounds": list,
    "total_budget_eur": (int, type(None)), "ceilings": list, "max_ceiling_eur": (int, type(None)),
    "floor_eur": (int, type(None)), "funding_rate_min_pct": (int, type(None)),
    "funding_rate_max_pct": (int, type(None)), "aid_forms": list, "beneficiaries": list, "scope": str,
    "regions": list, "themes": list, "trl_min": (int, type(None)), "trl_max": (int, type(None)),
    "consortium_required": (bool, type(None)), "eligibility": str, "eligible_expenses": str, "apply_url": str,
    "sources": list, "laureates": list, "previous_edition": (str, type(None)),
    "next_edition": (str, type(None)), "last_verified_on": (str, type(None)), "publication_state": str,
    "updated_at": str,
}


def test_call_detail_has_the_contract_fields_and_types(api, full_call):
    body = api.get(f"{CALLS}integrateurs/").json()
    for field, kind in CALL_FIELD_TYPES.items():
        assert field in body, field
        assert isinstance(body[field], kind), (field, body[field])
    assert body["url"] == "http://testserver/appels/integrateurs/"
    assert body["status"] == Status.OPEN
    assert body["programme"] == {"slug": "france-2030", "name": "France 2030"}
    assert body["funders"][0] == {
        "slug": "bpifrance", "name": "Bpifrance", "acronym": "", "kind": "public_bank", "role": "funder",
    }
    assert [f["role"] for f in body["funders"]] == ["funder", "co_funder"]
    assert body["rounds"] == [{
        "name": "Vague 1", "opens_on": (today() - 5 * DAY).isoformat(), "opens_on_precision": "day",
        "closes_on": (today() + 5 * DAY).isoformat(), "closes_on_precision": "day", "budget_eur": 10_000_000,
    }]
    assert body["next_deadline"] == (today() + 5 * DAY).isoformat()
    assert body["ceilings"] == [
        {"amount_eur": 3_000_000, "condition": "Plateformes déjà labellisées"},
        {"amount_eur": 2_000_000, "condition": "Nouvelles plateformes"},
    ]
    assert body["max_ceiling_eur"] == 3_000_000
    assert body["total_budget_eur"] == 40_000_000 and body["floor_eur"] == 500_000
    assert body["aid_forms"] == ["grant"]
    assert body["beneficiaries"] == ["sme", "startup"]
    assert body["regions"] == ["11", "84"]
    assert body["themes"] == ["bioproduction", "therapie-cellulaire"]
    source = body["sources"][0]
    assert set(source) == {"title", "url", "locator", "accessed_on"}
    assert source["locator"] == "p. 12" and source["accessed_on"] == "2026-01-05" and source["title"]
    assert body["laureates"] == [{
        "organisation": "Bioprod SAS", "project": "Proto", "amount_eur": 1_500_000, "region": "84", "year": 2023,
    }]
    assert body["previous_edition"] == "edition-2022" and body["next_edition"] is None
    assert body["publication_state"] == "published"
    assert datetime.datetime.fromisoformat(body["updated_at"]).tzinfo is not None
    previous = api.get(f"{CALLS}edition-2022/").json()
    assert previous["next_edition"] == "integrateurs" and previous["status"] == Status.CLOSED


def test_unpublished_editions_are_not_linked(api, full_call):
    make(slug="brouillon", previous_edition=full_call, publication_state=PublicationState.DRAFT)
    assert api.get(f"{CALLS}integrateurs/").json()["next_edition"] is None


def test_list_has_the_detail_shape(api, full_call):
    listed = {c["slug"]: c for c in api.get(f"{CALLS}?status=open&status=closed").json()["results"]}
    assert listed["integrateurs"] == api.get(f"{CALLS}integrateurs/").json()


def test_urls_do_not_depend_on_the_request_language(api, full_call):
    body = api.get(f"{CALLS}integrateurs/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["url"] == "http://testserver/appels/integrateurs/"


def _fill(n):
    funder, theme = FunderFactory(), ThemeFactory()
    with one_refresh():
        for _ in range(n):
            call = make()
            CallFunderFactory(call=call, funder=funder)
            RoundFactory(call=call, opens_on=today() - DAY, closes_on=today() + DAY)
            CeilingFactory(call=call)
            SourceFactory(call=call)
            LaureateFactory(call=call)
            call.themes.add(theme)
            call.beneficiaries.add("sme")
            call.regions.add("11")
            call.aid_forms.add("grant")
            reindex(call=call)


@pytest.mark.parametrize("n", [5, pytest.param(40, marks=pytest.mark.slow)])  # (many calls: the slow tier)
def test_list_queries_do_not_grow_with_the_number_of_calls(api, n, django_assert_max_num_queries):
    _fill(n)
    with django_assert_max_num_queries(14):
        response = api.get(f"{CALLS}?page_size=100")
    assert response.json()["count"] == n


@pytest.mark.slow  # 40 calls with their rows
def test_list_queries_are_the_same_for_5_and_40_calls(api):
    counts = []
    for n in (5, 35):
        _fill(n)
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"{CALLS}?page_size=100").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# -- Issue 9: representations read from the read model's documents -------------------------------


def live_representation(call):
    """What `CallSerializer` gives for `call` read live, with its rows (the reference)."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from calls.api.queries import calls_for_api
    from calls.api.serializers import CallSerializer

    request = Request(APIRequestFactory().get("/api/v1/calls/"))
    return dict(CallSerializer(calls_for_api().get(pk=call.pk), context={"request": request}).data)


@pytest.fixture
def call_with_every_row(full_call):
    """`full_call` (funders, rounds, ceilings, sources, laureates, themes, regions, beneficiaries,
    aid forms, a programme, a published previous edition) with a published next edition too."""
    make(slug="integrateurs-2027", previous_edition=full_call)
    return full_call


def test_list_and_detail_equal_the_serializer_on_live_objects_field_by_field(api, call_with_every_row):
    expected = json.loads(json.dumps(live_representation(call_with_every_row), default=str))
    detail = api.get(f"{CALLS}integrateurs/").json()
    listed = {c["slug"]: c for c in api.get(f"{CALLS}?status=open&status=closed").json()["results"]}["integrateurs"]
    assert list(detail) == list(expected)  # the same fields, in the same order
    for field in expected:
        assert detail[field] == expected[field], field
        assert listed[field] == expected[field], field
    assert detail["next_edition"] == "integrateurs-2027" and detail["previous_edition"] == "edition-2022"
    assert len(detail["funders"]) == 2 and len(detail["ceilings"]) == 2 and detail["rounds"] and detail["laureates"]


def test_the_stored_document_does_not_depend_on_the_language():
    from calls.models import Call as Calls
    from calls.reading.documents import call_document

    call = make(slug="bilingue")
    call.themes.set([ThemeFactory(slug="vaccins", name="Vaccins", name_en="Vaccines")])
    reindex(call=call)
    with translation.override("fr"):
        french = call_document(Calls.objects.get(pk=call.pk))
    with translation.override("en"):
        english = call_document(Calls.objects.get(pk=call.pk))
    assert french == english
    assert french["url"] == "/appels/bilingue/" and french["themes"] == ["vaccins"]
    assert api_english(f"{CALLS}bilingue/")["url"] == "http://testserver/appels/bilingue/"


def api_english(url):
    return APIClient().get(url, HTTP_ACCEPT_LANGUAGE="en").json()


def test_changes_through_the_services_show_up_in_list_and_detail(api, call_with_every_row):
    call = call_with_every_row
    call.title = "Intégrateurs industriels"
    services.save_call(call=call)
    RoundFactory(call=call, name="Vague 2", opens_on=today() + 20 * DAY, closes_on=today() + 25 * DAY)
    funder = call.funders.get(slug="bpifrance")
    funder.name = "Bpifrance Financement"
    services.save_reference(instance=funder)
    services.set_publication_state(call=Call.objects.get(slug="integrateurs-2027"), state=PublicationState.DRAFT)
    for body in (api.get(f"{CALLS}integrateurs/").json(),
                 next(c for c in api.get(f"{CALLS}?status=open").json()["results"] if c["slug"] == "integrateurs")):
        assert body["title"] == "Intégrateurs industriels"
        assert [r["name"] for r in body["rounds"]] == ["Vague 1", "Vague 2"]
        assert body["funders"][0]["name"] == "Bpifrance Financement"
        assert body["next_edition"] is None  # taken back to draft: no longer linked
        assert body == json.loads(json.dumps(live_representation(call), default=str))


def test_a_call_saved_outside_the_services_is_never_served_stale(api):
    call = make(slug="hors-services", title="Avant")
    Call.objects.filter(pk=call.pk).update(title="Après", updated_at=timezone.now())  # no read model refresh
    assert api.get(f"{CALLS}hors-services/").json()["title"] == "Après"


def _list_queries(api, url):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_a_list_page_costs_the_same_few_queries_whatever_the_calls_and_their_rows(api):
    counts = []
    for n in (3, 40):
        _fill(n)
        cache.clear()  # a fresh count each time
        counts.append(len(_list_queries(api, f"{CALLS}?page_size=100")))
    assert counts[0] == counts[1] <= 5  # version, count, page ids, page documents (+ a savepoint at most)


def test_a_304_reads_the_version_and_scans_no_call(api):
    _fill(10)
    etag = api.get(CALLS)["ETag"]
    with CaptureQueriesContext(connection) as queries:
        assert api.get(CALLS, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert len(queries) == 1 and "calls_call" not in queries[0]["sql"]


def test_pages_after_the_first_reuse_the_count_until_a_write(api):
    _fill(7)
    first = api.get(f"{CALLS}?page_size=3").json()
    assert first["count"] == 7
    sql = _list_queries(api, first["next"])
    assert not any("COUNT(" in query.upper() for query in sql)
    make(slug="nouveau")
    assert api.get(f"{CALLS}?page_size=3").json()["count"] == 8


def test_a_list_page_asked_again_reads_only_the_version_and_its_documents(api):
    _fill(7)
    url = f"{CALLS}?page_size=3&page=2"
    first = api.get(url).json()
    sql = _list_queries(api, url)
    assert len(sql) == 2 and "calls_registryversion" in sql[0]  # the page's ids and the count are kept
    assert api.get(url).json() == first


def test_a_kept_list_page_changes_after_a_write(api):
    _fill(4)
    url = f"{CALLS}?page_size=2"
    before = [call["slug"] for call in api.get(url).json()["results"]]
    assert before == [call["slug"] for call in api.get(url).json()["results"]]
    make(slug="bientot-clos", opens_on=today() - DAY, closes_on=today())  # closes before the others
    after = [call["slug"] for call in api.get(url).json()["results"]]
    assert after[0] == "bientot-clos" and after[1] == before[0]


def test_a_write_anywhere_gives_every_list_a_new_etag(api, full_call):
    etags = {url: api.get(url)["ETag"] for url in (CALLS, f"{CALLS}integrateurs/", "/api/v1/themes/")}
    services.save_reference(instance=ThemeFactory(slug="nouveau-theme"))
    for url, etag in etags.items():
        assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200, url


@pytest.mark.parametrize("ordering", ["deadline", "newest", "ceiling", "relevance&q=bioproduction"])
def test_following_next_links_gives_the_searchs_order(api, varied_calls, ordering):
    query = f"status=open&status=closed&status=upcoming&ordering={ordering}"
    expected = [call.slug for call in CallFilterSet(QueryDict(query)).qs]
    first = api.get(f"{CALLS}?{query}&page_size=2").json()
    assert "cursor=" in first["next"] and "page=2" in first["next"]
    assert [c["slug"] for c in all_results(api, f"{CALLS}?{query}&page_size=2")] == expected
    # A page number alone still reads that page (by offset), as documented.
    assert [c["slug"] for c in api.get(f"{CALLS}?{query}&page_size=2&page=2").json()["results"]] == expected[2:4]


def test_an_edit_while_paging_shifts_no_call_past_the_cursor(api):
    calls = [make(slug=f"c-{i}", closes_on=today() + (i + 1) * DAY) for i in range(9)]
    first = api.get(f"{CALLS}?page_size=3").json()
    assert [c["slug"] for c in first["results"]] == ["c-0", "c-1", "c-2"]
    calls[0].closes_on = today() + 100 * DAY  # a call already seen moves to the end
    services.save_call(call=calls[0], unsourced_acknowledged=True)
    rest = all_results(api, first["next"])
    # By offset, page 2 would start at c-4 and c-3 would never be seen.
    assert [c["slug"] for c in rest] == ["c-3", "c-4", "c-5", "c-6", "c-7", "c-8", "c-0"]
    second = api.get(first["next"]).json()
    assert second["previous"] == "http://testserver/api/v1/calls/?page_size=3"


# A cursor the API did not write is no page of this list: a 404 naming `cursor` (as an unknown
# page; the schema can only say a cursor is a string, so a schema-valid request reaches this).
@pytest.mark.parametrize("cursor", ["", "abc", "W10", "WyJ4IiwgW119", "bm90IGpzb24"])
def test_a_forged_cursor_is_a_404_naming_it(api, cursor):
    make()
    response = api.get(f"{CALLS}?cursor={cursor}")
    assert response.status_code == 404 and response.json()["detail"].startswith("cursor: "), response.content


def test_a_cursor_from_another_ordering_is_a_404_naming_it(api):
    for i in range(3):
        make(slug=f"o-{i}")
    next_link = api.get(f"{CALLS}?page_size=1&ordering=newest").json()["next"]
    cursor = QueryDict(next_link.split("?", 1)[1])["cursor"]
    response = api.get(f"{CALLS}?page_size=1&ordering=ceiling&cursor={cursor}")
    assert response.status_code == 404 and response.json()["detail"].startswith("cursor: "), response.content


# -- Pagination and visibility -------------------------------------------------------------------


def bulk_published(calls):
    """Calls inserted in bulk, as an import would, then their read model refreshed (the write path's step)."""
    created = Call.objects.bulk_create(calls)
    read_model.refresh(call_ids=[call.pk for call in Call.objects.filter(slug__in=[c.slug for c in created])])
    return created


def test_pagination_defaults_to_50_caps_at_500_and_is_stable(api):
    bulk_published([
        Call(title=f"Appel {i:03}", slug=f"appel-{i:03}", call_type="call_for_projects",
             closes_on=today() + 3 * DAY, publication_state=PublicationState.PUBLISHED)
        for i in range(120)
    ])
    body = api.get(CALLS).json()
    assert body["count"] == 120 and len(body["results"]) == 50 and "page=2" in body["next"]
    assert len(api.get(f"{CALLS}?page_size=1000").json()["results"]) == 120  # capped at 500, all fit
    assert len(api.get(f"{CALLS}?page_size=7").json()["results"]) == 7
    # Same deadline and creation for many calls: ordering still gives each exactly once.
    slugs = [c["slug"] for c in all_results(api, f"{CALLS}?page_size=11")]
    assert len(slugs) == len(set(slugs)) == 120
    assert slugs == [c["slug"] for c in all_results(api, f"{CALLS}?page_size=11")]


def test_page_size_above_500_is_capped(api):
    bulk_published([
        Call(title=f"A{i}", slug=f"a-{i}", call_type="fund", is_rolling=True,
             publication_state=PublicationState.PUBLISHED)
        for i in range(501)
    ])
    body = api.get(f"{CALLS}?page_size=501").json()
    assert body["count"] == 501 and len(body["results"]) == 500


def test_anonymous_clients_see_published_calls_only(api, partner):
    make(slug="publie")
    make(slug="brouillon", publication_state=PublicationState.DRAFT)
    make(slug="archive", publication_state=PublicationState.ARCHIVED)
    for client in (api, token_client(partner)):
        assert [c["slug"] for c in client.get(f"{CALLS}?status=open").json()["results"]] == ["publie"]
        assert client.get(f"{CALLS}brouillon/").status_code == 404
        assert client.get(f"{CALLS}archive/").status_code == 404


# -- Filters: one FilterSet for the HTML search and the API --------------------------------------

# Each query with the calls it must give, in order, worked out by hand from `varied_calls` below
# (today's open calls: integrateurs (next deadline in 5 days, a round), occitanie (10 days),
# national-loan (rolling, no deadline); upcoming: soon; closed: gone, edition-2022; a draft: hidden).
SOON = (today() + 15 * DAY).isoformat()
PARITY = {
    "": ["integrateurs", "occitanie", "soon", "national-loan"],  # open and upcoming, soonest deadline first
    "status=open": ["integrateurs", "occitanie", "national-loan"],
    "status=closed&status=upcoming": ["soon", "gone", "edition-2022"],  # no deadline left: latest closing first
    "beneficiary=sme": ["integrateurs", "occitanie", "soon"],  # national-loan names start-ups only
    "region=11": ["integrateurs", "soon", "national-loan"],  # occitanie is for region 76
    "region=84&beneficiary=startup": ["integrateurs", "soon", "national-loan"],
    "funder=bpifrance": ["integrateurs"],
    "funder_kind=public_bank": ["integrateurs", "national-loan"],
    "theme=bioproduction": ["integrateurs"],
    "aid_form=grant&aid_form=loan": ["integrateurs", "national-loan"],
    "amount=4000000": ["occitanie", "soon", "national-loan"],  # integrateurs' highest ceiling is 3 M
    "trl=5": ["integrateurs", "occitanie", "soon"],  # national-loan is TRL 1-3
    "consortium=true": ["integrateurs"],
    "consortium=false": ["occitanie", "soon", "national-loan"],  # false or not stated
    "closing_within=20": ["integrateurs", "occitanie"],
    # One deadline within the range: integrateurs' only deadline is its round's (before SOON; its
    # own later closing date is no deadline of its, as its status and next deadline say).
    f"closes_after={SOON}": ["soon"],
    f"closes_before={SOON}": ["integrateurs", "occitanie"],  # integrateurs by its round
    "call_type=call_for_projects&ordering=ceiling": ["integrateurs", "occitanie", "soon"],  # then by title
    "programme=france-2030": ["integrateurs"],
    "q=bioproduction": ["national-loan", "occitanie", "soon", "integrateurs"],  # in a title first, then by title
    "ordering=newest&status=open&status=closed": ["occitanie", "gone", "national-loan", "integrateurs",
                                                  "edition-2022"],  # last created first
}


@pytest.fixture
def varied_calls(full_call):
    bpi = FunderFactory(slug="bpi-loans", kind="public_bank")
    national = make(slug="national-loan", call_type="open_scheme", is_rolling=True, closes_on=None,
                    title="Prêt bioproduction", trl_min=1, trl_max=3, consortium_required=False)
    national.aid_forms.set(["loan"])
    national.beneficiaries.set(["startup"])
    reindex(call=national)
    CallFunderFactory(call=national, funder=bpi)
    CeilingFactory(call=national, amount_eur=5_000_000)
    make(slug="soon", title="Appel Santé", opens_on=today() + 3 * DAY, closes_on=today() + 60 * DAY)
    make(slug="gone", opens_on=today() - 60 * DAY, closes_on=today() - 3 * DAY)
    regional = make(slug="occitanie", title="Appel Occitanie", scope="regional", closes_on=today() + 10 * DAY)
    regional.regions.set(["76"])
    reindex(call=regional)
    make(slug="hidden", publication_state=PublicationState.DRAFT)


def test_the_api_and_the_html_search_give_the_calls_each_filter_should(api, client, varied_calls):
    for query, expected in PARITY.items():
        assert [c["slug"] for c in all_results(api, f"{CALLS}?{query}")] == expected, query
        if query:  # (the bare home page is an overview, not a list)
            page = client.get(f"/?{query}")
            assert [call.slug for call in page.context["page_obj"]] == expected, query


@pytest.mark.parametrize("query, parameter", [
    ("updated_since=2026-01-01T00:00:00Z&cursor=garbage", "cursor"),
    ("cursor=abc", "cursor"),
    ("updated_since=2026-01-01T00:00:00Z&page=2", "page"),
])
def test_a_page_the_query_cannot_reach_is_a_404_naming_the_parameter(api, query, parameter):
    make()
    response = api.get(f"{CALLS}?{query}")
    assert response.status_code == 404 and response.json()["detail"].startswith(f"{parameter}: ")


def test_an_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# -- Sync ----------------------------------------------------------------------------------------


def test_updated_since_returns_every_change_including_removals(api):
    make(slug="old")
    since = timezone.now()
    archived = make(slug="to-archive", opens_on=today() - 90 * DAY, closes_on=today() - 60 * DAY)
    fresh = make(slug="fresh")
    make(slug="never-published", publication_state=PublicationState.DRAFT)
    services.set_publication_state(call=archived, state=PublicationState.ARCHIVED)
    results = all_results(api, f"{CALLS}?updated_since={since.isoformat().replace('+', '%2B')}")
    assert [c["slug"] for c in results] == ["fresh", "to-archive"]
    assert results[0]["title"] == fresh.title  # a published call in full, whatever its status
    assert results[1] == {
        "slug": "to-archive", "publication_state": "archived",
        "updated_at": results[1]["updated_at"],
    }
    stamps = [c["updated_at"] for c in results]
    assert stamps == sorted(stamps, key=datetime.datetime.fromisoformat)


def test_updated_since_orders_ties_by_slug(api):
    now = timezone.now()
    bulk_published([
        Call(title=s, slug=s, call_type="fund", publication_state=PublicationState.PUBLISHED) for s in "cab"
    ])
    Call.objects.update(updated_at=now)  # a tie no clock gives on purpose: set in the database
    read_model.refresh(call_ids=Call.objects.values_list("pk", flat=True))
    since = (now - DAY).isoformat().replace("+", "%2B")
    assert [c["slug"] for c in all_results(api, f"{CALLS}?updated_since={since}&page_size=2")] == ["a", "b", "c"]


def test_paging_a_sync_while_curators_edit_misses_nothing(api):
    since = timezone.now() - DAY
    calls = [make(slug=f"call-{i:02}") for i in range(12)]
    url = f"{CALLS}?updated_since={since.isoformat().replace('+', '%2B')}&page_size=5"
    seen = {}

    first = api.get(url).json()
    assert first["count"] == 12
    seen.update({c["slug"]: c for c in first["results"]})
    # Between pages, curators edit a call already seen, a call not yet seen, and archive one.
    calls[0].title = "Edited after it was seen"
    services.save_call(call=calls[0])
    calls[7].title = "Edited before it was seen"
    services.save_call(call=calls[7])
    services.set_publication_state(call=calls[9], state=PublicationState.ARCHIVED)
    url = first["next"]
    while url:
        page = api.get(url).json()
        seen.update({c["slug"]: c for c in page["results"]})
        url = page["next"]

    assert set(seen) == {call.slug for call in calls}
    assert seen["call-00"]["title"] == "Edited after it was seen"
    assert seen["call-07"]["title"] == "Edited before it was seen"
    assert seen["call-09"]["publication_state"] == "archived"
    # Offsets would have skipped one: an edit moves a call behind the cursor, not across pages.


def test_a_sync_resumed_from_the_last_seen_instant_gets_later_changes(api):
    make(slug="a")
    results = all_results(api, f"{CALLS}?updated_since=2000-01-01T00:00:00Z")
    last_seen = results[-1]["updated_at"]
    make(slug="b")
    again = all_results(api, f"{CALLS}?updated_since={last_seen.replace('+', '%2B')}")
    assert [c["slug"] for c in again] == ["b"]


# -- Conditional requests ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [f"{CALLS}?status=open", f"{CALLS}integrateurs/", "/api/v1/funders/",
                                 "/api/v1/funders/bpifrance/", "/api/v1/themes/", "/api/v1/programmes/"])
def test_reads_carry_validators_and_answer_304(api, full_call, url):
    response = api.get(url)
    assert response.status_code == 200
    etag, last_modified = response["ETag"], response["Last-Modified"]
    assert etag.startswith('"')
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    not_modified = api.get(url, HTTP_IF_MODIFIED_SINCE=last_modified)
    assert not_modified.status_code == 304 and not_modified["ETag"] == etag
    assert api.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_a_change_gives_a_new_etag(api, full_call):
    url = f"{CALLS}integrateurs/"
    etag = api.get(url)["ETag"]
    full_call.title = "Nouveau titre"
    services.save_call(call=full_call)
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200
    list_etag = api.get(CALLS)["ETag"]
    make(slug="another")
    assert api.get(CALLS, HTTP_IF_NONE_MATCH=list_etag).status_code == 200


def test_a_renamed_funder_gives_a_new_etag_to_the_calls_embedding_it(api, full_call):
    url = f"{CALLS}integrateurs/"
    etag = api.get(url)["ETag"]
    funder = full_call.funders.get(slug="bpifrance")
    funder.name = "Bpifrance Financement"
    services.save_reference(instance=funder)
    response = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["funders"][0]["name"] == "Bpifrance Financement"


def test_etags_differ_by_query(api, full_call):
    assert api.get(f"{CALLS}?status=open")["ETag"] != api.get(f"{CALLS}?status=closed")["ETag"]


def test_an_old_if_modified_since_gets_the_body(api, full_call):
    old = http_date((timezone.now() - 10 * DAY).timestamp())
    assert api.get(f"{CALLS}integrateurs/", HTTP_IF_MODIFIED_SINCE=old).status_code == 200


def test_a_304_never_hides_an_unknown_slug(api):
    assert api.get(f"{CALLS}unknown/", HTTP_IF_NONE_MATCH="*").status_code == 404


# -- Vocabularies and reference data -------------------------------------------------------------


def test_vocabularies_have_french_and_english_labels(api):
    body = api.get("/api/v1/vocabularies/").json()
    assert set(body) >= {"call_types", "statuses", "beneficiary_types", "aid_forms", "funder_kinds", "regions",
                         "scopes", "publication_states"}
    assert {term["code"] for term in body["regions"]} == set(REGIONS)
    assert {"code": "11", "label_fr": "Île-de-France", "label_en": "Île-de-France"} in body["regions"]
    assert [term["code"] for term in body["statuses"]] == ["upcoming", "open", "closed", "dates_unknown"]
    sme = next(term for term in body["beneficiary_types"] if term["code"] == "sme")
    with translation.override("fr"):
        assert sme["label_fr"] == str(Beneficiary.SME.label)
    with translation.override("en"):
        assert sme["label_en"] == str(Beneficiary.SME.label) == "SME"


def test_funders_programmes_and_themes_by_slug(api, full_call):
    funders = api.get("/api/v1/funders/").json()
    assert {"bpifrance", "region-idf"} <= {f["slug"] for f in funders["results"]}
    idf = api.get("/api/v1/funders/region-idf/").json()
    assert idf["region"] == "11" and idf["kind"] == "regional_authority"
    assert idf["url"] == "http://testserver/financeurs/region-idf/"
    child = ProgrammeFactory(slug="sabb", parent=full_call.programme)
    child.funders.add(full_call.funders.get(slug="bpifrance"))
    programme = api.get("/api/v1/programmes/sabb/").json()
    assert programme["parent"] == "france-2030" and programme["funders"] == ["bpifrance"]
    theme = api.get("/api/v1/themes/bioproduction/").json()
    assert set(theme) == {"slug", "name_fr", "name_en"}
    assert api.get("/api/v1/themes/nothing/").status_code == 404


# -- Exports -------------------------------------------------------------------------------------


def test_json_export_streams_every_published_call_with_its_licence(api, full_call):
    make(slug="closed-long-ago", opens_on=datetime.date(2020, 1, 1), closes_on=datetime.date(2020, 2, 1))
    make(slug="draft", publication_state=PublicationState.DRAFT)
    response = api.get("/api/v1/exports/calls.json")
    assert response.status_code == 200 and response.streaming
    assert LICENCE["url"] in response["Link"] and 'rel="license"' in response["Link"]
    assert "Licence Ouverte" in response["X-License"]
    body = json.loads(b"".join(response.streaming_content))
    assert body["licence"] == LICENCE
    assert [c["slug"] for c in body["calls"]] == ["closed-long-ago", "edition-2022", "integrateurs"]
    assert body["calls"][2] == api.get(f"{CALLS}integrateurs/").json()


def test_csv_export_streams_every_published_call_with_its_licence(api, full_call):
    make(slug="draft", publication_state=PublicationState.DRAFT)
    response = api.get("/api/v1/exports/calls.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert LICENCE["url"] in response["Link"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("slug,url,title,status")
    assert [line.split(",")[0] for line in lines[1:]] == ["edition-2022", "integrateurs"]
    assert "http://testserver/appels/integrateurs/" in lines[2]


@pytest.mark.slow  # 20 000 calls written and streamed twice: minutes
def test_export_memory_stays_flat_for_20000_calls(api):
    Call.objects.bulk_create(
        (
            Call(title=f"Appel à projets bioproduction numéro {i}", slug=f"export-{i:05}", call_type="fund",
                 summary="Soutenir la bioproduction de biomédicaments. " * 4, opens_on=datetime.date(2026, 1, 1),
                 closes_on=datetime.date(2026, 12, 31), total_budget_eur=1_000_000 + i,
                 publication_state=PublicationState.PUBLISHED)
            for i in range(20_000)
        ),
        batch_size=1000,
    )
    for url in ("/api/v1/exports/calls.json", "/api/v1/exports/calls.csv"):
        gc.collect()
        baseline = peak = resident_memory()
        size = 0
        for n, chunk in enumerate(api.get(url).streaming_content):
            size += len(chunk)
            if n % 50 == 0:
                peak = max(peak, resident_memory())
        assert size > 20_000 * 150  # the body really holds every call
        assert peak - baseline < 50 * 2**20, f"{url}: resident memory grew by {(peak - baseline) / 2**20:.1f} MB"


def resident_memory() -> int:
    """The process's resident memory now, in bytes (sampled while streaming: tracemalloc would
    slow 20 000 calls down five-fold)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak so far, which can only under-report growth
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# -- Access: throttling, tokens, submissions, CORS -----------------------------------------------


def test_anonymous_clients_are_throttled_per_address_with_retry_after(api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "3/minute",
                                                                                      "partner": "6/minute"}}
    for _ in range(3):
        assert api.get("/api/v1/vocabularies/").status_code == 200
    response = api.get(CALLS)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "detail" in response.json()
    # Another address has its own allowance.
    assert api.get(CALLS, REMOTE_ADDR="10.1.2.3").status_code == 200
    # A forged X-Forwarded-For does not buy a new allowance (no proxy is trusted by default).
    assert api.get(CALLS, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_partners_with_a_token_get_a_higher_rate(settings, partner):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "3/minute",
                                                                                      "partner": "6/minute"}}
    client = token_client(partner)
    for _ in range(6):
        assert client.get("/api/v1/vocabularies/").status_code == 200
    response = client.get("/api/v1/vocabularies/")
    assert response.status_code == 429 and "Retry-After" in response


def test_a_bad_token_is_a_401(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get(CALLS)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_staff_create_a_partners_token_in_the_admin_and_the_api_knows_the_partner_by_it(client, partner):
    """README: staff create tokens in the admin (Auth Token > Tokens > Add, choosing the partner)."""
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    response = client.post("/en/admin/authtoken/tokenproxy/add/", {"user": partner.pk})
    assert response.status_code == 302, response.content
    key = Token.objects.get(user=partner).key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get(CALLS)
    assert response.status_code == 200 and response.wsgi_request.user == partner


SUBMISSION = {
    "title": "AAP Bioproduction Occitanie 2027",
    "call_type": "call_for_projects",
    "summary": "Un appel connu des partenaires avant tout le monde.",
    "opens_on": "2027-01-10",
    "closes_on": "2027-03-31",
    "funders": [{"funder": "region-occitanie", "role": "funder"}],
    "beneficiaries": ["sme", "startup"],
    "aid_forms": ["grant"],
    "scope": "regional",
    "regions": ["76"],
    "themes": ["bioproduction"],
    "trl_min": 4,
    "trl_max": 6,
    "rounds": [{"name": "Vague 1", "opens_on": "2027-01-10", "closes_on": "2027-02-15", "budget_eur": 2_000_000}],
    "ceilings": [{"amount_eur": 500_000, "condition": "PME"}],
    "sources": [{"title": "Communiqué de la Région", "url": "https://example.org/aap", "locator": "§2"}],
    "note": "Annoncé lors du comité du pôle.",
}


@pytest.fixture
def submission_refs():
    FunderFactory(slug="region-occitanie", kind="regional_authority", region=Region.objects.get(code="76"))
    ThemeFactory(slug="bioproduction")


def test_a_partner_submits_a_call_stored_as_a_draft(partner, submission_refs):
    client = token_client(partner)
    response = client.post(CALLS, SUBMISSION, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["publication_state"] == "draft"
    assert body["slug"] == "aap-bioproduction-occitanie-2027"
    call = Call.objects.get(slug=body["slug"])
    assert call.publication_state == PublicationState.DRAFT
    assert call.submitted_by == partner
    assert "cluster-partner" in call.curator_note and "comité du pôle" in call.curator_note
    assert [(r.funder.slug, r.role) for r in call.funder_roles.all()] == [("region-occitanie", "funder")]
    assert call.rounds.get().budget_eur == 2_000_000
    assert call.ceilings.get().amount_eur == 500_000
    assert call.sources.get().title == "Communiqué de la Région"
    assert sorted(call.regions.values_list("code", flat=True)) == ["76"]
    # Curators find it among the drafts to review; the public does not see it.
    assert call in Call.objects.drafts()
    assert APIClient().get(f"{CALLS}{call.slug}/").status_code == 404
    # A second submission with the same title gets its own slug.
    assert client.post(CALLS, SUBMISSION, format="json").json()["slug"] == "aap-bioproduction-occitanie-2027-2"


def test_curators_see_partner_drafts_in_the_admin(curator_client, partner, submission_refs):
    token_client(partner).post(CALLS, SUBMISSION, format="json")
    page = curator_client.get("/admin/calls/call/?publication_state__exact=draft")
    assert page.status_code == 200
    assert SUBMISSION["title"] in page.content.decode()


def test_a_partners_draft_does_not_move_the_public_registry_version(partner, submission_refs, api, settings):
    make(slug="vecteurs")
    listed = api.get(CALLS)
    etag, export = listed["ETag"], api.get("/api/v1/exports/calls.json")
    version = read_model.current_version()
    response = token_client(partner).post(CALLS, SUBMISSION, format="json")
    assert response.status_code == 201
    draft = Call.objects.get(slug=response.json()["slug"])
    draft.title = "Corrigé par un curateur, toujours brouillon"
    services.save_call(call=draft)  # curators' work on it before publication
    # Nothing the public reads changed: same version, a 304 for its copy, the same export file.
    assert read_model.current_version() == version
    assert api.get(CALLS, HTTP_IF_NONE_MATCH=etag).status_code == 304
    again = api.get("/api/v1/exports/calls.json")
    assert again["X-Export-Built-At"] == export["X-Export-Built-At"]
    # Publishing it is a change the public sees; so is taking it back to draft afterwards.
    services.set_publication_state(call=draft, state=PublicationState.PUBLISHED, unsourced_acknowledged=True)
    assert read_model.current_version() == version + 1
    assert api.get(CALLS, HTTP_IF_NONE_MATCH=etag).status_code == 200
    services.set_publication_state(call=draft, state=PublicationState.DRAFT)
    assert read_model.current_version() == version + 2
    # A funder is public whatever embeds it.
    services.save_reference(instance=Funder.objects.get(slug="region-occitanie"))
    assert read_model.current_version() == version + 3


@pytest.mark.parametrize("changes, field", [
    ({"title": ""}, "title"),
    ({"title": " \t "}, "title"),
    ({"summary": "nul \u0000 ici"}, "summary"),
    ({"call_type": "lottery"}, "call_type"),
    ({"trl_min": 12}, "trl_min"),
    ({"regions": ["99"]}, "regions"),
    # (an unknown theme or funder slug is a 404 naming it: below and tests/project/test_hostile_input.py)
    ({"opens_on": "31/01/2027"}, "opens_on"),
    ({"total_budget_eur": -1}, "total_budget_eur"),
    ({"apply_url": "not a url"}, "apply_url"),
    ({"ceilings": [{"amount_eur": 0}]}, "ceilings"),
    ({"sources": [{"title": ""}]}, "sources"),
    ({"slug": "déjà pris"}, "slug"),
])
def test_an_invalid_submission_is_a_400_per_field(partner, submission_refs, changes, field):
    """A field that breaks what the schema states of it."""
    response = token_client(partner).post(CALLS, {**SUBMISSION, **changes}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Call.objects.exists()


@pytest.mark.parametrize("changes, field", [
    ({"closes_on": "2026-12-01"}, "closes_on"),
    ({"trl_min": 7, "trl_max": 3}, "trl_max"),
    ({"funding_rate_min_pct": 80, "funding_rate_max_pct": 40}, "funding_rate_max_pct"),
    ({"funders": [{"funder": "region-occitanie"}, {"funder": "region-occitanie", "role": "co_funder"}]}, "funders"),
    ({"funders": [{"name": "Pôle Eurobiomed"}, {"name": "pôle EUROBIOMED", "role": "animator"}]}, "funders"),
    ({"rounds": [{"name": "V1", "opens_on": "2027-03-01", "closes_on": "2027-02-01"}]}, "rounds"),
    ({"opens_on": "2027-05-01", "closes_on": None, "rounds": [{"name": "V1", "closes_on": "2027-03-01"}]},
     "closes_on"),
    ({"floor_eur": 900_000}, "floor_eur"),
])
def test_fields_valid_alone_that_break_a_rule_together_are_a_422_naming_the_field(
    partner, submission_refs, changes, field,
):
    """Each field fits the schema; together they break a rule no schema states (the 422's
    documented list): the field is named, nothing is stored."""
    response = token_client(partner).post(CALLS, {**SUBMISSION, **changes}, format="json")
    assert response.status_code == 422, response.content
    assert field in response.json(), response.json()
    assert not Call.objects.exists()


def test_a_submission_with_a_taken_slug_is_a_409_naming_the_slug(partner, submission_refs):
    make(slug="taken")
    response = token_client(partner).post(CALLS, {**SUBMISSION, "slug": "taken"}, format="json")
    assert response.status_code == 409 and "slug" in response.json()
    assert Call.objects.count() == 1


def test_a_funder_slug_that_names_nothing_is_a_400_naming_the_field_and_how_to_propose_one(
    partner, submission_refs,
):
    """A mistake in the request (a funder the registry lacks is named by its `name`): the field
    and its row named, and how to propose the funder; the schema documents this 400."""
    response = token_client(partner).post(
        CALLS, {**SUBMISSION, "funders": [{"funder": "region-occitanie"}, {"funder": "nobody"}]}, format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400, response.content
    assert response.json() == {"funders": [
        "#2 funder: No funder has the slug “nobody”: give its `name` instead to propose a funder not in the "
        "registry yet."
    ]}
    assert not Call.objects.exists()
    schema = APIClient().get("/api/schema/?format=json").json()
    documented = schema["paths"]["/api/v1/calls/"]["post"]["responses"]["400"]["description"]
    assert "`funders[].funder` slug naming no funder" in documented and "`name` instead" in documented


@pytest.mark.parametrize("changes, field", [
    ({"colour": "blue"}, "colour"),
    ({"publication_state": "published"}, "publication_state"),
    ({"rounds": [{"name": "V1", "colour": "blue"}]}, "rounds"),
    ({"funders": [{"funder": "region-occitanie", "colour": "blue"}]}, "funders"),
])
def test_a_field_the_submission_does_not_define_is_a_400_naming_it(partner, submission_refs, changes, field):
    response = token_client(partner).post(CALLS, {**SUBMISSION, **changes}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    if field in ("rounds", "funders"):
        assert response.json()[field] == [response.json()[field][0]] and response.json()[field][0].startswith(
            "#1 colour: "
        )
    assert not Call.objects.exists()


def test_the_400s_row_errors_are_numbered_from_1_like_the_422s(partner, submission_refs):
    client = token_client(partner)
    rounds = [{"name": "V1"}, {"name": "V2", "closes_on": "31/01/2027"}]
    bad = client.post(CALLS, {**SUBMISSION, "rounds": rounds}, format="json")
    assert bad.status_code == 400
    [message] = bad.json()["rounds"]
    assert message.startswith("#2 closes_on: "), message
    rounds = [{"name": "V1"}, {"name": "V2", "opens_on": "2027-03-01", "closes_on": "2027-02-01"}]
    unprocessable = client.post(CALLS, {**SUBMISSION, "rounds": rounds}, format="json")
    assert unprocessable.status_code == 422
    assert all(m.startswith("#2 ") for m in unprocessable.json()["rounds"]), unprocessable.json()
    listed = client.post(CALLS, {**SUBMISSION, "aid_forms": ["grant", "lottery"]}, format="json")
    assert listed.status_code == 400 and listed.json()["aid_forms"][0].startswith("#2: ")


@pytest.mark.parametrize("changes, field", [
    ({"slug": "appel\u0000"}, "slug"),
    ({"programme": "nulle\u0000part"}, "programme"),
    ({"funders": [{"funder": "region\u0000occitanie"}]}, "funders"),
    ({"themes": ["bio\u0000production"]}, "themes"),
    ({"rounds": [{"name": "V1", "note\u0000": "x"}]}, "rounds"),
    ({"sources": [{"title": "ok", "locator": "\u0000"}]}, "sources"),
])
def test_a_nul_character_anywhere_in_a_submission_is_a_400_naming_the_field(partner, submission_refs, changes, field):
    """On SQLite and on PostgreSQL (which refuses NUL in a text: a slug holding one must never
    reach a query)."""
    body = json.dumps({**SUBMISSION, **changes})
    assert "\\u0000" in body  # JSON's escape of the NUL character
    response = token_client(partner).post(CALLS, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Call.objects.exists()


def test_submission_errors_follow_accept_language(partner, submission_refs):
    client = token_client(partner)
    bodies = [{**SUBMISSION, "colour": "blue"}, {**SUBMISSION, "funders": [{"funder": "nobody"}]},
              {**SUBMISSION, "funders": [{"funder": "region-occitanie"}] * 2}]
    english = [client.post(CALLS, body, format="json", HTTP_ACCEPT_LANGUAGE="en") for body in bodies]
    french = [client.post(CALLS, body, format="json", HTTP_ACCEPT_LANGUAGE="fr") for body in bodies]
    assert "Unknown field" in english[0].json()["colour"][0]
    assert "Champ inconnu" in french[0].json()["colour"][0]
    assert "give its `name` instead" in english[1].json()["funders"][0]
    assert "donnez plutôt son `name`" in french[1].json()["funders"][0]
    assert "Name each funder once" in english[2].json()["funders"][0]
    assert "Nommez chaque financeur une fois" in french[2].json()["funders"][0]
    assert english[0]["Content-Language"] == "en" and french[0]["Content-Language"] == "fr"
    # The `detail` of a refusal too: the permission, a body that is not JSON.
    reader = token_client(UserFactory(username="reader"))
    assert "permission to submit" in reader.post(CALLS, SUBMISSION, format="json",
                                                  HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert "permission de soumettre" in reader.post(CALLS, SUBMISSION, format="json",
                                                     HTTP_ACCEPT_LANGUAGE="fr").json()["detail"]
    broken = '{"title": "x", "rounds": ' + "[" * 30 + "]" * 30 + "}"
    assert "nested" in client.post(CALLS, broken, content_type="application/json",
                                   HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert "imbriqué" in client.post(CALLS, broken, content_type="application/json",
                                     HTTP_ACCEPT_LANGUAGE="fr").json()["detail"]


def test_submitting_needs_a_token_and_the_permission(api, submission_refs):
    assert api.post(CALLS, SUBMISSION, format="json").status_code == 401
    no_permission = token_client(UserFactory(username="reader"))
    response = no_permission.post(CALLS, SUBMISSION, format="json")
    assert response.status_code == 403 and "detail" in response.json()
    assert not Call.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_no_other_write_goes_through(partner, full_call, method):
    client = token_client(partner)
    assert getattr(client, method)(f"{CALLS}integrateurs/", {"title": "x"}, format="json").status_code == 405
    assert getattr(client, method)(CALLS, {"title": "x"}, format="json").status_code == 405
    assert client.post("/api/v1/funders/", {"name": "x"}, format="json").status_code == 405


def test_read_endpoints_may_be_called_from_any_site(api, full_call):
    response = api.get(CALLS, HTTP_ORIGIN="https://partner.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    preflight = api.options(
        f"{CALLS}integrateurs/", HTTP_ORIGIN="https://partner.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match",
    )
    assert preflight["Access-Control-Allow-Origin"] == "*"
    allowed = preflight["Access-Control-Allow-Methods"]
    assert "GET" in allowed and "POST" not in allowed and "DELETE" not in allowed
    # Nothing outside the API is opened to other sites.
    page = api.get("/", HTTP_ORIGIN="https://partner.example")
    assert "Access-Control-Allow-Origin" not in page


# -- Schema and docs -----------------------------------------------------------------------------


def test_the_schema_documents_every_filter_with_its_type_and_enum(api):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/calls/"]["get"]["parameters"]}
    for name in CallFilterSet.base_filters:
        assert name in parameters, name
    assert set(parameters["status"]["schema"]["items"]["enum"]) == set(Status.values)
    assert set(parameters["region"]["schema"]["enum"]) == set(REGIONS)
    assert set(parameters["beneficiary"]["schema"]["items"]["enum"]) == set(Beneficiary.values)
    assert parameters["updated_since"]["schema"]["format"] == "date-time"
    assert parameters["closes_after"]["schema"]["format"] == "date"
    assert parameters["trl"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 9}
    assert {"page", "page_size", "cursor", "If-None-Match", "If-Modified-Since"} <= set(parameters)
    responses = schema["paths"]["/api/v1/calls/"]["get"]["responses"]
    assert {"200", "304", "400", "404", "429"} <= set(responses)
    post = schema["paths"]["/api/v1/calls/"]["post"]["responses"]
    assert {"201", "400", "401", "403"} <= set(post)


def test_the_docs_are_served_without_a_cdn(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html and "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower() and "<style" not in html  # (the site's CSP refuses inline styles)
    redoc = api.get("/api/redoc/").content.decode()
    assert '<script src="/api/redoc/redoc.standalone.js">' in redoc
    bundle = api.get("/api/redoc/redoc.standalone.js")
    assert bundle.status_code == 200 and bundle["Content-Type"].startswith("text/javascript")
    assert b"Redoc" in bundle.content and b"cdn.redoc.ly" not in bundle.content


# -- Issue 12: the API's root, its language, proposed funders, the submission's answer, nulls ------

def test_the_api_root_links_its_endpoints_the_schema_and_the_docs(api):
    response = api.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["calls"] == "http://testserver/api/v1/calls/"
    assert body["vocabularies"] == "http://testserver/api/v1/vocabularies/"
    assert body["schema"] == "http://testserver/api/schema/"
    assert body["docs"] == "http://testserver/api/docs/"
    assert body["sync"] == "http://testserver/api/v1/sync/"
    assert body["submissions"] == "http://testserver/api/v1/submissions/"
    assert {"funders", "programmes", "themes", "export_json", "export_csv", "redoc"} <= set(body)
    # Every route of /api/v1/ without a path parameter is linked.
    from calls.api.urls import v1

    linked = {url.removeprefix("http://testserver") for url in body.values()}
    for pattern in v1[:-1]:
        route = str(pattern.pattern)
        if "<" not in route and "(?P" not in route and route:
            assert f"/api/v1/{route}" in linked, route
    answers = {"/api/v1/sync/": 400, "/api/v1/submissions/": 401}  # a required `updated_since`; a token
    for url in linked:
        assert api.get(url).status_code == answers.get(url, 200), url


def test_accept_language_en_gives_english_errors_and_french_by_default(api):
    english = api.get(f"{CALLS}?region=99", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 400
    assert "Select a valid choice" in english.json()["region"][0]
    assert english["Content-Language"] == "en"
    french = api.get(f"{CALLS}?region=99")
    assert "Sélectionnez un choix valide" in french.json()["region"][0]


def test_accept_language_en_gives_an_english_throttle_message(api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "1/minute",
                                                                                      "partner": "1/minute"}}
    api.get("/api/v1/vocabularies/")
    english = api.get("/api/v1/vocabularies/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 429 and "throttled" in english.json()["detail"]
    french = api.get("/api/v1/vocabularies/", HTTP_ACCEPT_LANGUAGE="fr")
    assert french.status_code == 429 and "throttled" not in french.json()["detail"]


def test_the_schema_describes_parameters_for_developers_in_english(api):
    for query in ("", "&lang=fr", "&lang=en"):
        schema = api.get(f"/api/schema/?format=json{query}", HTTP_ACCEPT_LANGUAGE="fr").json()
        parameters = {p["name"]: p for p in schema["paths"]["/api/v1/calls/"]["get"]["parameters"]}
        assert parameters["region"]["description"].startswith("INSEE region code")
        assert parameters["beneficiary"]["description"].startswith("Beneficiary type codes")
        assert "Ma région" not in json.dumps(schema, ensure_ascii=False)
        assert "Je suis" not in json.dumps(schema, ensure_ascii=False)
        assert "Appel à projets" not in json.dumps(schema, ensure_ascii=False)  # enum labels in English too
        assert all(p.get("description") for p in parameters.values()), [n for n, p in parameters.items()
                                                                          if not p.get("description")]


def _readme_submission():
    """The JSON body of the README's `curl -X POST` example, as written."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("curl -s -X POST"):]
    return json.loads(block[block.index("-d '") + 4: block.index("}'") + 1])


def test_the_readmes_submission_example_works_as_written(partner):
    from tests.factories import FunderFactory as Funders

    Funders(slug="region-occitanie", kind="regional_authority", region=Region.objects.get(code="76"))  # bundled
    response = token_client(partner).post(CALLS, _readme_submission(), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["review_state"] == "awaiting_review" and body["publication_state"] == "draft"
    assert "review" in body["detail"] and "Biocluster Occitanie" in body["detail"]
    call = Call.objects.get(slug=body["slug"])
    assert "Proposed funder, not in the registry yet: Biocluster Occitanie" in call.curator_note
    assert [role.funder.slug for role in call.funder_roles.all()] == ["region-occitanie"]


def test_the_submission_answer_gives_the_drafts_api_address_that_answers_its_submitter(partner, submission_refs):
    client = token_client(partner)
    response = client.post(CALLS, SUBMISSION, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 201
    body = response.json()
    assert body["url"] is None  # no public page yet: it would answer 404
    assert body["submission_url"] == "http://testserver/api/v1/submissions/aap-bioproduction-occitanie-2027/"
    assert response["Location"] == body["submission_url"]
    assert "awaits review" in body["detail"] or "will review it" in body["detail"]
    followed = client.get("/api/v1/submissions/aap-bioproduction-occitanie-2027/")
    assert followed.status_code == 200 and followed.json()["review_state"] == "awaiting_review"
    assert APIClient().get("/api/v1/submissions/aap-bioproduction-occitanie-2027/").status_code == 401
    other = token_client(UserFactory(username="other-partner"))
    assert other.get("/api/v1/submissions/aap-bioproduction-occitanie-2027/").status_code == 404


def test_a_partner_lists_its_own_submissions_paginated_with_their_review_state(partner, submission_refs):
    client = token_client(partner)
    first = client.post(CALLS, SUBMISSION, format="json").json()["slug"]
    second = client.post(CALLS, {**SUBMISSION, "title": "Second appel"}, format="json").json()["slug"]
    services.set_publication_state(call=Call.objects.get(slug=first), state=PublicationState.PUBLISHED,
                                   unsourced_acknowledged=True)
    make(slug="someone-elses", submitted_by=UserFactory(username="other-partner"), publication_state="draft")
    make(slug="curated")
    body = client.get("/api/v1/submissions/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["count"] == 2
    assert [(row["slug"], row["review_state"]) for row in body["results"]] == [
        (second, "awaiting_review"), (first, "published"),
    ]
    assert body["results"][0]["submission_url"] == f"http://testserver/api/v1/submissions/{second}/"
    paged = client.get("/api/v1/submissions/?page_size=1&page=2").json()
    assert paged["count"] == 2 and [row["slug"] for row in paged["results"]] == [first]
    assert paged["previous"] and not paged["next"]
    assert client.get("/api/v1/submissions/?page=3").status_code == 404
    assert APIClient().get("/api/v1/submissions/").status_code == 401
    assert token_client(UserFactory(username="reader")).get("/api/v1/submissions/").json()["count"] == 0


def test_a_submissions_rounds_widen_its_window(partner, submission_refs):
    late = {**SUBMISSION, "rounds": [{"name": "Étape 2", "closes_on": "2027-06-30"}]}
    body = token_client(partner).post(CALLS, late, format="json").json()
    assert body["closes_on"] == "2027-06-30"


def test_a_funder_row_needs_a_slug_or_a_name(partner, submission_refs):
    client = token_client(partner)
    response = client.post(
        CALLS, {**SUBMISSION, "funders": [{"role": "funder"}]}, format="json", HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and "funders" in response.json()
    unknown = client.post(
        CALLS, {**SUBMISSION, "funders": [{"funder": "nobody"}]}, format="json", HTTP_ACCEPT_LANGUAGE="en",
    )
    assert unknown.status_code == 400 and "give its `name` instead" in json.dumps(unknown.json())


def test_missing_strings_are_null_like_missing_numbers(api):
    make(slug="sparse", apply_url="", eligible_expenses="", total_budget_eur=None)
    body = api.get(f"{CALLS}sparse/").json()
    assert body["apply_url"] is None and body["eligible_expenses"] is None and body["total_budget_eur"] is None
    FunderFactory(slug="no-site", website="")
    assert api.get("/api/v1/funders/no-site/").json()["website"] is None
    schema = api.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert schema["Call"]["properties"]["apply_url"]["nullable"] is True
    assert schema["Funder"]["properties"]["website"]["nullable"] is True


def test_funders_and_programmes_give_their_english_gloss_or_null(api):
    FunderFactory(slug="anr", name="Agence nationale de la recherche", name_en="French National Research Agency")
    FunderFactory(slug="bpi", name="Bpifrance")
    ProgrammeFactory(slug="pis", name="Plan innovation santé", name_en="Health innovation plan")
    ProgrammeFactory(slug="bare", name="France 2030")
    anr = api.get("/api/v1/funders/anr/").json()
    assert (anr["name"], anr["name_en"]) == ("Agence nationale de la recherche", "French National Research Agency")
    assert api.get("/api/v1/funders/bpi/").json()["name_en"] is None
    assert api.get("/api/v1/programmes/pis/").json()["name_en"] == "Health innovation plan"
    assert api.get("/api/v1/programmes/bare/").json()["name_en"] is None
    schema = api.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert schema["Funder"]["properties"]["name_en"]["nullable"] is True
    assert schema["Programme"]["properties"]["name_en"]["nullable"] is True


@pytest.mark.parametrize("path, field", [
    ("/api/v1/calls/?q=vaccins%00", "q"), ("/api/v1/calls/?page=%00", "page"),
    ("/api/v1/calls/?page_size=5%00", "page_size"), ("/api/v1/calls/?cursor=%00", "cursor"),
    ("/api/v1/calls/?ordering=%00", "ordering"), ("/api/v1/calls/?format=json%00", "format"),
    ("/api/v1/calls/?col%00our=blue", "col\\u0000our"),
    ("/api/v1/sync/?updated_since=2026-01-01T00:00:00Z%00", "updated_since"),
    ("/api/v1/funders/?page=%00", "page"), ("/api/v1/submissions/?page=%00", "page"),
    ("/api/v1/exports/calls.csv?x=%00", "x"), ("/api/schema/?lang=%00", "lang"),
    ("/api/v1/calls/integr%00ateurs/", "path"), ("/api/v1/funders/region%00occitanie/", "path"),
    ("/api/v1/submissions/a%00b/", "path"), ("/api/v1/themes/%00/", "path"), ("/api/v1/nulle%00part/", "path"),
])
def test_a_nul_character_in_a_query_or_a_path_under_api_is_a_400_naming_it(partner, full_call, path, field):
    """On SQLite and on PostgreSQL (which refuses NUL in a text): never a 500, and never a
    query reaching the database with it."""
    response = token_client(partner).get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {field: ["No NUL character (\\u0000) is allowed, in any text."]}
