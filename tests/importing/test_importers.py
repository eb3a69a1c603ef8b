"""Importers: aides-territoires' feed and a partner's CSV become drafts curators review, never over their work.

The feed files in tests/data/ are shaped as aides-territoires' `AidSerializerLatest` gives aids
(MTES-MCT/aides-territoires, src/aids/api/serializers.py); every aid in them is fictitious.
"""
import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from calls.importing.aides_territoires import AidesTerritoires, read_file
from calls.importing.base import Relevance
from calls.models import Call, Provenance, Source
from tests.admin_forms import change_form_data
from tests.factories import CallFactory, CallFunderFactory, FunderFactory, SourceFactory
from tests.helpers import reindex

DATA = Path(__file__).resolve().parents[1] / "data"
PAGE1, PAGE2, HOSTILE = (DATA / f"aides_territoires_{name}.json" for name in ("page1", "page2", "hostile"))
ADMIN = "/en/admin/calls/call/"
DAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)
SITE = "https://aides-territoires.beta.gouv.fr"


@pytest.fixture(autouse=True)
def on_a_known_day():
    with time_machine.travel(DAY, tick=True):
        yield


@pytest.fixture
def funders(db):
    """Funders the registry knows: the feed names the first by its acronym; the other funders are new to it."""
    return {
        "afi": FunderFactory(slug="agence-fictive-innovation", name="Agence fictive de l'innovation", acronym="AFI"),
    }


def both_pages(tmp_path, *, change=None):
    """The two pages of the feed saved as one list of pages, optionally changed aid by aid."""
    pages = [json.loads(PAGE1.read_text()), json.loads(PAGE2.read_text())]
    for page in pages:
        for aid in page["results"]:
            if change and aid["id"] in change:
                aid.update(change[aid["id"]])
    path = tmp_path / f"feed-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(pages), encoding="utf-8")
    return path


def imported(aid_id):
    provenance = Provenance.objects.get(origin="aides-territoires", external_id=str(aid_id))
    return Call.objects.get(pk=provenance.object_id), provenance


def run(path, *args):
    call_command("import_aides_territoires", "--file", str(path), *args, verbosity=0)


# --- Mapping and relevance -------------------------------------------------------------------------

def test_every_field_of_an_aid_is_mapped_to_a_draft_call(funders, tmp_path):
    run(both_pages(tmp_path))

    call, provenance = imported(90001)
    assert call.title == "Aide fictive : bioproduction de biothérapies innovantes"
    assert call.publication_state == "draft" and call.published_at is None
    assert call.submitted_by.username == "importer-aides-territoires"
    assert not call.submitted_by.is_staff and not call.submitted_by.has_usable_password()
    assert call.call_type == "call_for_projects"
    assert (call.opens_on, call.closes_on) == (datetime.date(2027, 1, 15), datetime.date(2027, 4, 30))
    assert call.is_rolling is False
    assert (call.funding_rate_min_pct, call.funding_rate_max_pct) == (30, 60)
    assert [(c.amount_eur, c.condition) for c in call.ceilings.all()] == [(500000, "avance récupérable")]
    assert sorted(a.code for a in call.aid_forms.all()) == ["grant", "repayable_advance"]
    assert sorted(b.code for b in call.beneficiaries.all()) == [
        "academic_lab", "large_company", "midcap", "sme", "startup"]
    assert call.scope == "regional" and [r.code for r in call.regions.all()] == ["84"]
    assert call.description == (
        "Aide fictive pour tester l'import : soutenir la bioproduction.\n\n- Lignes pilotes\n- Procédés de "
        "biothérapies\n\nPré-dépôt des dossiers : 2027-03-01."
    )
    assert call.eligibility == "Entreprises et laboratoires fictifs de la région."
    assert call.apply_url == "https://example.org/candidater/90001"
    assert [f.slug for f in call.funders.all()] == ["agence-fictive-innovation"]  # matched by its acronym
    assert {"code": "new_funder", "value": "Fondation fictive pour la santé"} in provenance.flags
    page, origin = call.sources.order_by("pk")
    assert (page.url, page.accessed_on) == (
        f"{SITE}/aides/a1b2-aide-fictive-bioproduction-biotherapies/", datetime.date(2026, 11, 30))
    assert page.title == "Aide fictive : bioproduction de biothérapies innovantes | Aides-territoires"
    assert page.covered_fields == {"opens_on", "closes_on", "funding_rate", "ceilings"}
    assert origin.url == "https://example.org/aides/bioproduction-fictive" and origin.accessed_on is None
    history = call.history.first()
    assert history.history_change_reason == "import: aides-territoires"
    assert history.history_user == call.submitted_by

    ami, _ = imported(90004)
    assert ami.call_type == "expression_of_interest" and ami.scope == "national"
    assert [f.slug for f in ami.funders.all()] == ["agence-fictive-innovation"]  # "Name (ACRONYM)"
    assert sorted(a.code for a in ami.aid_forms.all()) == ["in_kind", "loan"]
    assert [(c.amount_eur, c.condition) for c in ami.ceilings.all()] == [(1000000, "prêt")]

    rolling, provenance = imported(90005)
    assert rolling.call_type == "open_scheme" and rolling.is_rolling
    assert rolling.scope == "regional" and [r.code for r in rolling.regions.all()] == ["53"]  # Finistère
    assert {"code": "department", "value": "Finistère (29)"} in provenance.flags
    assert sorted(b.code for b in rolling.beneficiaries.all()) == [
        "association", "large_company", "midcap", "sme", "startup"]

    europe, provenance = imported(90006)
    assert europe.scope == "european" and not europe.regions.exists()
    assert {"code": "recurring", "value": "Récurrente"} in provenance.flags


def test_only_aids_relevant_to_the_registry_are_kept(funders, tmp_path, capsys):
    call_command("import_aides_territoires", "--file", str(both_pages(tmp_path)))

    kept = set(Provenance.objects.filter(origin="aides-territoires").values_list("external_id", flat=True))
    assert kept == {"90001", "90004", "90005", "90006"}  # not the cycling paths, not the health centre for communes
    assert "aides-territoires: 6 read, 4 kept, 4 new, 0 updated" in capsys.readouterr().out


def test_the_relevance_filter_is_a_file_curators_can_change(funders, tmp_path):
    custom = tmp_path / "filter.yaml"
    custom.write_text("keywords: [pistes cyclables]\ncategories: []\naudiences: []\n", encoding="utf-8")

    run(both_pages(tmp_path), "--filter", str(custom))

    assert list(Provenance.objects.values_list("external_id", flat=True)) == ["90002"]


def test_the_default_filter_reads_keywords_categories_exclusions_and_audiences():
    relevance = Relevance(keywords=["biothérap"], categories=["Santé"], exclude=["maison de santé"],
                          audiences=["Entreprises privées"])
    assert relevance.accepts(texts=["Des BIOTHERAPIES fictives"], audiences=["Entreprises privées"])
    assert relevance.accepts(texts=["Rien"], categories=["Santé / Social|Santé"])
    assert not relevance.accepts(texts=["Rien"], categories=["Santé / Social|Sport"])
    assert not relevance.accepts(texts=["biothérapies"], audiences=["Communes"])
    assert not relevance.accepts(texts=["une maison de santé"], categories=["Santé / Social|Santé"])
    assert not relevance.accepts(texts=["antibiothérapie"])  # a keyword starts a word


# --- Running again ----------------------------------------------------------------------------------

def test_importing_twice_changes_nothing(funders, tmp_path):
    run(both_pages(tmp_path))
    history = Call.history.count()
    stamps = dict(Call.objects.values_list("slug", "updated_at"))
    sources = list(Source.objects.order_by("pk").values_list("pk", "accessed_on"))

    with time_machine.travel(DAY + datetime.timedelta(days=3), tick=True):  # read again on another day
        report = AidesTerritoires().run(read_file(both_pages(tmp_path)))

    assert (report.new, report.updated, report.rejected, report.unchanged) == ([], [], [], 4)
    assert Call.history.count() == history
    assert dict(Call.objects.values_list("slug", "updated_at")) == stamps
    assert list(Source.objects.order_by("pk").values_list("pk", "accessed_on")) == sources


def test_a_curators_edit_survives_a_reimport_and_the_feeds_new_value_is_shown(funders, tmp_path, curator_client):
    run(both_pages(tmp_path))
    call, _ = imported(90001)
    data = change_form_data(curator_client.get(f"{ADMIN}{call.pk}/change/"))
    data["title"] = "Bioproduction de biothérapies (titre revu par une curatrice)"
    response = curator_client.post(f"{ADMIN}{call.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    with time_machine.travel(DAY + datetime.timedelta(days=7), tick=True):
        report = AidesTerritoires().run(read_file(both_pages(tmp_path, change={90001: {
            "name": "Aide fictive : bioproduction de biothérapies (nouveau titre du flux)",
            "submission_deadline": "2027-05-31",
        }})))

    call.refresh_from_db()
    assert call.title == "Bioproduction de biothérapies (titre revu par une curatrice)"
    assert call.closes_on == datetime.date(2027, 5, 31)  # no curator touched it: the feed's change is taken
    assert call.sources.order_by("pk").first().accessed_on == datetime.date(2026, 12, 7)  # read anew
    _, provenance = imported(90001)
    assert provenance.pending == {"title": "Aide fictive : bioproduction de biothérapies (nouveau titre du flux)"}
    assert [(slug, name) for slug, name, *_ in report.conflicts] == [(call.slug, "title")]
    page = curator_client.get(f"{ADMIN}{call.pk}/change/").content.decode()
    assert "nouveau titre du flux" in page
    assert call.history.first().history_change_reason == "import: aides-territoires"

    listed = curator_client.get(ADMIN, {"origin": "review"}).context["cl"].result_list
    assert call in listed
    response = curator_client.post(ADMIN, {"action": "keep_curators_values", "_selected_action": [call.pk]})
    assert response.status_code == 302
    assert imported(90001)[1].pending == {}
    history = call.history.count()
    report = AidesTerritoires().run(read_file(both_pages(tmp_path, change={90001: {
        "name": "Aide fictive : bioproduction de biothérapies (nouveau titre du flux)",
        "submission_deadline": "2027-05-31",
    }})))
    assert report.conflicts == [] and imported(90001)[1].pending == {}  # settled: not raised again
    assert call.history.count() == history


def test_curators_publish_imported_drafts_and_a_reimport_leaves_them_published(funders, tmp_path, curator_client):
    run(both_pages(tmp_path))
    call, _ = imported(90004)
    listed = curator_client.get(ADMIN, {"origin": "imported"}).context["cl"].result_list
    assert call in listed and not any(c.submitted_by is None for c in listed)
    assert call not in curator_client.get(ADMIN, {"origin": "partner"}).context["cl"].result_list
    SourceFactory(call=call, covers="opens_on, closes_on, ceilings")  # what a curator checks before publishing
    curator_client.post(ADMIN, {"action": "publish", "_selected_action": [call.pk]})
    call.refresh_from_db()
    assert call.publication_state == "published"

    run(both_pages(tmp_path))

    call.refresh_from_db()
    assert call.publication_state == "published"


def test_an_aid_gone_from_the_feed_is_flagged_never_deleted(funders, tmp_path, curator_client):
    run(both_pages(tmp_path))
    calls = Call.objects.count()

    # page 2's aids are gone, and the file is said to be the whole feed
    call_command("import_aides_territoires", "--file", str(PAGE1), "--whole-feed", verbosity=0)

    assert Call.objects.count() == calls
    gone, provenance = imported(90005)
    assert provenance.missing_since == datetime.date(2026, 11, 30)
    assert imported(90001)[1].missing_since is None
    assert gone in curator_client.get(ADMIN, {"origin": "review"}).context["cl"].result_list
    assert "Nov. 30, 2026" in curator_client.get(f"{ADMIN}{gone.pk}/change/").content.decode()

    run(both_pages(tmp_path))  # back in the feed
    assert imported(90005)[1].missing_since is None


def test_a_partial_read_flags_nothing_as_gone(funders, tmp_path):
    run(both_pages(tmp_path))
    run(PAGE1, "--partial")
    assert not Provenance.objects.filter(missing_since__isnull=False).exists()


def test_a_file_import_flags_nothing_as_gone_unless_told_it_is_the_whole_feed(funders, tmp_path, capsys):
    """A saved answer may be one page or an old one: the feed's other aids are not gone for it."""
    run(both_pages(tmp_path))
    run(PAGE1)  # page 2's aids are not in this file
    assert not Provenance.objects.filter(missing_since__isnull=False).exists()
    from calls.importing.management.commands.import_aides_territoires import Command

    assert "--whole-feed" in Command().create_parser("manage.py", "import_aides_territoires").format_help()
    with pytest.raises(CommandError, match="contradict"):
        run(PAGE1, "--partial", "--whole-feed")
    run(PAGE1, "--whole-feed")
    assert imported(90005)[1].missing_since == datetime.date(2026, 11, 30)


def test_an_aid_without_a_perimeter_is_flagged_and_a_department_says_what_it_means(funders, tmp_path, capsys):
    call_command("import_aides_territoires", "--file", str(both_pages(tmp_path, change={90001: {"perimeter": ""}})))
    out = capsys.readouterr().out
    call, provenance = imported(90001)
    assert call.scope == "national" and not call.regions.exists()
    assert {"code": "no_perimeter", "value": ""} in provenance.flags
    assert "No perimeter given: taken as national until a curator checks where applicants may be" in out
    department, provenance = imported(90005)
    assert {"code": "department", "value": "Finistère (29)"} in provenance.flags
    assert ("Perimeter is a department: placed in its region, narrower than the region (say so in the call's "
            "eligibility): Finistère (29)") in out


# --- Deduplication -----------------------------------------------------------------------------------

def test_a_call_already_citing_the_aids_page_is_updated_not_duplicated(funders, tmp_path):
    existing = CallFactory(slug="bioproduction-deja-la", title="Bioproduction (saisie par une curatrice)")
    SourceFactory(call=existing, document=None, title="Page du financeur",
                  url="https://example.org/aides/bioproduction-fictive/")  # the aid's origin page

    run(both_pages(tmp_path))

    call, provenance = imported(90001)
    assert call == existing and Call.objects.filter(title__contains="biothérapies innovantes").count() == 0
    assert call.title == "Bioproduction (saisie par une curatrice)" and call.publication_state == "published"
    assert provenance.pending["title"] == "Aide fictive : bioproduction de biothérapies innovantes"


def test_a_likely_duplicate_of_a_call_in_the_registry_is_flagged(funders, tmp_path, curator_client):
    other = CallFactory(slug="bioproduction-curatrice",
                        title="Aide fictive - bioproduction des biothérapies innovantes",
                        opens_on=datetime.date(2027, 1, 15), closes_on=datetime.date(2027, 4, 30))
    CallFunderFactory(call=other, funder=funders["afi"])
    elsewhere = CallFactory(title="Aide fictive : bioproduction de biothérapies innovantes",
                            opens_on=datetime.date(2025, 1, 15), closes_on=datetime.date(2025, 4, 30))
    CallFunderFactory(call=elsewhere, funder=funders["afi"])  # same title and funder, other dates: another edition

    run(both_pages(tmp_path))

    call, provenance = imported(90001)
    assert [f["value"] for f in provenance.flags if f["code"] == "duplicate"] == ["bioproduction-curatrice"]
    page = curator_client.get(f"{ADMIN}{call.pk}/change/").content.decode()
    assert "Likely duplicate of: bioproduction-curatrice" in page


# --- Malformed and hostile payloads ---------------------------------------------------------------------

def test_malformed_and_hostile_aids_are_rejected_one_by_one_with_what_is_wrong(funders, capsys):
    call_command("import_aides_territoires", "--file", str(HOSTILE))

    out = capsys.readouterr().out
    for expected in (
        "x aid #1: rejected: not a JSON object (str)",
        "x aid #2: rejected: id: missing or not a number",
        "x aid #3: rejected: id: not a positive number",
        "x aid #4: rejected: name: contains control characters",
        "x aid #5: rejected: submission_deadline: not a date (YYYY-MM-DD)",
        "x aid #6: rejected: application_url: not an http(s) address",
        "x aid #7: rejected: subvention_rate_upper_bound: not a whole number between 0 and 100",
        "x aid 90107: rejected: funding_rate_max_pct: The maximum funding rate cannot be below the minimum.",
        "x aid #9: rejected: name: longer than 300 characters",
        "x aid #10: rejected: financers: expected a list of texts",
        "x aid 90110: rejected: closes_on: The closing date cannot be before the opening date.",
        "x aid 90100: rejected: appears twice in the feed; the first one was imported",
    ):
        assert expected in out
    assert "13 read, 3 kept, 1 new, 0 updated, 0 unchanged, 0 conflicts, 1 flagged, 12 rejected" in out
    (call,) = Call.objects.all()  # only the valid aid; nothing of the others, not even in part
    assert Provenance.objects.count() == 1 and Source.objects.filter(call__isnull=False).count() == 1
    assert set(Call.history.values_list("id", flat=True)) == {call.pk}
    assert call.title == "Aide fictive valide parmi des aides piégées"
    assert call.description == "Bioproduction fictive."  # script and event handler dropped with the tags
    _, provenance = imported(90100)
    assert provenance.flags == [{"code": "perimeter", "value": "Commune fictive de Testville"}]


def test_a_file_that_is_not_a_feed_imports_nothing(db, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing imported: .* not a JSON document"):
        run(bad)
    other = tmp_path / "other.json"
    other.write_text('{"detail": "Not found."}', encoding="utf-8")
    with pytest.raises(CommandError, match="neither a page of aids"):
        run(other)


# --- The API: pages, token, retries, against a local server ------------------------------------------------

class FeedServer(ThreadingHTTPServer):
    """A stand-in for aides-territoires' API on 127.0.0.1: a token exchange, a 503 once, then two pages."""

    daemon_threads = True

    def __init__(self, *, next_link=None):
        super().__init__(("127.0.0.1", 0), FeedHandler)
        self.requests, self.failed_once = [], False
        self.root = f"http://127.0.0.1:{self.server_address[1]}"
        self.next_link = next_link or f"{self.root}/api/aids/?page=2&size=100"


class FeedHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body=None, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        server = self.server
        server.requests.append((self.path, self.headers.get("Authorization"), self.headers.get("X-AUTH-TOKEN")))
        if self.path == "/api/connexion/":
            if self.headers.get("X-AUTH-TOKEN") != "cle-fictive":
                return self.send(401, {"detail": "clé invalide"})
            return self.send(200, {"token": "jeton-fictif"})
        if self.headers.get("Authorization") != "Bearer jeton-fictif":
            return self.send(401, {"detail": "jeton manquant"})
        if self.path == "/api/aids/?size=100":
            if not server.failed_once:
                server.failed_once = True
                return self.send(503, {"detail": "maintenance"}, headers=[("Retry-After", "0")])
            return self.send(200, {**json.loads(PAGE1.read_text()), "next": server.next_link})
        if self.path == "/api/aids/?page=2&size=100":
            return self.send(200, json.loads(PAGE2.read_text()))
        return self.send(404, {"detail": "Not found."})


@pytest.fixture
def feed_server():
    server = FeedServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_api_is_read_page_after_page_with_its_token_retrying_a_failure(funders, feed_server, monkeypatch, capsys):
    monkeypatch.setenv("AIDES_TERRITOIRES_API_URL", f"{feed_server.root}/api/aids/")
    monkeypatch.setenv("AIDES_TERRITOIRES_API_TOKEN", "cle-fictive")

    call_command("import_aides_territoires", "--delay", "0.01", "--timeout", "5")

    assert [path for path, *_ in feed_server.requests] == [
        "/api/connexion/", "/api/aids/?size=100", "/api/aids/?size=100", "/api/aids/?page=2&size=100",
    ]
    assert feed_server.requests[0][2] == "cle-fictive"
    assert all(auth == "Bearer jeton-fictif" for _path, auth, _key in feed_server.requests[1:])
    assert "6 read, 4 kept, 4 new" in capsys.readouterr().out
    call, _ = imported(90005)  # from the second page
    page = call.sources.order_by("pk").first()
    assert page.url == f"{feed_server.root}/aides/i9j0-aide-fictive-therapies-cellulaires/"


def test_a_next_page_on_another_site_is_not_followed_and_nothing_is_imported(db, monkeypatch):
    server = FeedServer(next_link="http://example.org/api/aids/?page=2")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("AIDES_TERRITOIRES_API_URL", f"{server.root}/api/aids/")
        monkeypatch.setenv("AIDES_TERRITOIRES_API_TOKEN", "cle-fictive")
        with pytest.raises(CommandError, match="next page is on another site"):
            call_command("import_aides_territoires", "--delay", "0", "--timeout", "5", verbosity=0)
    finally:
        server.shutdown()
        server.server_close()
    assert not Call.objects.exists()


def test_a_feed_still_failing_after_its_retries_imports_nothing(db, monkeypatch):
    server = FeedServer()
    server.failed_once = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("AIDES_TERRITOIRES_API_URL", f"{server.root}/api/aids/")
        monkeypatch.setenv("AIDES_TERRITOIRES_API_TOKEN", "cle-fictive")
        with pytest.raises(CommandError, match=r"HTTP 503, still after 1 attempts"):
            call_command("import_aides_territoires", "--delay", "0", "--retries", "0", verbosity=0)
    finally:
        server.shutdown()
        server.server_close()
    assert not Call.objects.exists()


# --- The generic importer: a partner's CSV through a mapping file -------------------------------------------

CSV, MAPPING = DATA / "partner_export.csv", DATA / "partner_mapping.yaml"


def partner_calls():
    return {p.external_id: Call.objects.get(pk=p.object_id)
            for p in Provenance.objects.filter(origin="portail-partenaire-fictif")}


def test_a_partners_csv_is_imported_through_its_mapping_with_the_same_rules(funders, tmp_path, capsys):
    call_command("import_calls", str(CSV), "--mapping", str(MAPPING))

    out = capsys.readouterr().out
    assert "4 read, 3 kept, 2 new" in out  # P-004 (roads) is not relevant
    assert "x record P-003: rejected: opens_on: '2027-13-45' is not a date" in out
    assert "aid_forms: not the registry's codes: 'Obligation'" in out
    calls = partner_calls()
    assert set(calls) == {"P-001", "P-002"}
    first = calls["P-001"]
    assert first.publication_state == "draft" and first.submitted_by.username == "importer-portail-partenaire-fictif"
    assert first.call_type == "call_for_projects" and first.scope == "regional"
    assert (first.opens_on, first.closes_on, first.closes_on_display) == (
        datetime.date(2027, 1, 15), datetime.date(2027, 3, 31), "March 2027")
    assert [r.code for r in first.regions.all()] == ["84"]
    assert sorted(b.code for b in first.beneficiaries.all()) == ["sme", "startup"]
    assert [c.amount_eur for c in first.ceilings.all()] == [300000]
    assert [f.slug for f in first.funders.all()] == ["agence-fictive-innovation"]
    assert first.sources.get().url == "https://example.org/portail/appels/p-001"
    assert calls["P-002"].call_type == "prize" and calls["P-002"].scope == "national"

    history = Call.history.count()
    call_command("import_calls", str(CSV), "--mapping", str(MAPPING), verbosity=0)
    assert Call.history.count() == history  # twice changes nothing

    first.eligibility = "Précisé par une curatrice."
    first.description = "Description revue par une curatrice."
    first.save()
    reindex(call=first)
    changed = tmp_path / "export.csv"
    changed.write_text(CSV.read_text(encoding="utf-8").replace(
        "Appel fictif pour tester l'import générique (biothérapies).", "Nouvelle description fictive (biothérapies)."
    ), encoding="utf-8")
    report_out = tmp_path / "out.txt"
    with report_out.open("w") as handle:
        call_command("import_calls", str(changed), "--mapping", str(MAPPING), stdout=handle)
    first.refresh_from_db()
    assert first.description == "Description revue par une curatrice."
    assert "! " in report_out.read_text() and "Nouvelle description fictive" in report_out.read_text()
    provenance = Provenance.objects.get(origin="portail-partenaire-fictif", external_id="P-001")
    assert provenance.pending == {"description": "Nouvelle description fictive (biothérapies)."}


def test_a_mapping_file_that_cannot_be_used_imports_nothing(db, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("origin: portail\nid: ref\nfields: {title: titre, montant: m, call_type: {default: prize}}\n")
    with pytest.raises(CommandError, match="not a call's field an import may give: \\['montant'\\]"):
        call_command("import_calls", str(CSV), "--mapping", str(mapping), verbosity=0)
    assert not Call.objects.exists()


def test_a_feeds_funder_is_matched_by_an_alias_of_a_registry_funder(funders, tmp_path):
    """The feed writes the Région's official long name; the registry knows it by its usual name,
    with the long one among its aliases: the aid is the Région's, no new funder is flagged."""
    from calls.models import Region

    region = FunderFactory(slug="region-occitanie", name="Région Occitanie", kind="regional_authority",
                           region=Region.objects.get(code="76"),
                           aliases="Région Occitanie / Pyrénées-Méditerranée\nConseil régional d'Occitanie")
    run(both_pages(tmp_path, change={90001: {"financers": ["Région Occitanie / Pyrénées-Méditerranée"]},
                                     90004: {"financers": ["region occitanie / pyrenees-mediterranee"]}}))
    for aid in (90001, 90004):
        call, provenance = imported(aid)
        assert [f.slug for f in call.funders.all()] == [region.slug]
        assert not [flag for flag in provenance.flags if flag["code"] == "new_funder"]
