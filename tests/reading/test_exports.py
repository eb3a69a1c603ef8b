"""Exports built once per registry version and day, kept on disk, served whole (calls/reading/exports.py).

Through the client: the search page's CSV (/export/appels.csv) and the API's full exports
(/api/v1/exports/calls.json, .csv). Builds are counted with the `export_built` signal.
"""
import csv
import datetime
import io
import json
import re
import threading

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls import services
from calls.api import exports as api_exports
from calls.choices import PublicationState
from calls.querysets import today
from calls.reading.exports import CSV_COLUMNS, export_built
from tests.factories import (
    CallFactory,
    CallFunderFactory,
    CeilingFactory,
    FunderFactory,
    ProgrammeFactory,
    RoundFactory,
    SourceFactory,
    ThemeFactory,
)
from tests.helpers import reindex

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
JSON = "/api/v1/exports/calls.json"
CSV = "/api/v1/exports/calls.csv"
SEARCH_CSV = "/export/appels.csv"
EVERY_EXPORT = (JSON, CSV, SEARCH_CSV)


@pytest.fixture(autouse=True)
def high_rates(settings):
    """Exports are throttled (20 an hour); these tests download more than that."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "exports": "100000/hour", "anon": "100000/minute"},
    }


@pytest.fixture
def builds():
    """The export files built during the test, as (kind, file name)."""
    built = []

    def record(sender, path, **kwargs):
        built.append((sender, path.name))

    export_built.connect(record, weak=False)
    yield built
    export_built.disconnect(record)


def make(**fields):
    """A published call open today (statuses follow the real today)."""
    fields.setdefault("opens_on", today() - 10 * DAY)
    fields.setdefault("closes_on", today() + 30 * DAY)
    return CallFactory(**fields)


def body(response) -> bytes:
    assert response.status_code == 200, response.status_code
    content = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(content)  # the whole file, as announced
    return content


def json_slugs(content: bytes) -> list[str]:
    return [call["slug"] for call in json.loads(content)["calls"]]


def csv_rows(content: bytes, delimiter=",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def exported_files(settings) -> list[str]:
    directory = settings.EXPORT_CACHE_DIR
    if not directory.exists():
        return []
    return sorted(path.name for path in directory.iterdir() if not path.name.endswith(".lock"))


def test_a_second_download_at_the_same_version_is_the_same_file_without_reading_the_calls(client, builds):
    make(slug="vecteurs", title="Vecteurs viraux")
    make(slug="anticorps", title="Anticorps")
    for url in EVERY_EXPORT:
        first = body(client.get(url))
        with CaptureQueriesContext(connection) as queries:
            second = body(client.get(url))
        assert second == first, url
        read_calls = [q["sql"] for q in queries if re.search(r'"calls_call"', q["sql"])]
        assert read_calls == [], url  # served from the file: no call was read again
    assert sorted(kind for kind, _name in builds) == ["api-csv", "api-json", "search-csv"]


def test_the_files_are_complete_a_row_per_published_call(client):
    for n in range(7):
        make(slug=f"appel-{n:02}", title=f"Appel {n}")
    make(slug="brouillon", publication_state=PublicationState.DRAFT)
    published = [f"appel-{n:02}" for n in range(7)]
    assert json_slugs(body(client.get(JSON))) == published
    rows = csv_rows(body(client.get(CSV)))
    assert rows[0] == CSV_COLUMNS
    assert [row[0] for row in rows[1:]] == published
    assert all(len(row) == len(CSV_COLUMNS) for row in rows)
    people = csv_rows(body(client.get(SEARCH_CSV)), delimiter=";")
    assert sorted(row[0] for row in people[1:]) == [f"Appel {n}" for n in range(7)]


def test_a_write_through_the_services_gives_a_fresh_file_and_removes_the_old_ones(client, builds, settings):
    call = make(slug="vecteurs", title="Vecteurs viraux")
    for url in EVERY_EXPORT:
        body(client.get(url))
    old_files = exported_files(settings)
    assert len(old_files) == 3
    call.title = "Vecteurs viraux, deuxième vague"
    services.save_call(call=call)
    fresh = json.loads(body(client.get(JSON)))
    assert [c["title"] for c in fresh["calls"]] == ["Vecteurs viraux, deuxième vague"]
    assert len(builds) == 4
    # The old JSON is gone; the old CSVs stay, each the last complete file of its export (served
    # while a fresh one is built), until their export is built again.
    files = exported_files(settings)
    assert len(files) == 3 and len(set(files) & set(old_files)) == 2
    assert "deuxième vague" in body(client.get(CSV)).decode()
    assert len(builds) == 5
    assert len(exported_files(settings)) == 3 and len(set(exported_files(settings)) & set(old_files)) == 1


def test_the_same_search_in_another_order_is_one_file_another_language_or_search_another(client, builds):
    make(slug="vecteurs", title="Vecteurs viraux")
    first = body(client.get(SEARCH_CSV + "?status=open&status=upcoming&q=vecteurs"))
    assert body(client.get(SEARCH_CSV + "?q=vecteurs&status=upcoming&status=open")) == first
    assert len(builds) == 1
    english = body(client.get("/en" + SEARCH_CSV + "?q=vecteurs&status=open&status=upcoming"))
    assert english != first and "Title" in english.decode("utf-8-sig").splitlines()[0]
    nothing = csv_rows(body(client.get(SEARCH_CSV + "?q=anticorps")), delimiter=";")
    assert len(nothing) == 1  # the header only
    assert len(builds) == 3


def test_a_new_day_gives_a_fresh_file_with_todays_statuses(client, builds):
    make(slug="derniers-jours", opens_on=datetime.date(2026, 1, 5), closes_on=datetime.date(2026, 3, 10))
    with time_machine.travel(datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC), tick=False):
        assert json.loads(body(client.get(JSON)))["calls"][0]["status"] == "open"
    with time_machine.travel(datetime.datetime(2026, 3, 11, 12, 0, tzinfo=datetime.UTC), tick=False):
        assert json.loads(body(client.get(JSON)))["calls"][0]["status"] == "closed"
    assert len(builds) == 2


class BlockedBuild:
    """The JSON export's build, held at its end until the test releases it: what other requests
    get while a build runs, with no timing involved."""

    def __init__(self, monkeypatch, url=JSON):
        self.started, self.release = threading.Event(), threading.Event()
        self.url, self.result = url, {}
        name = "write_json" if url == JSON else "write_csv"
        original = getattr(api_exports, name)

        def held(*args, **kwargs):
            original(*args, **kwargs)
            self.started.set()
            assert self.release.wait(60), "the test never released the build"

        monkeypatch.setattr(api_exports, name, held)
        self.thread = threading.Thread(target=self.run)

    def run(self):
        try:
            response = Client().get(self.url)
            self.result["response"], self.result["body"] = response, body(response)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.started.wait(30)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()


def concurrently(urls) -> list:
    """GET each of `urls` from its own thread (its own client), all at once: the responses."""
    start = threading.Barrier(len(urls))
    responses = [None] * len(urls)

    def get(i):
        try:
            start.wait()
            response = Client().get(urls[i])
            if response.status_code == 200:
                response.content_bytes = body(response)
            responses[i] = response
        finally:
            connections.close_all()

    threads = [threading.Thread(target=get, args=(i,)) for i in range(len(urls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(response is not None for response in responses)
    return responses


@pytest.mark.slow  # threads held on a build
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", [JSON, CSV])
def test_requests_during_a_first_build_get_a_503_with_retry_after_at_once_then_the_built_file(url, builds, monkeypatch):
    for n in range(30):
        make(slug=f"appel-{n:02}", title=f"Appel {n}")
    with BlockedBuild(monkeypatch, url) as build:
        # 16 requests while the build is held: each answered now (none waits for the build,
        # which would never end before the test releases it).
        waiting = concurrently([url] * 16)
        assert build.thread.is_alive() and not build.release.is_set()
        assert {response.status_code for response in waiting} == {503}
        assert all(int(response["Retry-After"]) > 0 for response in waiting)
        assert all(response["Content-Type"].startswith("application/json") and "detail" in response.json()
                   for response in waiting)
    assert build.result["response"].status_code == 200
    built = build.result["body"]
    assert body(Client().get(url)) == built
    assert len(builds) == 1
    if url == JSON:
        assert json_slugs(built) == [f"appel-{n:02}" for n in range(30)]
    else:
        assert len(csv_rows(built)) == 31


@pytest.mark.django_db(transaction=True)
def test_while_a_fresh_file_is_built_the_last_complete_one_is_served_with_its_date(builds, monkeypatch, settings):
    call = make(slug="vecteurs", title="Vecteurs viraux")
    first = Client().get(JSON)
    old = body(first)
    assert "X-Export-Stale" not in first and first["Last-Modified"] and first["X-Export-Built-At"]
    call.title = "Vecteurs viraux, deuxième vague"
    services.save_call(call=call)
    with BlockedBuild(monkeypatch) as build:
        served = concurrently([JSON] * 16)
        assert build.thread.is_alive()
        assert {response.status_code for response in served} == {200}
        assert {response.content_bytes for response in served} == {old}
        assert all(response["X-Export-Stale"] == "true" for response in served)
        assert {response["Last-Modified"] for response in served} == {first["Last-Modified"]}
    fresh = build.result["response"]
    assert "X-Export-Stale" not in fresh and "deuxième vague" in build.result["body"].decode()
    again = Client().get(JSON)
    assert body(again) == build.result["body"] and "X-Export-Stale" not in again
    assert len(builds) == 2
    assert len(exported_files(settings)) == 1  # the stale file went with the fresh build


@pytest.mark.django_db(transaction=True)
def test_new_query_strings_during_a_build_start_no_other_build(builds, monkeypatch):
    make(slug="vecteurs", title="Vecteurs viraux")
    with BlockedBuild(monkeypatch):
        searches = concurrently([f"{SEARCH_CSV}?q=mot{n}" for n in range(12)])
        assert {response.status_code for response in searches} == {503}
        assert all(int(response["Retry-After"]) > 0 for response in searches)
        assert builds == []  # one builder at a time: only the held JSON build runs
    assert [kind for kind, _name in builds] == ["api-json"]
    assert Client().get(f"{SEARCH_CSV}?q=mot1").status_code == 200  # once the builder is free
    assert len(builds) == 2


def test_a_failed_build_is_an_error_leaves_no_file_and_the_next_request_builds(client, settings, monkeypatch):
    make(slug="vecteurs")
    original = api_exports.write_json

    def failing(calls, text_file, **kwargs):
        text_file.write('{"licence": {}, "calls": [')
        raise RuntimeError("the database went away")

    monkeypatch.setattr(api_exports, "write_json", failing)
    client.raise_request_exception = False
    assert client.get(JSON).status_code == 500
    assert exported_files(settings) == []  # no partial file left, under any name
    monkeypatch.setattr(api_exports, "write_json", original)
    assert json_slugs(body(client.get(JSON))) == ["vecteurs"]


def test_with_accel_redirect_nginx_is_handed_the_complete_file(client, settings):
    settings.EXPORT_ACCEL_REDIRECT = "/_exports/"
    make(slug="vecteurs")
    response = client.get(JSON)
    assert response.status_code == 200 and response.content == b""
    name = response["X-Accel-Redirect"].removeprefix("/_exports/")
    assert response["X-Accel-Redirect"].startswith("/_exports/") and "/" not in name
    assert response["Content-Type"].startswith("application/json")
    assert 'filename="calls.json"' in response["Content-Disposition"]
    assert "Licence Ouverte" in response["X-License"] and 'rel="license"' in response["Link"]
    assert json_slugs((settings.EXPORT_CACHE_DIR / name).read_bytes()) == ["vecteurs"]


def test_the_json_export_reads_the_stored_documents_not_the_calls_rows(client, builds):
    call = make(slug="vecteurs")
    RoundFactory(call=call)
    CeilingFactory(call=call)
    SourceFactory(call=call)
    CallFunderFactory(call=call)
    with CaptureQueriesContext(connection) as queries:
        exported = json.loads(body(client.get(JSON)))["calls"]
    assert len(builds) == 1
    rows_read = [q["sql"] for q in queries if re.search(r'"calls_(round|ceiling|source|callfunder|funder)"', q["sql"])]
    assert rows_read == []
    assert exported == [client.get(f"/api/v1/calls/{call.slug}/").json()]


def test_the_csv_row_of_a_call_holds_its_codes_and_figures(client):
    call = make(
        slug="integrateurs", title="Intégrateurs", total_budget_eur=40_000_000, floor_eur=500_000,
        funding_rate_min_pct=25, funding_rate_max_pct=50, trl_min=4, trl_max=7, consortium_required=True,
        scope="regional", apply_url="https://example.org/candidater",
        programme=ProgrammeFactory(slug="france-2030"),
    )
    CallFunderFactory(call=call, funder=FunderFactory(slug="bpifrance"))
    CallFunderFactory(call=call, funder=FunderFactory(slug="region-idf"), role="co_funder")
    RoundFactory(call=call, opens_on=today() - 5 * DAY, closes_on=today() + 5 * DAY)
    CeilingFactory(call=call, amount_eur=3_000_000)
    CeilingFactory(call=call, amount_eur=2_000_000)
    call.beneficiaries.set(["startup", "sme"])
    call.aid_forms.set(["grant"])
    call.regions.set(["84", "11"])
    call.themes.set([ThemeFactory(slug="therapie-cellulaire"), ThemeFactory(slug="bioproduction")])
    reindex(call=call)
    call.refresh_from_db()
    header, row = csv_rows(body(client.get(CSV)))
    assert dict(zip(header, row, strict=True)) == {
        "slug": "integrateurs", "url": "http://testserver/appels/integrateurs/", "title": "Intégrateurs",
        "status": "open", "call_type": "call_for_projects", "programme": "france-2030",
        "funders": "bpifrance:funder|region-idf:co_funder",
        "opens_on": (today() - 10 * DAY).isoformat(), "closes_on": (today() + 30 * DAY).isoformat(),
        "is_rolling": "False", "recurrence": "", "edition_year": "", "discontinued": "False",
        "next_deadline": (today() + 5 * DAY).isoformat(),
        "total_budget_eur": "40000000", "max_ceiling_eur": "3000000", "floor_eur": "500000",
        "funding_rate_min_pct": "25", "funding_rate_max_pct": "50", "aid_forms": "grant",
        "beneficiaries": "sme|startup", "scope": "regional", "regions": "11|84",
        "themes": "bioproduction|therapie-cellulaire", "trl_min": "4", "trl_max": "7",
        "consortium_required": "True", "apply_url": "https://example.org/candidater",
        "publication_state": "published", "last_verified_on": "2026-06-01",
        "updated_at": call.updated_at.isoformat(),
    }


def test_the_people_csv_row_shows_labels_names_and_dates_as_given_in_each_language(client):
    call = make(
        slug="vaccins", title="Vaccins ARN", opens_on=datetime.date(2026, 3, 1), opens_on_precision="month",
        closes_on=None, is_rolling=True, scope="regional", trl_min=None, trl_max=6,
        programme=ProgrammeFactory(slug="france-2030", name="France 2030"),
    )
    CallFunderFactory(call=call, funder=FunderFactory(name="Bpifrance"))
    CallFunderFactory(call=call, funder=FunderFactory(name="Région Bretagne"), role="co_funder")
    call.beneficiaries.set(["startup", "sme"])
    call.aid_forms.set(["grant"])
    call.regions.set(["11", "53"])
    call.themes.set([ThemeFactory(slug="vaccins", name="Vaccins", name_en="Vaccines"),
                     ThemeFactory(slug="arn", name="ARN messager", name_en="Messenger RNA")])
    reindex(call=call)
    french = dict(zip(*csv_rows(body(client.get(SEARCH_CSV)), delimiter=";"), strict=True))
    assert {key: french[key] for key in (
        "Titre", "Statut", "Type d'appel", "Financeurs", "Programme", "Ouverture", "Clôture", "Formes d'aide",
        "Bénéficiaires", "Périmètre", "Régions éligibles", "Thématiques", "TRL", "Page du registre",
    )} == {
        "Titre": "Vaccins ARN", "Statut": "Ouvert", "Type d'appel": "Appel à projets",
        "Financeurs": "Bpifrance, Région Bretagne", "Programme": "France 2030", "Ouverture": "mars 2026",
        "Clôture": "Au fil de l'eau : sans date limite",
        "Formes d'aide": "Subvention", "Bénéficiaires": "PME, Start-up", "Périmètre": "Régional",
        "Régions éligibles": "Bretagne, Île-de-France", "Thématiques": "ARN messager, Vaccins", "TRL": "1–6",
        "Page du registre": "http://testserver/appels/vaccins/",
    }
    english = dict(zip(*csv_rows(body(client.get("/en" + SEARCH_CSV)), delimiter=";"), strict=True))
    assert english["Status"] == "Open" and english["Opens"] == "March 2026"
    assert english["Closes"] == "Rolling: no deadline" and english["Forms of aid"] == "Grant"
    assert english["Beneficiaries"] == "SME, Start-up" and english["Themes"] == "Messenger RNA, Vaccines"
    assert english["Page in the registry"] == "http://testserver/en/appels/vaccins/"


def test_the_json_export_holds_each_calls_api_representation_even_when_its_document_is_stale(client):
    # On PostgreSQL the stored documents are completed as text, never decoded; on SQLite encoded
    # from the representations. Either way each call is exactly what the API shows for it.
    from calls.models import Call, CallIndex

    full = make(slug="complet", title="Appel complet", total_budget_eur=2_000_000)
    CallFunderFactory(call=full, funder=FunderFactory(name="Agence « test »", slug="agence"))
    RoundFactory(call=full, name='Vague "1"', opens_on=today() - 5 * DAY, closes_on=today() + 5 * DAY)
    CeilingFactory(call=full, amount_eur=500_000)
    SourceFactory(call=full)
    full.themes.add(ThemeFactory(slug="bioproduction"))
    reindex(call=full)
    make(slug="suivant", title="Édition suivante", previous_edition=full)
    make(slug="clos", title="Appel clos", opens_on=today() - 60 * DAY, closes_on=today() - 30 * DAY)
    stale = make(slug="perime", title="Document périmé")
    Call.objects.filter(pk=stale.pk).update(title="Titre changé hors des services", updated_at=timezone.now())  # stale
    api = {c["slug"]: c for c in client.get("/api/v1/calls/?status=open&status=closed&status=upcoming"
                                             "&status=dates_unknown&page_size=50").json()["results"]}
    exported = {c["slug"]: c for c in json.loads(body(client.get(JSON)))["calls"]}
    assert set(exported) == {"complet", "suivant", "clos", "perime"} == set(api)
    assert exported == api
    assert exported["perime"]["title"] == "Titre changé hors des services"
    assert exported["complet"]["url"] == "http://testserver/appels/complet/"
    assert exported["suivant"]["previous_edition"] == "complet" and exported["clos"]["status"] == "closed"
    # A field the code no longer has, in every stored document (as after a change of the fields):
    # none of them is current, each call is built again.
    for index in CallIndex.objects.all():
        index.document = {**index.document, "retired_field": 1}
        index.save(update_fields=["document"])
    reindex(call=Call.objects.get(slug="clos"))  # a new version, so a new file
    assert {c["slug"]: c for c in json.loads(body(client.get(JSON)))["calls"]}["complet"] == {
        **api["complet"], "status": api["complet"]["status"]}
    assert all("retired_field" not in c for c in json.loads(body(client.get(JSON)))["calls"])


def test_exports_are_keyed_by_the_canonical_site_address_not_the_requests_host(client, builds, settings):
    settings.ALLOWED_HOSTS = ["registry.example.org", "localhost", "127.0.0.1"]
    settings.SITE_URL = "https://registry.example.org"
    make(slug="vecteurs", title="Vecteurs viraux")
    hosts = ("localhost:8001", "127.0.0.1:9999", "registry.example.org", "localhost:1")
    for url in EVERY_EXPORT:
        files = {body(client.get(url, HTTP_HOST=host)) for host in hosts}
        assert len(files) == 1, url  # one file, whatever port or host name the client wrote
        assert "https://registry.example.org/appels/vecteurs/" in files.pop().decode("utf-8-sig"), url
    assert sorted(kind for kind, _name in builds) == ["api-csv", "api-json", "search-csv"]


def test_no_lock_file_is_left_beside_the_export_files(client, builds, settings):
    call = make(slug="vecteurs", title="Vecteurs viraux")
    for url in EVERY_EXPORT:
        body(client.get(url))
    directory = settings.EXPORT_CACHE_DIR
    (directory / "v1-20260101-abcdef12-api-json-0123456789abcdef0123.json.lock").write_text("")  # earlier naming
    call.title = "Vecteurs viraux, deuxième vague"
    services.save_call(call=call)
    for url in EVERY_EXPORT:
        body(client.get(url))
    names = sorted(path.name for path in directory.iterdir())
    # One lock for the directory (the builder's), none per file: files go without leaving a lock.
    assert [name for name in names if name.endswith(".lock")] == [".builder.lock"]
    assert len(names) == 4  # the three fresh files and the builder's lock


@pytest.mark.django_db(transaction=True)
def test_503s_while_an_export_is_built_do_not_use_up_the_clients_export_rate(builds, monkeypatch, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "exports": "2/hour"}}
    make(slug="vecteurs")
    waiting = Client(REMOTE_ADDR="10.2.2.2")
    with time_machine.travel(datetime.datetime(2026, 11, 5, 10, 30, 30, tzinfo=datetime.UTC), tick=False):
        with BlockedBuild(monkeypatch):
            # Coming back while it builds: 503s, never a 429 (each is taken back from the count).
            statuses = [waiting.get(url).status_code for url in (JSON, JSON, CSV, SEARCH_CSV, JSON, SEARCH_CSV)]
            assert statuses == [503] * 6
        # The file is built: the client gets its two exports of the hour, then a 429.
        assert json_slugs(body(waiting.get(JSON))) == ["vecteurs"]
        assert body(waiting.get(JSON))
        assert waiting.get(CSV).status_code == 429
