"""check_sources visits every cited page politely and records what it found; the admin lists what to re-verify.

The pages are served by a local server (127.0.0.x) started in the test: one that answers, one gone,
one that redirects, one whose text changes, one that never answers within the (tiny) timeout.
"""
import datetime
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core.management import call_command

from calls import services
from calls.importing.source_checks import Visitor, _error_text, check_sources, fingerprint, interleaved, to_reverify
from calls.models import Call, SourceCheck
from calls.models.checks import NO_HOST
from tests.factories import CallFactory, CuratorFactory, SourceFactory, UserFactory

DAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)
LIST = "/en/admin/calls/calltoreverify/"


@pytest.fixture(autouse=True)
def on_a_known_day():
    with time_machine.travel(DAY, tick=True):
        yield


class PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host="127.0.0.1", *, pause=0.0, counter=None):
        super().__init__((host, 0), PageHandler)
        self.root = f"http://{host}:{self.server_address[1]}"
        self.text = ("<html><head><script>var t = 1;</script></head>"
                     "<body><h1>Appel ouvert</h1><p>Dépôt avant le 31 mars.</p></body></html>")
        self.requests, self.pause, self.counter = [], pause, counter
        self.released = threading.Event()


class PageHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        server.requests.append((self.path, self.headers.get("User-Agent"), time.monotonic()))
        if server.counter is not None:
            server.counter.enter()
        try:
            if server.pause:
                time.sleep(server.pause)
        finally:
            # Counted while the request waits, not while its answer is written: a client that has
            # read the answer may send its next request before this thread would get here.
            if server.counter is not None:
                server.counter.leave()
        if self.path == "/slow":
            server.released.wait(5)  # never answers within the test's timeout
            return
        if self.path == "/gone":
            return self.answer(404, "<p>Introuvable</p>")
        if self.path == "/old":
            self.send_response(301)
            self.send_header("Location", "/new")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return self.answer(200, server.text)

    def answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def stop(server):
    server.released.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def pages_on_this_machine_may_be_visited(settings):
    settings.SOURCE_CHECK_ALLOW_PRIVATE = True  # the local servers; see the test that refuses them


@pytest.fixture
def pages():
    server = serve(PageServer())
    yield server
    stop(server)


@pytest.fixture
def cited(db, pages):
    """Published calls citing the local pages, verified on 1 November."""
    verified = datetime.date(2026, 11, 1)
    calls = {
        "ok": CallFactory(slug="ok", last_verified_on=verified, apply_url=f"{pages.root}/old"),
        "gone": CallFactory(slug="gone", last_verified_on=verified),
        "slow": CallFactory(slug="slow", last_verified_on=verified),
    }
    for name, call in calls.items():
        SourceFactory(call=call, document=None, title=f"Page {name}", url=f"{pages.root}/{name}", covers="")
    return calls


def test_every_cited_page_is_visited_and_its_answer_recorded(cited, pages, settings, capsys):
    settings.SITE_URL, settings.SOURCE_CHECK_CONTACT = "https://registre.example.org", "veille@example.org"
    call_command("check_sources", "--delay", "0", "--timeout", "0.3")

    checks = {check.url.removeprefix(pages.root): check for check in SourceCheck.objects.all()}
    assert set(checks) == {"/ok", "/gone", "/slow", "/old"}
    assert (checks["/ok"].status_code, checks["/ok"].error, len(checks["/ok"].fingerprint)) == (200, "", 64)
    assert (checks["/gone"].status_code, checks["/gone"].is_gone) == (404, True)
    assert (checks["/old"].status_code, checks["/old"].final_url) == (200, f"{pages.root}/new")
    assert checks["/old"].has_moved
    assert (checks["/slow"].status_code, checks["/slow"].error) == (None, "timeout")
    assert {agent for _path, agent, _at in pages.requests} == {
        "bioproduction-funding-registry-source-check/1.0 (+https://registre.example.org; contact: veille@example.org)"}
    out = capsys.readouterr().out
    assert "4 pages checked: 2 answered, 1 gone, 1 moved, 0 changed, 1 without an answer or in error" in out
    assert f"> {pages.root}/old: moved to {pages.root}/new" in out
    assert f"x {pages.root}/slow: timeout" in out


def test_a_changed_text_is_noticed_but_not_a_change_of_layout_scripts_or_case(cited, pages, capsys):
    visitor = Visitor(delay=0, timeout=0.3)
    urls = [f"{pages.root}/ok"]
    check_sources(urls, visitor=visitor)
    first = SourceCheck.objects.get(url=urls[0]).fingerprint

    pages.text = pages.text.replace("var t = 1", "var t = 2").replace("<h1>", "<h1 class='x'>\n  ").upper()
    check_sources(urls, visitor=visitor)
    assert SourceCheck.objects.get(url=urls[0]).fingerprint == first
    assert SourceCheck.objects.get(url=urls[0]).changed_on is None

    pages.text = pages.text.replace("31 MARS", "30 AVRIL")
    report = check_sources(urls, visitor=visitor)
    check = SourceCheck.objects.get(url=urls[0])
    assert report.changed == urls and check.changed_on == datetime.date(2026, 11, 30)
    assert check.previous_fingerprint == first and check.fingerprint != first


def test_pages_on_private_addresses_are_not_visited_nor_redirects_there(db, pages, settings):
    settings.SOURCE_CHECK_ALLOW_PRIVATE = False
    report = check_sources([f"{pages.root}/ok", "http://[::1]/x", "http://169.254.169.254/latest/meta-data"],
                           visitor=Visitor(delay=0, timeout=0.3))
    assert pages.requests == [] and report.checked == 3 and report.ok == 0
    assert {check.error for check in SourceCheck.objects.all()} == {"private or reserved address: not visited"}
    opener = Visitor(delay=0, timeout=0.3)
    assert opener.refusal("ftp://example.org/x") == "invalid address: not an http(s) page"
    visitor = Visitor(delay=0, timeout=0.3, allow_private=True)
    visitor.refusal = lambda url: "" if url.endswith("/old") else "private or reserved address: not visited"
    visit = visitor.visit(f"{pages.root}/old")  # the page answers, its redirect is not followed
    assert visit.status_code is None and "redirected to" in visit.error and "/new" in visit.error


def test_a_dry_run_records_nothing(cited, pages, capsys):
    call_command("check_sources", "--delay", "0", "--timeout", "0.3", "--dry-run")
    assert "Dry run, nothing recorded: 4 pages checked" in capsys.readouterr().out
    assert not SourceCheck.objects.exists()


def test_a_failed_visit_keeps_the_last_fingerprint(db):
    at = datetime.datetime(2026, 11, 29, 3, 0, tzinfo=datetime.UTC)
    services.record_source_check(url="https://example.org/a", checked_at=at, status_code=200, fingerprint="a" * 64)
    services.record_source_check(url="https://example.org/a", checked_at=at, status_code=None, error="timeout")
    check = services.record_source_check(url="https://example.org/a", checked_at=at, status_code=200,
                                         fingerprint="a" * 64)
    assert (check.fingerprint, check.changed_on) == ("a" * 64, None)


def test_no_host_by_that_name_is_gone():
    assert _error_text(socket.gaierror(-2, "Name or service not known")) == NO_HOST
    assert SourceCheck(url="https://x.invalid/", error=NO_HOST).is_gone
    assert not SourceCheck(url="https://x.org/a", final_url="HTTPS://x.org/a/").has_moved


@pytest.mark.slow  # waits out the delays between visits
def test_at_most_four_pages_at_once_and_a_delay_between_visits_of_a_host():
    class Counter:
        def __init__(self):
            self.now, self.most, self.lock = 0, 0, threading.Lock()

        def enter(self):
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)

        def leave(self):
            with self.lock:
                self.now -= 1

    counter = Counter()
    servers = [serve(PageServer(f"127.0.0.{n}", pause=0.2, counter=counter)) for n in range(2, 8)]
    try:
        urls = [f"{server.root}/page{k}" for server in servers for k in range(2)]
        visits = list(Visitor(concurrency=4, delay=0.3, timeout=5).visit_all(urls))
    finally:
        for server in servers:
            stop(server)
    assert len(visits) == 12 and all(visit.status_code == 200 for visit in visits)
    assert 1 < counter.most <= 4
    for server in servers:
        (_p1, _a1, first), (_p2, _a2, second) = server.requests
        assert second - first >= 0.2 + 0.3 - 0.05  # the first visit's answer, then the host's delay


def test_pages_are_interleaved_host_by_host():
    assert interleaved(["http://a/1", "http://a/2", "http://b/1", "http://a/3", "http://c/1"]) == [
        "http://a/1", "http://b/1", "http://c/1", "http://a/2", "http://a/3"]


def test_fingerprints_normalise_html_and_hash_other_documents():
    html = "text/html; charset=utf-8"
    assert fingerprint(b"<p>Hello   <b>World</b></p>", html) == fingerprint(b"<div>hello world</div>", html)
    assert fingerprint(b"%PDF-1", "application/pdf") != fingerprint(b"%PDF-2", "application/pdf")


# --- What to re-verify, in the admin -------------------------------------------------------------------

@pytest.fixture
def to_check(db):
    """A published call for each reason, and one with nothing to re-verify."""
    at = datetime.datetime(2026, 11, 30, 3, 0, tzinfo=datetime.UTC)
    verified = datetime.date(2026, 11, 1)
    calls = {name: CallFactory(slug=name, title=f"Appel {name}", last_verified_on=verified)
             for name in ("gone", "nohost", "moved", "changed", "fine")}
    for name, call in calls.items():
        SourceFactory(call=call, document=None, title="Page", url=f"https://example.org/{name}", covers="")
    services.record_source_check(url="https://example.org/gone", checked_at=at, status_code=410)
    services.record_source_check(url="https://example.org/nohost", checked_at=at, status_code=None, error=NO_HOST)
    services.record_source_check(url="https://example.org/moved", checked_at=at, status_code=200,
                                 final_url="https://example.org/elsewhere", fingerprint="m" * 64)
    services.record_source_check(url="https://example.org/changed", checked_at=at - datetime.timedelta(days=40),
                                 status_code=200, fingerprint="a" * 64)
    services.record_source_check(url="https://example.org/changed", checked_at=at, status_code=200,
                                 fingerprint="b" * 64)
    services.record_source_check(url="https://example.org/fine", checked_at=at, status_code=200, fingerprint="f" * 64)
    calls["stale"] = CallFactory(slug="stale", title="Appel stale", last_verified_on=datetime.date(2026, 5, 1))
    first = CallFactory(slug="serie-2025", title="Appel série 2025", closes_on=datetime.date(2025, 7, 31),
                        opens_on=datetime.date(2025, 5, 1), last_verified_on=verified)
    calls["series"] = CallFactory(slug="serie-2026", title="Appel série 2026", previous_edition=first,
                                  opens_on=datetime.date(2026, 5, 1), closes_on=datetime.date(2026, 7, 31),
                                  last_verified_on=verified)
    CallFactory(slug="draft-gone", publication_state="draft", apply_url="https://example.org/gone")
    return calls


def test_each_reason_to_reverify(to_check):
    reasons = {Call.objects.get(pk=pk).slug: sorted(r.code for r in found) for pk, found in to_reverify().items()}
    assert reasons == {
        "gone": ["gone"], "nohost": ["gone"], "moved": ["moved"], "changed": ["changed"],
        "stale": ["not_verified"], "serie-2026": ["no_next_edition"],
    }


def test_the_admin_lists_them_with_links_and_marks_them_verified(to_check, client):
    curator = CuratorFactory(username="camille")
    client.force_login(curator)
    page = client.get(LIST).content.decode()
    for name in ("gone", "nohost", "moved", "changed", "stale"):
        call = to_check[name]
        assert f'href="/en/admin/calls/call/{call.pk}/change/"' in page
    assert 'href="https://example.org/moved"' in page and "https://example.org/elsewhere" in page
    assert "Appel fine" not in page

    changed, stale = to_check["changed"], to_check["stale"]
    response = client.post(LIST, {"action": "mark_verified_today", "_selected_action": [changed.pk, stale.pk]})
    assert response.status_code == 302
    changed.refresh_from_db()
    assert changed.last_verified_on == datetime.date(2026, 11, 30)
    assert changed.history.first().history_user == curator
    page = client.get(LIST).content.decode()
    assert "Appel changed" not in page and "Appel stale" not in page and "Appel gone" in page


def test_the_list_needs_the_calls_permissions(to_check, client):
    client.force_login(UserFactory(username="visitor", is_staff=True))
    assert client.get(LIST).status_code == 403
