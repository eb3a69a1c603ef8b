"""Hostile input everywhere: nothing is executed, nothing rendered unescaped, never a 500."""
import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from calls.models import Call
from calls.reading.filters import CallFilterSet
from tests.factories import CallFactory, UserFactory
from tests.helpers import make, reindex

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("xss")</script>'
ATTRIBUTE = '" onmouseover="alert(1)'
SQL = "'; DROP TABLE calls_call; --"
UNION = "1 UNION SELECT username, password FROM auth_user --"


@pytest.fixture
def registry():
    return make(slug="visible", title="Appel visible")


# -- The search's filters: each filter's hostile values, once, on the one FilterSet ------------------
#
# The HTML search, the timeline, the downloads, the feed, the API list and the sync all read
# calls.reading.filters.CallFilterSet: a value is refused there, once, and each surface answers the
# refusal its own documented way (below, one pass per surface).

# Hostile for every filter; `q` takes text, so it searches these as text (see the test after).
HOSTILE = [SCRIPT, ATTRIBUTE, SQL, UNION, "\x00", "../../etc/passwd", "{{ settings.SECRET_KEY }}",
           "${jndi:ldap://x}", "-1e309"]
# Refused whatever the filter, and the search then finds nothing (never run without that filter).
TOO_LONG = ["é" * 201, "9" * 400]
TOO_MANY = 51  # repeats of one value
# Each filter's own wrong values: unknown choices, wrong types, out of range, impossible dates and instants.
WRONG = {
    "q": ["\x00", "vaccins\x00"],
    "status": ["bogus", "OPEN", "open "],
    "funder": ["nobody"],
    "funder_kind": ["bank"],
    "programme": ["nope"],
    "call_type": ["grant"],
    "beneficiary": ["alien"],
    "region": ["99", "1", "011"],
    "theme": ["nope"],
    "aid_form": ["gold"],
    "amount": ["abc", "-5", "1e400", "NaN", "Infinity", "99999999999999999999999", "10000000000001", "12.5"],
    "amount_max": ["abc", "-5", "1e400", "NaN", "Infinity", "99999999999999999999999", "10000000000001", "12.5"],
    "trl": ["0", "10", "4.5", "five", "-1"],
    "closes_after": ["2026-13-45", "2026-02-30", "yesterday", "10000-01-01", "2026/01/01"],
    "closes_before": ["2026-13-45", "2026-02-29", "today", "0000-01-01"],
    "opens_after": ["2026-13-45", "2026-02-30", "yesterday", "10000-01-01", "2026/01/01"],
    "opens_before": ["2026-13-45", "2026-02-29", "today", "0000-01-01"],
    "closing_within": ["-1", "1e9", "3661", "1.5", "99999999999999999999"],
    "consortium": ["maybe", "True", "1"],
    "foreign": ["partout"],
    "updated_since": ["garbage", "2026-13-40T99:00:00Z", "2026-01-01T25:00:00Z"],
    "ordering": ["-title", "random", "newest,bogus", "title"],
}
# The edges of what a filter takes: accepted, and the search runs (the open call is found or not).
EDGES = {
    "amount": [("0", True), ("10000000000000", True)],
    "amount_max": [("0", True), ("10000000000000", True)],  # the open call states no floor
    "trl": [("1", True), ("9", True)],
    "closes_after": [("0001-01-01", True), ("9999-12-31", False)],
    "closes_before": [("9999-12-31", True), ("0001-01-01", False)],
    "opens_after": [("0001-01-01", True), ("9999-12-31", False)],
    "opens_before": [("9999-12-31", True), ("0001-01-01", False)],
    "closing_within": [("0", False), ("3660", True)],
    # (an offset past year 1 or 9999 in UTC: every change, or none)
    "updated_since": [("2026-01-01T00:00:00+17:08", True), ("0001-01-02T00:00:00Z", True),
                      ("0001-01-01T00:00:00+23:59", True), ("9999-12-31T23:59:59-23:59", False)],
    "ordering": [("relevance", True), ("newest,ceiling", True), (",".join(["newest"] * 50), True)],
    "status": [(["open"] * 50, True)],  # as many values as a filter takes
}


def bound(name, values):
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    data.setlist(name, values)
    return CallFilterSet(data)


def test_every_filter_of_the_filterset_has_its_hostile_values_here():
    assert set(WRONG) == set(CallFilterSet.base_filters)


def refused_and_wrong(name):
    """The values refused whatever the filter (they find nothing), and `name`'s wrong ones."""
    refused = [[value] for value in TOO_LONG] + [["open"] * TOO_MANY]
    wrong = [[value] for value in WRONG[name] + ([] if name == "q" else HOSTILE)]
    return refused, wrong


@pytest.mark.parametrize("name", list(WRONG))
def test_a_hostile_value_is_an_error_on_its_filter_and_never_widens_the_search(registry, name):
    """An invalid value is an error on that filter alone: the HTML search shows it and leaves the
    filter out (the other filters still apply), the API answers 400 naming it. A value over
    MAX_VALUE_LENGTH characters, or over MAX_VALUES repeats, makes the search find nothing."""
    refused, wrong = refused_and_wrong(name)
    for values in refused + wrong:
        filterset = bound(name, values)
        assert not filterset.is_valid(), (name, values)
        assert list(filterset.errors) == [name], (name, values, filterset.errors)
        found = [call.slug for call in filterset.qs]
        assert found == ([] if values in refused else ["visible"]), (name, values)


@pytest.mark.slow  # every filter's every hostile value, its facet counts computed each time
@pytest.mark.parametrize("name", list(WRONG))
def test_a_hostile_value_never_widens_the_counts_beside_the_results(registry, name):
    """The facet counts the search page shows beside the results: those of the search without the
    refused filter, or nothing at all for a refused search."""
    refused, wrong = refused_and_wrong(name)
    for values in refused + wrong:
        filterset = bound(name, values)
        filterset.is_valid()
        cache.clear()  # counts computed for this value (the cache is tested below)
        counts = filterset.facet_counts()
        assert counts["status"] == ({} if values in refused else {"open": 1}), (name, values)


def test_a_refused_search_never_changes_the_counts_the_next_visitor_sees(registry):
    assert search_counts("ordering", ["newest"] * TOO_MANY)["status"] == {}
    assert search_counts("ordering", ["newest"])["status"] == {"open": 1}


def search_counts(name, values):
    filterset = bound(name, values)
    filterset.is_valid()
    return filterset.facet_counts()


@pytest.mark.parametrize("value", [SCRIPT, ATTRIBUTE, SQL, UNION, "../../etc/passwd", "{{ settings.SECRET_KEY }}",
                                   "${jndi:ldap://x}", "%00", "&|!(", "'\";--", "a:* | !b", "é" * 200])
def test_hostile_text_in_q_is_searched_as_text_and_finds_nothing(registry, value):
    filterset = bound("q", [value])
    assert filterset.is_valid(), filterset.errors
    assert list(filterset.qs) == []
    assert Call.objects.filter(slug="visible").exists()  # nothing was executed


@pytest.mark.parametrize("name,value,finds", [(n, v, f) for n, edges in EDGES.items() for v, f in edges])
def test_the_edges_of_a_filters_range_are_accepted(registry, name, value, finds):
    filterset = bound(name, value if isinstance(value, list) else [value])
    assert filterset.is_valid(), filterset.errors
    assert [call.slug for call in filterset.qs] == (["visible"] if finds else [])


def test_the_api_names_every_bad_filter_in_one_400(registry):
    query = ("region=99&status=forgotten&trl=12&amount=-5&closes_after=someday&closing_within=1e9"
             "&ordering=random&consortium=maybe&foreign=partout&q=" + "x" * 201)
    for path in ("/api/v1/calls/?", "/api/v1/sync/?updated_since=2026-01-01T00:00:00Z&"):
        response = APIClient().get(path + query)
        assert response.status_code == 400, (path, response.content)
        assert set(response.json()) == {"region", "status", "trl", "amount", "closes_after", "closing_within",
                                        "ordering", "consortium", "foreign", "q"}, path
    response = APIClient().get("/api/v1/calls/?updated_since=yesterday")
    assert response.status_code == 400 and set(response.json()) == {"updated_since"}


def test_every_parameter_the_search_page_shows_back_is_escaped(client, registry):
    parameters = [*CallFilterSet.base_filters, "page", "page_size", "past", "unknown_parameter"]
    for value in (SCRIPT, ATTRIBUTE):
        response = client.get("/", {name: value for name in parameters})
        assert response.status_code == 200
        body = response.content.decode()
        assert SCRIPT not in body and ATTRIBUTE not in body


# -- One pass per surface: a handful of hostile values, the documented answer, never a 500 -----------

# (parameter, values, what it is: "text" is searched, "wrong" an error on the filter, "refused" makes
# the search find nothing, "ignored" is no parameter of the search)
HANDFUL = [
    ("q", [SCRIPT], "text"),
    ("status", [SCRIPT], "wrong"),
    ("theme", ["\x00"], "wrong"),
    ("amount", ["1e400"], "wrong"),
    ("closes_after", ["2026-02-30"], "wrong"),
    ("funder_kind", ["state"] * TOO_MANY, "refused"),
    ("q", ["é" * 201], "refused"),
    ("unknown_parameter", [SQL], "ignored"),
]
SURFACES = {
    # path: what it answers to a search it takes ("page": the form shows the error; "download":
    # a 400 when the search is refused; "feed": no entry then; "api": a 400 naming the filter;
    # "fixed": no search, the query string is ignored; "embed": the embeddable list, which names the
    # filter it left out)
    "/": "page", "/en/": "page", "/calendrier/": "page", "/export/appels.csv": "download",
    "/export/echeances.ics": "download", "/flux/nouveaux-appels.atom": "feed", "/appels/visible/": "fixed",
    "/financeurs/bpifrance/": "fixed", "/programmes/france-2030/": "fixed", "/panorama/": "fixed",
    "/api/v1/calls/": "api", "/api/v1/sync/?updated_since=2026-01-01T00:00:00Z": "api",
    "/integrer/": "embed",
    "/api/v1/calls/visible/": "fixed", "/api/v1/exports/calls.json": "fixed", "/api/v1/exports/calls.csv": "fixed",
}


@pytest.fixture
def linked_registry(registry):
    from tests.factories import CallFunderFactory, FunderFactory, ProgrammeFactory

    CallFunderFactory(call=registry, funder=FunderFactory(slug="bpifrance"))
    registry.programme = ProgrammeFactory(slug="france-2030")
    registry.save()
    reindex(call=registry)
    return registry


@pytest.mark.slow  # every surface, each with its handful of hostile values
@pytest.mark.parametrize("path", list(SURFACES))
def test_each_surface_answers_hostile_values_as_documented(client, linked_registry, path):
    from urllib.parse import urlencode

    kind = SURFACES[path]
    for name, values, what in HANDFUL:
        cache.clear()  # more requests than a client's rate
        response = client.get(path + ("&" if "?" in path else "?") + urlencode({name: values}, doseq=True))
        body = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
        if (kind == "api" and what in ("wrong", "refused")) or (path.startswith("/api/") and "\x00" in values):
            # (the API refuses a NUL anywhere in a request, even in a parameter it does not read)
            assert response.status_code == 400 and list(response.json()) == [name], (name, response.content)
        elif kind == "download" and what == "refused":
            assert response.status_code == 400 and f"{name}:" in body, name
        else:
            assert response.status_code == 200, (name, response.status_code)
        if path.startswith("/api/") and not path.endswith(".csv"):
            assert response["Content-Type"].startswith("application/json"), name
        assert SCRIPT not in body, name
        if kind == "page" and what in ("wrong", "refused"):
            assert f'id="{name}-error"' in body, name
        if kind == "embed":
            assert ('class="embed__errors"' in body) == (what in ("wrong", "refused")), name
        if kind in ("page", "feed", "api", "embed") and response.status_code == 200:  # the filter left out, or not
            assert ("Appel visible" in body) == (what in ("wrong", "ignored")), name


PAGES = {"abc": 1, "-3": 1, "0": 1, "1.5": 1, "²": 1, "last": 2, "٣": 2, "99999999999999999999999999": 2, "9" * 5000: 2}


def test_any_page_number_shows_a_page_of_the_search(client):
    for n in range(21):  # two pages of 20
        make(slug=f"appel-{n}")
    for page, number in PAGES.items():
        response = client.get("/", {"status": "open", "page": page})
        assert response.status_code == 200 and response.context["page_obj"].number == number, page[:10]


def test_stored_script_from_a_curator_is_rendered_escaped_everywhere(client):
    call = make(slug="evil", title=SCRIPT, summary=ATTRIBUTE, eligibility=SCRIPT)
    for url in ("/", call.get_absolute_url(), "/en/", reverse("call-timeline"), reverse("call-feed"),
                reverse("call-embed")):
        body = client.get(url).content.decode()
        assert SCRIPT not in body and ATTRIBUTE not in body, url
        assert "&lt;script&gt;" in body, url


def partner_client():
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    partner = UserFactory(username="hostile-partner")
    partner.user_permissions.add(Permission.objects.get(codename="submit_call"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=partner).key}")
    return client


@pytest.mark.parametrize("payload", [
    {"title": "x" * 10_000, "call_type": "call_for_projects"},
    {"title": "Montant énorme", "call_type": "call_for_projects", "total_budget_eur": 10**30},
    {"title": "Mauvais type", "call_type": "call_for_projects", "trl_min": "neuf"},
    {"title": "Liste", "call_type": ["call_for_projects"]},
    {"title": SQL, "call_type": SQL},
    {"title": {"nested": "object"}, "call_type": "prize"},
    {"title": "Dates", "call_type": "prize", "opens_on": "2027-02-30"},
    {"title": "Plafonds", "call_type": "prize", "ceilings": [{"amount_eur": -1}]},
    {"title": "Plafonds", "call_type": "prize", "ceilings": "not a list"},
], ids=range(9))
def test_partner_submissions_with_hostile_payloads_get_a_400_and_write_nothing(payload):
    before = Call.objects.count()
    response = partner_client().post("/api/v1/calls/", payload, format="json")
    assert response.status_code == 400, response.content
    assert isinstance(response.json(), dict) and response.json()
    assert Call.objects.count() == before


def test_a_scripted_partner_submission_is_kept_as_text_and_stays_a_draft():
    response = partner_client().post("/api/v1/calls/", {"title": SCRIPT, "call_type": "prize"}, format="json")
    assert response.status_code == 201
    call = Call.objects.get(title=SCRIPT)
    assert call.publication_state == "draft"


@pytest.mark.parametrize("field,value", [
    ("title", "x" * 301),
    ("total_budget_eur", str(10**30)),
    ("trl_min", "99999999"),
    ("funding_rate_max_pct", "-3"),
    ("opens_on", "2027-02-30"),
    ("apply_url", "javascript:alert(1)"),
    ("call_type", SQL),
    ("slug", "<b>pas un slug</b>"),
])
def test_admin_forms_refuse_hostile_values_with_a_message(curator_client, field, value):
    from tests.admin_forms import ADMIN, call_form

    response = curator_client.post(f"{ADMIN}add/", call_form(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Call.objects.exists()


def test_admin_search_with_injection_strings_is_harmless(curator_client):
    CallFactory(title="Appel intact")
    for value in (SQL, UNION, SCRIPT, "%"):
        response = curator_client.get("/en/admin/calls/call/", {"q": value})
        assert response.status_code == 200
        assert SCRIPT not in response.content.decode()
    assert Call.objects.filter(title="Appel intact").exists()


# -- Submissions: size, rows, nesting, dates, concurrency --------------------------------------

SUBMISSION = {"title": "Appel soumis", "call_type": "call_for_projects"}


def test_a_body_over_the_limit_is_refused_before_it_is_parsed():
    from calls.api.parsers import MAX_BODY_BYTES

    payload = {**SUBMISSION, "description": "x" * (MAX_BODY_BYTES + 1)}
    response = partner_client().post("/api/v1/calls/", payload, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 413, response.content
    assert "KiB" in response.json()["detail"]
    assert not Call.objects.exists()


@pytest.mark.parametrize("field,row", [
    ("rounds", {"name": "Vague"}),
    ("ceilings", {"amount_eur": 1000}),
    ("sources", {"title": "Source"}),
    ("themes", "bioproduction"),
    ("beneficiaries", "sme"),
    ("aid_forms", "grant"),
    ("regions", "11"),
])
def test_a_list_over_the_documented_number_of_rows_is_a_400_naming_it(field, row):
    from calls.api.serializers import MAX_ROWS

    response = partner_client().post("/api/v1/calls/", {**SUBMISSION, field: [row] * (MAX_ROWS + 1)}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Call.objects.exists()


@pytest.mark.parametrize("depth", [21, 50, 100_000])
def test_nested_json_of_any_depth_is_a_400(depth):
    body = '{"title": "Profond", "call_type": "prize", "rounds": ' + "[" * depth + "]" * depth + "}"
    response = partner_client().post("/api/v1/calls/", body, content_type="application/json",
                                     HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert "nested" in response.json()["detail"]
    assert not Call.objects.exists()


@pytest.mark.parametrize("body", ['{"title": NaN}', b'{"title": "\xff"}', '{"title": "x", "call_type": '])
def test_invalid_json_is_a_400(body):
    response = partner_client().post("/api/v1/calls/", body, content_type="application/json")
    assert response.status_code == 400, response.content


def test_unknown_themes_are_named():
    response = partner_client().post("/api/v1/calls/", {**SUBMISSION, "themes": ["nulle-part"]}, format="json")
    assert response.status_code == 422 and "nulle-part" in response.json()["themes"][0]
    assert not Call.objects.exists()


@pytest.mark.parametrize("field,value", [
    ("opens_on", "1989-12-31"), ("closes_on", "2101-01-01"), ("closes_on", "9999-12-31"), ("opens_on", "0001-01-01"),
])
def test_submitted_dates_outside_1990_2100_are_a_400_naming_the_field(field, value):
    response = partner_client().post("/api/v1/calls/", {**SUBMISSION, field: value}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Call.objects.exists()


def test_submitted_round_dates_outside_the_range_are_a_400_naming_the_row():
    rounds = [{"name": "Vague 1", "closes_on": "2027-03-01"}, {"name": "Vague 2", "closes_on": "2205-03-01"}]
    response = partner_client().post("/api/v1/calls/", {**SUBMISSION, "rounds": rounds}, format="json")
    assert response.status_code == 400
    body = response.json()
    # The second round's own date, named on its row (numbered from 1, as in a 422), before any rule joins fields.
    assert [message.split(":")[0] for message in body["rounds"]] == ["#2 closes_on"], body
    assert not Call.objects.exists()


@pytest.mark.parametrize("field,value", [("opens_on", "1989-12-31"), ("closes_on", "2101-01-01")])
def test_the_admin_refuses_dates_outside_the_range(curator_client, field, value):
    from tests.admin_forms import ADMIN, call_form

    response = curator_client.post(f"{ADMIN}add/", call_form(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Call.objects.exists()


@pytest.mark.slow  # twelve threads, each with its connection
@pytest.mark.django_db(transaction=True)
def test_twelve_simultaneous_submissions_of_one_title_make_twelve_drafts_with_distinct_slugs(on_postgres):
    """Threads on PostgreSQL (each its own connection and transaction); one after the other on
    SQLite, which serialises writers anyway."""
    import threading

    from django.db import connection

    clients = [partner_client() if i == 0 else None for i in range(12)]
    token = clients[0]._credentials["HTTP_AUTHORIZATION"]
    statuses, barrier = [], threading.Barrier(12 if on_postgres else 1)

    def submit():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        try:
            barrier.wait(timeout=30)
            statuses.append(client.post("/api/v1/calls/", {**SUBMISSION, "title": "Même titre"}, format="json")
                            .status_code)
        finally:
            connection.close()

    if on_postgres:
        threads = [threading.Thread(target=submit) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    else:
        for _ in range(12):
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=token)
            statuses.append(client.post("/api/v1/calls/", {**SUBMISSION, "title": "Même titre"}, format="json")
                            .status_code)
    assert statuses == [201] * 12
    slugs = list(Call.objects.filter(title="Même titre").values_list("slug", flat=True))
    assert len(slugs) == 12 and len(set(slugs)) == 12
    assert "meme-titre" in slugs
    assert set(Call.objects.values_list("publication_state", flat=True)) == {"draft"}


# -- Extreme dates already stored (before the validators, or written around them) ---------------


@pytest.mark.slow  # 19 pages, for 3 precisions of each extreme date
@pytest.mark.parametrize("extreme", ["min", "max"])
def test_a_stored_extreme_date_never_makes_a_page_the_timeline_or_ical_fail(client, extreme):
    import datetime

    from calls.models import Laureate, Round, Source
    from tests.factories import CallFunderFactory, LaureateFactory, RoundFactory, SourceFactory

    day = datetime.date.min if extreme == "min" else datetime.date.max
    call = CallFactory(slug="extreme", title="Appel aux dates extrêmes")
    rounds = CallFactory(slug="extreme-rounds", title="Vagues aux dates extrêmes")
    RoundFactory(call=rounds)
    funder = CallFunderFactory(call=call).funder
    SourceFactory(call=call)
    LaureateFactory(call=call)
    for precision in ("day", "month", "year"):
        Call.objects.filter(pk=call.pk).update(
            opens_on=day, closes_on=day, last_verified_on=day, opens_on_precision=precision,
            closes_on_precision=precision,
        )
        Round.objects.filter(call=rounds).update(opens_on=day, closes_on=day, closes_on_precision=precision)
        Source.objects.filter(call=call).update(accessed_on=day)
        Laureate.objects.filter(call=call).update(year=1 if extreme == "min" else 32767)
        reindex(call=call)  # rows written behind the services' back: the read model follows
        reindex(call=rounds)
        for path in ("/", "/?status=open&status=upcoming&status=closed", "/en/?ordering=newest", "/calendrier/",
                     "/calendrier/?status=closed", call.get_absolute_url(), rounds.get_absolute_url(),
                     f"/financeurs/{funder.slug}/", "/export/echeances.ics", "/export/appels.csv",
                     "/flux/nouveaux-appels.atom", "/?closing_within=30", "/?closes_after=2026-01-01",
                     "/api/v1/calls/?status=closed", "/api/v1/calls/extreme/", "/api/v1/calls/?ordering=deadline",
                     "/api/v1/calls/?updated_since=2000-01-01T00:00:00Z", "/api/v1/exports/calls.json",
                     "/api/v1/exports/calls.csv"):
            cache.clear()
            response = client.get(path)
            assert response.status_code == 200, (precision, path, response.status_code)


# -- Over-long filter values: an error, never a search without that filter ------------------------

LONG = "vaccins " * 30  # 240 characters


@pytest.mark.parametrize("query", [{"q": LONG}, {"theme": "x" * 201}, {"funder_kind": ["state"] * 51},
                                   {"region": "1" * 300}])
def test_an_overlong_filter_makes_exports_a_400_not_the_whole_registry(client, registry, query):
    for path in ("/export/appels.csv", "/export/echeances.ics"):
        response = client.get(path, query)
        assert response.status_code == 400, path
        assert list(query)[0] in response.content.decode()
    api = APIClient().get("/api/v1/calls/", query)
    assert api.status_code == 400 and list(query)[0] in api.json()


def test_an_overlong_search_is_a_form_error_on_the_page_and_finds_nothing(client, registry):
    response = client.get("/", {"q": LONG})
    assert response.status_code == 200
    assert "q" in response.context["filter"].form.errors
    assert 'id="q-error"' in response.content.decode()
    assert list(response.context["page_obj"]) == []
    assert "Appel visible" not in response.content.decode()


# -- Spreadsheet formulas in exports (OWASP "CSV injection") --------------------------------------

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+33 1 23 45", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR"]


def csv_cells(content):
    import csv
    import io

    text = content.decode("utf-8-sig")
    delimiter = ";" if ";" in text.splitlines()[0] else ","  # the people's CSV is for French spreadsheets
    return [cell for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for cell in row]


@pytest.mark.parametrize("formula", FORMULAS)
def test_exports_neutralise_cells_a_spreadsheet_would_run(client, formula):
    make(slug="formule", title=formula, summary=formula, eligibility=formula)
    for path in ("/export/appels.csv", "/api/v1/exports/calls.csv"):
        cache.clear()
        cells = csv_cells(client.get(path).getvalue())
        assert "'" + formula in cells, path
        assert formula not in cells, path


def test_numbers_stay_numbers_in_exports():
    from calls.reading.exports import spreadsheet_safe

    assert spreadsheet_safe(-5) == -5 and spreadsheet_safe(None) is None and spreadsheet_safe("5 %") == "5 %"
    assert spreadsheet_safe("Appel -2") == "Appel -2"


@pytest.mark.usefixtures("in_english")
def test_the_admin_export_resource_neutralises_formulas_through_the_same_function():
    from calls.curation.resources import CallResource

    make(slug="formule", title="=1+1", summary="@cmd")

    dataset = CallResource().export(Call.objects.all())
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["Title"] == "'=1+1" and row["Summary"] == "'@cmd"


# -- Syncs never let filters reach a withdrawn call's content; renamed slugs come as removals ----


def sync(since, **filters):
    from urllib.parse import urlencode

    from tests.helpers import all_results

    query = urlencode({"updated_since": since.isoformat(), "page_size": 2, **filters}, doseq=True)
    return all_results(APIClient(), f"/api/v1/calls/?{query}")


def test_a_sync_lists_withdrawn_calls_whatever_the_filters_so_none_matches_their_private_content():
    from django.utils import timezone

    from calls.choices import PublicationState

    since = timezone.now()
    make(slug="public", title="Appel public", description="bioproduction")
    withdrawn = make(slug="retire", title="Appel retiré", description="bioproduction")
    withdrawn.publication_state = PublicationState.ARCHIVED
    withdrawn.description = "Projet confidentiel zorglub"  # written after withdrawal: never public
    withdrawn.curator_note = "zorglub"
    withdrawn.save()
    reindex(call=withdrawn)
    removal = {"slug": "retire", "publication_state": "archived"}
    for filters in ({"q": "zorglub"}, {"q": "introuvable"}, {"trl": 9, "region": "11", "call_type": "prize"}, {}):
        results = sync(since, **filters)
        assert [{k: r[k] for k in ("slug", "publication_state")} for r in results if r["slug"] == "retire"] == [
            removal], filters
        assert all(set(r) == {"slug", "publication_state", "updated_at"} for r in results if r["slug"] == "retire")
    assert [r["slug"] for r in sync(since, q="zorglub")] == ["retire"]  # the public call doesn't match


def test_a_slug_renamed_by_a_curator_reaches_syncing_partners_as_a_removal():
    from django.utils import timezone

    from calls.choices import PublicationState

    call = make(slug="ancien-slug", title="Appel renommé")
    secret = make(slug="brouillon-secret", title="Brouillon", publication_state=PublicationState.DRAFT)
    since = timezone.now()
    call.slug = "nouveau-slug"
    call.save()
    reindex(call=call)
    secret.slug = "appel-annonce"
    secret.publication_state = PublicationState.PUBLISHED
    secret.save()
    reindex(call=secret)
    results = sync(since)
    by_slug = {r["slug"]: r for r in results}
    assert by_slug["ancien-slug"]["publication_state"] == "renamed"
    assert set(by_slug["ancien-slug"]) == {"slug", "publication_state", "updated_at"}
    assert by_slug["nouveau-slug"]["title"] == "Appel renommé"
    assert [r["slug"] for r in results].index("ancien-slug") < [r["slug"] for r in results].index("nouveau-slug")
    assert "brouillon-secret" not in by_slug  # a slug never published is never shown
    assert by_slug["appel-annonce"]["publication_state"] == "published"
    # A partner that synced after the rename gets no removal again.
    assert "ancien-slug" not in {r["slug"] for r in sync(timezone.now())}


# -- The schema is the contract: what the API does with edge values, as the schema says --------------


@pytest.mark.parametrize("query,status,field", [
    ("status=", 400, "status"), ("q=", 400, "q"), ("funder=", 400, "funder"), ("updated_since=", 400, "updated_since"),
    ("trl=4.5", 400, "trl"), ("trl=0", 400, "trl"), ("trl=10", 400, "trl"),
    ("closing_within=1.5", 400, "closing_within"),
    ("page_size=abc", 400, "page_size"), ("page_size=0", 400, "page_size"), ("page_size=-3", 400, "page_size"),
    ("page=0", 404, "detail"), ("page=-250", 404, "detail"), ("page=-1", 404, "detail"), ("page=abc", 404, "detail"),
    ("page=1.5", 404, "detail"), ("format=xml", 404, "detail"),
])
def test_api_edge_values_get_the_documented_error(registry, query, status, field):
    response = APIClient().get(f"/api/v1/calls/?{query}")
    assert response.status_code == status, response.content
    assert field in response.json()
    # A conditional request never hides a malformed one behind a 304.
    assert APIClient().get(f"/api/v1/calls/?{query}", HTTP_IF_NONE_MATCH="*").status_code == status


@pytest.mark.parametrize("page", ["2", "999999999999999999999", "9" * 5000])
def test_a_page_past_the_last_is_a_json_404(registry, page):
    response = APIClient().get("/api/v1/calls/", {"page": page})
    assert response.status_code == 404 and "detail" in response.json()


def test_the_html_search_ignores_empty_fields(client, registry):
    response = client.get("/", {"q": "", "status": "", "funder": "", "trl": "", "call_type": ["", ""]})
    assert response.status_code == 200 and not response.context["filter"].form.errors
    plain = client.get("/")
    assert list(response.context["filter"].qs) == list(plain.context["filter"].qs)


def test_a_filter_naming_an_unknown_funder_or_theme_is_a_json_404_saying_which(registry):
    response = APIClient().get("/api/v1/calls/?funder=nulle-part&theme=nope")
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}
    assert "funder" in response.json()["detail"] and "theme" in response.json()["detail"]


def test_page_size_above_the_maximum_is_clamped_as_documented(registry):
    from calls.api.pagination import RegistryPagination

    assert APIClient().get("/api/v1/calls/?page_size=100000").status_code == 200
    schema = APIClient().get("/api/schema/?format=json&lang=en").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/calls/"]["get"]["parameters"]}
    assert "maximum" not in parameters["page_size"]["schema"]
    assert f"clamped to {RegistryPagination.max_page_size}" in parameters["page_size"]["description"]
    assert parameters["trl"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 9}
    assert parameters["q"]["schema"]["minLength"] == 1


def test_read_endpoints_are_documented_as_open_to_anonymous_clients():
    schema = APIClient().get("/api/schema/?format=json&lang=en").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "get" and "/submissions/" not in path:  # a partner's own drafts: token only
                assert {} in operation["security"], path
    assert {} not in schema["paths"]["/api/v1/calls/"]["post"]["security"]


@pytest.mark.parametrize("path", ["/api/v1/funders//", "/api/v1/calls//", "/api/v1/nope", "/api/nope/",
                                  "/api/v2/calls/", "/api/v1/calls/a.b/",
                                  "/api/v1/calls/%C3%A9t%C3%A9/", "/api/v1/calls/" + "x" * 300 + "/"])
@pytest.mark.parametrize("debug", [False, True])
def test_every_answer_under_api_is_json_even_a_404_with_debug_on(client, settings, path, debug):
    settings.DEBUG = debug
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json") and "detail" in response.json()


def test_an_unknown_export_format_is_a_json_404(client):
    response = client.get("/api/v1/exports/calls.csv?format=xml")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    assert client.get("/api/v1/exports/calls.csv?format=").status_code == 404


def test_an_empty_programme_in_a_submission_is_a_400_not_null():
    response = partner_client().post("/api/v1/calls/", {**SUBMISSION, "programme": ""}, format="json")
    assert response.status_code == 400 and "programme" in response.json()


def test_a_submission_naming_an_unknown_programme_or_theme_is_a_422_naming_the_fields():
    partner = partner_client()
    response = partner.post("/api/v1/calls/", {**SUBMISSION, "programme": "nulle-part", "themes": ["nope"]},
                            format="json")
    assert response.status_code == 422, response.content
    assert "nulle-part" in response.json()["programme"][0] and "nope" in response.json()["themes"][0]
    assert not Call.objects.exists()
    # With another error too, it is a 400 naming every field.
    response = partner.post("/api/v1/calls/", {**SUBMISSION, "programme": "nulle-part", "trl_min": 12},
                            format="json")
    assert response.status_code == 400 and {"programme", "trl_min"} <= set(response.json())


def test_ordering_given_as_a_comma_separated_list_is_counted_by_item(registry):
    assert APIClient().get("/api/v1/calls/?ordering=" + ",".join(["newest"] * 49)).status_code == 200
    assert APIClient().get("/api/v1/calls/?ordering=" + ",".join(["newest"] * 51)).status_code == 400
    assert APIClient().get("/api/v1/calls/?ordering=").status_code == 200  # an empty list: no sort asked for
