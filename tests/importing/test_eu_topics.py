"""The EU Funding & Tenders portal's topics become drafts curators review, never over their work.

The pages in tests/data/eu_topics_page*.json are shaped as the portal's search API answers
(results[].metadata as lists of strings, budgetOverview as a JSON text); every topic is fictitious.
"""
import datetime
import email.parser
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.management import CommandError, call_command

from calls import services
from calls.importing.eu_topics import EuTopics
from calls.models import Call, Provenance
from tests.factories import CallFactory, FunderFactory, ProgrammeFactory

DATA = Path(__file__).resolve().parents[1] / "data"
PAGE1, PAGE2 = DATA / "eu_topics_page1.json", DATA / "eu_topics_page2.json"
DAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)
TOPIC_PAGE = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/"
HLTH, EIC, IHI, CIRCBIO = ("HORIZON-HLTH-2027-99-IND-01", "HORIZON-EIC-2027-ACCELERATOR-99",
                           "HORIZON-JU-IHI-2027-99-01", "HORIZON-CL6-2027-99-CIRCBIO-01")


@pytest.fixture(autouse=True)
def on_a_known_day():
    with time_machine.travel(DAY, tick=True):
        yield


@pytest.fixture
def registry(db):
    """What 40-europe.yaml holds that the import links to: the Commission, the EIC, Horizon Europe."""
    return {
        "commission": FunderFactory(slug="european-commission", name="Commission européenne", acronym="CE"),
        "eic": FunderFactory(slug="eic", name="Conseil européen de l'innovation (EIC)", acronym="EIC"),
        "horizon": ProgrammeFactory(slug="horizon-europe", name="Horizon Europe"),
        "eic-programme": ProgrammeFactory(slug="eic-horizon-europe", name="EIC sous Horizon Europe"),
    }


def pages(tmp_path, *, change=None, drop=()):
    """Both pages saved as one list of pages, topics changed (metadata) or dropped by identifier."""
    saved = [json.loads(PAGE1.read_text()), json.loads(PAGE2.read_text())]
    for page in saved:
        page["results"] = [r for r in page["results"] if r["metadata"]["identifier"][0] not in drop]
        for result in page["results"]:
            result["metadata"].update((change or {}).get(result["metadata"]["identifier"][0], {}))
    path = tmp_path / f"feed-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(saved), encoding="utf-8")
    return path


def imported(identifier):
    provenance = Provenance.objects.get(origin="eu-funding-tenders", external_id=identifier)
    return Call.objects.get(pk=provenance.object_id), provenance


def run(path, *args, **kwargs):
    call_command("import_eu_topics", "--file", str(path), *args, **{"verbosity": 0, **kwargs})


# --- Mapping and relevance -------------------------------------------------------------------------

def test_a_two_stage_topic_becomes_a_draft_with_its_stages_budget_ceiling_call_and_page(registry, tmp_path):
    run(pages(tmp_path))

    call, provenance = imported(HLTH)
    assert call.publication_state == "draft" and call.published_at is None
    assert call.submitted_by.username == "importer-eu-funding-tenders" and not call.submitted_by.is_active
    assert call.title == f"Fictitious topic: scaling up the manufacturing of cell and gene therapies ({HLTH})"
    assert call.call_type == "call_for_projects" and call.scope == "european"
    # Days in the offset each timestamp carries: 2026-10-01T00:00+0200 is 1 October (30 September in UTC).
    assert call.opens_on == datetime.date(2026, 10, 1)
    assert call.closes_on == datetime.date(2027, 9, 16)
    assert [(r.name, r.opens_on, r.closes_on) for r in call.rounds.order_by("closes_on")] == [
        ("Étape 1 — date limite 10/02/2027 00:00 (UTC+01:00)", datetime.date(2026, 10, 1), datetime.date(2027, 2, 10)),
        ("Étape 2 — date limite 16/09/2027 17:00 (UTC+02:00)", None, datetime.date(2027, 9, 16)),
    ]
    # Only this topic's action counts, not the other topic of the same call (99 M€).
    assert call.total_budget_eur == 40_000_000 and call.floor_eur == 6_000_000
    assert [(c.amount_eur, c.condition) for c in call.ceilings.all()] == [
        (8_000_000, "contribution maximale de l'UE par projet")]
    assert "Appel : HORIZON-HLTH-2027-99 — Fictitious health call 2027 (two-stage)." in call.description
    assert "Type d'action : HORIZON Innovation Actions." in call.description
    assert "Dépôt : en deux étapes." in call.description and "Projets financés attendus : 5." in call.description
    assert "processes for ATMPs that scale" in call.description and "alert" not in call.description
    assert call.programme.slug == "horizon-europe"  # the cluster's own programme is not in this registry
    assert [a.code for a in call.aid_forms.all()] == ["grant"]
    page = TOPIC_PAGE + HLTH.lower()
    assert call.apply_url == page
    [source] = call.sources.all()
    assert (source.url, source.accessed_on) == (page, datetime.date(2026, 11, 30))
    assert source.covered_fields == {"opens_on", "closes_on", "rounds", "total_budget_eur", "ceilings", "floor_eur"}
    assert [f.slug for f in call.funders.all()] == ["european-commission"]
    assert provenance.flags == [{"code": "new_funder", "value": "HaDEA"}]
    # The portal says "closed" (31094503) for it; the registry's status comes from the dates alone.
    assert call.status == "open"


def test_cut_offs_are_rounds_in_date_order_and_eic_topics_go_to_the_eic(registry, tmp_path):
    run(pages(tmp_path))

    call, provenance = imported(EIC)
    assert [r.name for r in call.rounds.order_by("closes_on")] == [
        "Clôture 1 — date limite 04/03/2027 17:00 (UTC+01:00)", "Clôture 2 — date limite 10/06/2027 17:00 (UTC+02:00)",
    ]
    assert (call.opens_on, call.closes_on) == (datetime.date(2026, 12, 15), datetime.date(2027, 6, 10))
    assert [f.slug for f in call.funders.all()] == ["eic"] and provenance.flags == []
    assert call.programme.slug == "eic-horizon-europe"
    assert "Dépôt : plusieurs dates de clôture." in call.description
    single, _ = imported(IHI)
    assert [r.name for r in single.rounds.all()] == ["Date limite 22/04/2027 17:00 (UTC+02:00)"]
    assert single.total_budget_eur == 25_000_000 and not single.ceilings.exists()  # two years summed


def test_without_a_budget_overview_two_deadlines_are_stages_only_when_the_topic_says_so(registry, tmp_path):
    run(pages(tmp_path, change={HLTH: {"budgetOverview": []}, EIC: {"budgetOverview": [],
                                                                    "identifier": [f"{EIC}-two-stage"]}}))
    hlth, _ = imported(HLTH)
    assert [r.name[:9] for r in hlth.rounds.order_by("closes_on")] == ["Clôture 1", "Clôture 2"]
    assert hlth.total_budget_eur is None and not hlth.ceilings.exists()
    eic, _ = imported(f"{EIC}-TWO-STAGE")
    assert [r.name[:7] for r in eic.rounds.order_by("closes_on")] == ["Étape 1", "Étape 2"]


def test_only_relevant_topics_are_kept(registry, tmp_path, capsys):
    call_command("import_eu_topics", "--file", str(pages(tmp_path)))

    out = capsys.readouterr().out
    assert "eu-funding-tenders: 6 read, 4 kept, 4 new, 0 updated, 0 unchanged, 0 conflicts" in out
    kept = set(Provenance.objects.filter(origin="eu-funding-tenders").values_list("external_id", flat=True))
    # The energy topic matches nothing; the vineyard one names fermentation but "plant health" excludes it.
    assert kept == {HLTH, EIC, IHI, CIRCBIO}
    circbio, _ = imported(CIRCBIO)  # kept for its words (bioprocessing), not its identifier
    assert circbio.programme.slug == "horizon-europe"


def test_a_long_title_is_cut_keeping_the_topic_identifier(registry, tmp_path):
    run(pages(tmp_path, change={EIC: {"title": ["EIC " + "very long title " * 30]}}))
    call, _ = imported(EIC)
    assert len(call.title) <= 300 and call.title.endswith(f" ({EIC})")


def test_the_relevance_file_can_be_replaced(registry, tmp_path):
    rules = tmp_path / "eic-only.yaml"
    rules.write_text("identifiers: [HORIZON-EIC-]\nkeywords: []\n", encoding="utf-8")
    run(pages(tmp_path), "--filter", str(rules))
    assert list(Provenance.objects.values_list("external_id", flat=True)) == [EIC]

    rules.write_text("audiences: [SME]\n", encoding="utf-8")
    with pytest.raises(CommandError, match="--filter"):
        run(pages(tmp_path), "--filter", str(rules))


def test_a_dry_run_writes_nothing(registry, tmp_path, capsys):
    call_command("import_eu_topics", "--file", str(pages(tmp_path)), "--dry-run")
    assert "Dry run, nothing written: eu-funding-tenders: 6 read, 4 kept, 4 new" in capsys.readouterr().out
    assert not Call.objects.exists() and not Provenance.objects.exists()


# --- Re-imports -----------------------------------------------------------------------------------

def test_importing_twice_changes_nothing(registry, tmp_path, capsys):
    run(pages(tmp_path))
    before = {c.slug: (c.updated_at, c.history.count()) for c in Call.objects.all()}

    call_command("import_eu_topics", "--file", str(pages(tmp_path)))

    assert "4 kept, 0 new, 0 updated, 4 unchanged, 0 conflicts" in capsys.readouterr().out
    assert {c.slug: (c.updated_at, c.history.count()) for c in Call.objects.all()} == before


def test_a_curators_change_is_kept_and_the_feeds_new_value_waits(registry, tmp_path, curator):
    run(pages(tmp_path))
    call, _ = imported(HLTH)
    call.title = "Fabrication des MTI à l'échelle (HORIZON-HLTH-2027-99-IND-01)"
    services.save_call(call=call, actor=curator, reason="curator")
    budget = json.loads(json.loads(PAGE1.read_text())["results"][0]["metadata"]["budgetOverview"][0])
    budget["budgetTopicActionMap"]["9901"][0]["budgetYearMap"] = {"2027": "45000000"}

    run(pages(tmp_path, change={HLTH: {
        "title": ["Fictitious topic: manufacturing of ATMPs at scale"],
        "budgetOverview": [json.dumps(budget)],
    }}))

    call, provenance = imported(HLTH)
    assert call.title == "Fabrication des MTI à l'échelle (HORIZON-HLTH-2027-99-IND-01)"
    assert provenance.pending == {"title": f"Fictitious topic: manufacturing of ATMPs at scale ({HLTH})"}
    assert call.total_budget_eur == 45_000_000  # the curator left it alone: the feed's new value is written
    assert call.history.first().history_user.username == "importer-eu-funding-tenders"


def test_a_topic_gone_from_the_feed_is_flagged_never_deleted(registry, tmp_path, capsys):
    run(pages(tmp_path))
    call_command("import_eu_topics", "--file", str(pages(tmp_path, drop={EIC})), "--whole-feed")

    assert "no longer in the feed since 2026-11-30" in capsys.readouterr().out
    call, provenance = imported(EIC)
    assert provenance.missing_since == datetime.date(2026, 11, 30)
    assert Call.objects.filter(pk=call.pk).exists()

    run(pages(tmp_path))  # back in the feed: no longer flagged
    assert imported(EIC)[1].missing_since is None


def test_a_topic_leaving_the_search_after_its_deadline_is_not_flagged(registry, tmp_path):
    run(pages(tmp_path))
    with time_machine.travel(datetime.datetime(2027, 7, 1, 10, 0, tzinfo=datetime.UTC), tick=True):
        # EIC closed on 10 June; HLTH's second stage is in September
        run(pages(tmp_path, drop={EIC, HLTH}), "--whole-feed")
    assert imported(EIC)[1].missing_since is None
    assert imported(HLTH)[1].missing_since == datetime.date(2027, 7, 1)


def test_an_entry_already_naming_the_topic_is_flagged_as_a_likely_duplicate(registry, tmp_path):
    curated = CallFactory(slug="horizon-hlth-2027-99-ind-01-fabrication-mti",
                          title=f"Horizon Europe Santé 2027 — Fabrication des MTI ({HLTH})")
    run(pages(tmp_path))
    _call, provenance = imported(HLTH)
    assert {"code": "duplicate", "value": curated.slug} in provenance.flags


def test_an_entry_citing_the_topic_page_is_taken_over_not_duplicated_and_its_values_kept(registry, tmp_path, capsys):
    curated = CallFactory(slug="eic-accelerator-2027", title="EIC Accelerator 2027", publication_state="draft")
    curated.sources.create(title="Portail", url=TOPIC_PAGE + EIC.lower(), covers="")
    call_command("import_eu_topics", "--file", str(pages(tmp_path)))
    call, provenance = imported(EIC)
    assert call.pk == curated.pk and provenance.flags == []
    assert "3 new, 0 updated, 1 unchanged" in capsys.readouterr().out
    # A curator wrote it: nothing of it is overwritten, the feed's values wait for a curator.
    assert call.title == "EIC Accelerator 2027" and call.rounds.count() == 0
    assert provenance.pending["total_budget_eur"] == 300_000_000


def test_hostile_topics_are_rejected_one_by_one(registry, tmp_path, capsys):
    good = json.loads(PAGE1.read_text())["results"][1]
    hostile = [
        "not an object",
        {"metadata": ["a", "list"]},
        {"metadata": {**good["metadata"], "identifier": ["../../etc/passwd"]}},
        {"metadata": {**good["metadata"], "identifier": ["HORIZON-HLTH-X1"], "title": ["bad\x00title"]}},
        {"metadata": {**good["metadata"], "identifier": ["HORIZON-HLTH-X2"], "deadlineDate": ["tomorrow"]}},
        {"metadata": {**good["metadata"], "identifier": ["HORIZON-HLTH-X3"],
         "startDate": ["2027-02-30T00:00:00+0100"]}},
        {"metadata": {**good["metadata"], "identifier": ["HORIZON-HLTH-X4"], "budgetOverview": ["{not json"]}},
        {"metadata": {**good["metadata"], "identifier": ["HORIZON-HLTH-X5"], "budgetOverview": [json.dumps(
            {"budgetTopicActionMap": {"1": [{"action": "HORIZON-HLTH-X5 - x", "maxContribution": -5}]}})]}},
        {"metadata": {**good["metadata"], "identifier": ["HORIZON-HLTH-X6"], "title": [{"nested": "object"}]}},
        {"metadata": {**good["metadata"], "identifier": ["HORIZON-HLTH-X7"], "title": ["x" * 600]}},
        {"metadata": {**good["metadata"], "identifier": ["HORIZON-HLTH-X8"],
                      "deadlineDate": ["2027-03-04T17:00:00.000+0100"], "startDate": ["2027-06-01T00:00:00.000+0200"]}},
        good,
        good,
    ]
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"results": hostile}), encoding="utf-8")

    call_command("import_eu_topics", "--file", str(path))

    out = capsys.readouterr().out
    assert "13 read, 2 kept, 1 new, 0 updated, 0 unchanged, 0 conflicts, 0 flagged, 12 rejected" in out
    for message in ("topic #1: rejected: not a JSON object", "topic #2: rejected: metadata: missing",
                    "identifier: not a topic identifier",
                    "topic #4: rejected: HORIZON-HLTH-X1: title: contains control",
                    "deadlineDate: not a timestamp", "startDate: not a date", "budgetOverview: not a JSON text",
                    "HORIZON-HLTH-X5: budgetOverview: maxContribution: not a whole number",
                    "title: expected a list of texts", "title: longer than 500",
                    "topic HORIZON-HLTH-X8: rejected: closes_on: ",  # the closing date before the opening
                    f"topic {EIC}: rejected: appears twice"):
        assert message in out, message
    assert list(Provenance.objects.values_list("external_id", flat=True)) == [EIC]


def test_a_file_that_is_not_a_search_answer_imports_nothing(db, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"totalResults": 3}', encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing imported"):
        run(path)


# --- The search API, against a local server ---------------------------------------------------------

class SearchServer(ThreadingHTTPServer):
    """A stand-in for the portal's search API on 127.0.0.1: a 503 once, then two pages of three."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SearchHandler)
        self.requests, self.failed_once = [], False
        self.url = f"http://127.0.0.1:{self.server_address[1]}/search-api/prod/rest/search"


class SearchHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if status == 503:
            self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        form = email.parser.BytesParser().parsebytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
        parts = {part.get_param("name", header="content-disposition"): json.loads(part.get_payload(decode=True))
                 for part in form.get_payload()}
        url = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        self.server.requests.append((url.path, query, parts, self.headers.get("User-Agent")))
        if url.path != "/search-api/prod/rest/search" or query.get("apiKey") != "SEDIA":
            return self.send(404, {"error": "not found"})
        if not self.server.failed_once:
            self.server.failed_once = True
            return self.send(503, {"error": "busy"})
        page = {"1": PAGE1, "2": PAGE2}.get(query["pageNumber"])
        if page is None:
            return self.send(200, {**json.loads(PAGE1.read_text()), "pageNumber": int(query["pageNumber"]),
                                   "results": []})
        return self.send(200, json.loads(page.read_text()))


@pytest.fixture
def search_server():
    server = SearchServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_search_api_is_read_page_after_page_retrying_a_failure(registry, search_server, monkeypatch, capsys):
    monkeypatch.setenv("EU_SEARCH_API_URL", search_server.url)

    call_command("import_eu_topics", "--page-size", "3", "--delay", "0.01", "--timeout", "5")

    assert [query["pageNumber"] for _path, query, _parts, _agent in search_server.requests] == ["1", "1", "2"]
    _path, query, parts, agent = search_server.requests[-1]
    assert query == {"apiKey": "SEDIA", "text": "***", "pageSize": "3", "pageNumber": "2"}
    assert {"terms": {"type": ["1", "2"]}} in parts["query"]["bool"]["must"]
    assert parts["languages"] == ["en"] and "registry" in agent
    assert "eu-funding-tenders: 6 read, 4 kept, 4 new" in capsys.readouterr().out


def test_a_search_api_still_failing_imports_nothing(db, search_server, monkeypatch):
    monkeypatch.setenv("EU_SEARCH_API_URL", search_server.url)
    with pytest.raises(CommandError, match=r"HTTP 503, still after 1 attempts"):
        call_command("import_eu_topics", "--delay", "0", "--retries", "0", verbosity=0)
    assert not Call.objects.exists()


def test_the_importer_runs_on_results_in_memory(registry):
    results = json.loads(PAGE2.read_text())["results"]
    report = EuTopics(whole_feed=False).run(results)
    assert report.summary() == ("eu-funding-tenders: 3 read, 2 kept, 2 new, 0 updated, 0 unchanged, 0 conflicts, "
                                "1 flagged, 0 rejected")
