"""The public site in a real browser: Playwright driving Debian's Chromium against the live server.

Scenario: open the home page, search text, tick filters, open a call, switch language, export.
Without /usr/bin/chromium these tests skip, saying why, unless REQUIRE_BROWSER=1 (CI) makes that a failure.
"""
import datetime
import os
import re
from pathlib import Path

import pytest

from calls.choices import Scope
from calls.models import BeneficiaryType
from calls.querysets import today
from tests.factories import CallFactory, CallFunderFactory, CeilingFactory, FunderFactory
from tests.helpers import reindex

# Playwright's sync API runs an event loop in this thread: let Django's ORM run under it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# A browser and a live server: the slow tier (`make test`, CI), not `make test-quick`.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]




@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def registry_calls():
    # Vocabulary rows come from a data migration, which a transactional test may have flushed.
    startup, _ = BeneficiaryType.objects.get_or_create(code="startup")
    large, _ = BeneficiaryType.objects.get_or_create(code="large_company")
    in_a_year = today() + datetime.timedelta(days=365)
    gene = CallFactory(
        title="Thérapies géniques : industrialiser la bioproduction", slug="therapies-geniques",
        summary="Soutenir la production de vecteurs viraux.", opens_on=today(), closes_on=in_a_year,
        scope=Scope.NATIONAL, apply_url="https://example.org/candidater",
    )
    gene.beneficiaries.add(startup)
    reindex(call=gene)
    CeilingFactory(call=gene, amount_eur=1_500_000)
    CallFunderFactory(call=gene, funder=FunderFactory(name="Bpifrance", slug="bpifrance"))
    # (A call for SMEs would be open to start-ups too: a start-up is a young SME.)
    other = CallFactory(title="Thérapie génique pour les grandes entreprises uniquement", slug="ge-seulement",
                        opens_on=today(), closes_on=in_a_year)
    other.beneficiaries.add(large)
    reindex(call=other)
    CallFactory(title="Formation aux métiers de la bioproduction", slug="formation",
                opens_on=today(), closes_on=in_a_year)
    return gene


def test_search_filter_open_switch_language_and_export(page, live_server, registry_calls):
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Appels à financement")

    # Search text: accents and plural do not matter.
    page.get_by_label("Rechercher dans les appels").fill("therapies geniques")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url("**/?q=therapies+geniques*")
    results = page.locator(".call-list")
    assert "Formation aux métiers" not in results.inner_text()
    assert "Thérapie génique pour les grandes entreprises" in results.inner_text()

    # Tick a filter: the URL holds the whole search, the result count follows.
    page.get_by_label("Start-up").check()
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url("**beneficiary=startup**")
    assert "q=therapies+geniques" in page.url
    assert "1 appel" in page.locator("#results-heading").inner_text()
    assert "Thérapie génique pour les grandes entreprises" not in page.locator(".call-list").inner_text()
    assert page.get_by_label("Start-up").is_checked()
    assert "1,5 M€" in page.locator(".call-card").inner_text()

    # Keyboard users get a skip link first.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"

    # Open the call.
    page.get_by_role("link", name="Thérapies géniques : industrialiser la bioproduction").click()
    page.wait_for_url("**/appels/therapies-geniques/")
    assert page.get_by_role("heading", level=1).inner_text() == "Thérapies géniques : industrialiser la bioproduction"
    assert page.get_by_role("link", name="Candidater").get_attribute("href") == "https://example.org/candidater"

    # Switch language: the same page, in English.
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/en/appels/therapies-geniques/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Who can apply").is_visible()
    assert "€1.5M" in page.locator("#funding-heading + dl").inner_text()

    # Back to the search in English, and download it as CSV.
    page.goto(live_server.url + "/en/?q=therapies+geniques&beneficiary=startup")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Spreadsheet (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a byte order mark: a French spreadsheet reads UTF-8
    rows = raw.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Title;Status;") and len(rows) == 2
    assert rows[1].startswith("Thérapies géniques : industrialiser la bioproduction;Open;")


def test_site_works_without_javascript(browser, live_server, registry_calls):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/calendrier/?q=bioproduction")
    assert page.locator("svg.timeline__svg").count() >= 1
    page.get_by_label("Start-up").check()
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url("**beneficiary=startup**")
    assert "Thérapies géniques" in page.content()
    context.close()


# --- The start-up's journey (issue 11): Île-de-France, start-up, about 500 k€, TRL 4 ------------

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
              "has_touch": True},
}


@pytest.fixture
def startup_registry():
    """Calls a start-up in Île-de-France meets: open, upcoming, closed, undated, foreign, a series."""
    from calls.models import Region
    from tests.factories import LaureateFactory, RoundFactory, ThemeFactory

    startup, _ = BeneficiaryType.objects.get_or_create(code="startup")
    sme, _ = BeneficiaryType.objects.get_or_create(code="sme")
    cdmo, _ = BeneficiaryType.objects.get_or_create(code="cdmo")
    idf, _ = Region.objects.get_or_create(code="11", defaults={"name": "Île-de-France"})
    Region.objects.get_or_create(code="84", defaults={"name": "Auvergne-Rhône-Alpes"})
    now = today()
    day = datetime.timedelta(days=1)
    theme = ThemeFactory(slug="bioproduction", name="Bioproduction", name_en="Biomanufacturing")
    innov = CallFactory(
        title="Innov'up Île-de-France : amorçage des start-up de la bioproduction", slug="innovup",
        summary="Subvention et avance remboursable pour les jeunes entreprises franciliennes.",
        opens_on=now - 20 * day, closes_on=now + 25 * day, scope=Scope.REGIONAL, trl_min=3, trl_max=6,
        apply_url="https://example.org/innovup", total_budget_eur=20_000_000,
    )
    innov.regions.add(idf)
    reindex(call=innov)
    innov.beneficiaries.add(startup, sme)
    reindex(call=innov)
    innov.themes.add(theme)
    reindex(call=innov)
    CeilingFactory(call=innov, amount_eur=500_000)
    CallFunderFactory(call=innov, funder=FunderFactory(name="Région Île-de-France", slug="region-idf",
                                                       website="https://www.iledefrance.fr"))
    national = CallFactory(title="i-Nov : innovation en biothérapies", slug="i-nov", opens_on=now - 5 * day,
                           closes_on=now + 60 * day, total_budget_eur=50_000_000)
    national.themes.add(theme)
    reindex(call=national)
    CeilingFactory(call=national, amount_eur=3_000_000)
    RoundFactory(call=national, name="Relève 1", opens_on=now - 5 * day, closes_on=now + 60 * day,
                 budget_eur=25_000_000)
    for n in range(12):
        LaureateFactory(call=national, organisation=f"Organisation lauréate au nom assez long numéro {n}",
                        project="Procédé de bioproduction de vecteurs viraux à haut rendement " * 2,
                        amount_eur=1_250_000, year=2025)
    pme = CallFactory(title="PME de la bioproduction : industrialisation", slug="pme", opens_on=now - 5 * day,
                      closes_on=now + 40 * day)
    pme.beneficiaries.add(sme)
    reindex(call=pme)
    cdmo_call = CallFactory(title="Plateformes CDMO", slug="cdmo", opens_on=now + 30 * day,
                            closes_on=now + 90 * day)
    cdmo_call.beneficiaries.add(cdmo)
    reindex(call=cdmo_call)
    aura = CallFactory(title="Appel régional Auvergne-Rhône-Alpes", slug="aura", scope=Scope.REGIONAL,
                       opens_on=now - 5 * day, closes_on=now + 50 * day)
    aura.regions.add(Region.objects.get(code="84"))
    reindex(call=aura)
    CallFactory(title="Appel sans dates connues", slug="sans-dates", opens_on=None, closes_on=None)
    CallFactory(title="Dispositif belge de référence", slug="belge", country="BE", opens_on=now - 5 * day,
                closes_on=now + 50 * day)
    first = CallFactory(title="Challenge bioproduction 2024", slug="challenge-2024",
                        opens_on=datetime.date(now.year - 2, 3, 1), closes_on=datetime.date(now.year - 2, 4, 30))
    second = CallFactory(title="Challenge bioproduction 2025", slug="challenge-2025", previous_edition=first,
                         opens_on=datetime.date(now.year - 1, 3, 1), closes_on=datetime.date(now.year - 1, 4, 30))
    CallFactory(title="Challenge bioproduction 2026", slug="challenge-2026", previous_edition=second,
                opens_on=datetime.date(now.year, 3, 2), closes_on=datetime.date(now.year, 4, 30))
    return innov


def _no_horizontal_scroll(page):
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths}"


def _first_result_on_first_screen(page):
    """The first result's badge and title are within the first screen, without scrolling."""
    top, title_bottom, height = page.evaluate(
        "(() => { const card = document.querySelector('.call-card');"
        " const title = card.querySelector('.call-card__title').getBoundingClientRect();"
        " return [card.getBoundingClientRect().top, title.bottom, window.innerHeight]; })()"
    )
    assert title_bottom <= height, f"first result from {top} to {title_bottom} (title) on a {height}px screen"


def _shoot(page, device, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{device}-{name}.png"), full_page=False)


def _result_count(page):
    return int(re.search(r"\d+", page.locator("#results-heading").inner_text()).group())


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_start_ups_journey(browser, live_server, startup_registry, device):
    context = browser.new_context(locale="fr-FR", **DEVICES[device])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/")

    # The home page: open calls by soonest deadline, then upcoming, expected, recently closed; counted.
    headings = page.locator(".home-group > h2").all_inner_texts()
    assert [re.sub(r"\s*\d+$", "", h) for h in headings] == [
        "Ouverts maintenant", "À venir", "Prochaines éditions attendues", "Récemment clos"]
    assert page.locator(".home-group--open .call-card").first.locator("h3").inner_text().startswith("Innov'up")
    assert "Prochaine édition attendue vers mars" in page.locator(".home-group--expected").inner_text()
    assert "Dispositif belge" not in page.content()
    _shoot(page, device, "1-home")
    _first_result_on_first_screen(page)
    _no_horizontal_scroll(page)

    # The eligibility questions, one step away.
    page.locator("#questions > summary").click()
    page.get_by_label("Ma région").select_option("11")
    page.locator("#id_beneficiary_home").select_option("startup")
    page.get_by_label("Montant recherché, au moins (EUR)").fill("500000")
    page.locator("#id_trl").fill("4")
    page.get_by_role("button", name="Voir les appels pour moi").click()
    page.wait_for_url("**trl=4**")
    cards = page.locator(".call-card")
    titles = cards.locator("h3").all_inner_texts()
    assert any(title.startswith("Innov'up") for title in titles)
    assert not any("Auvergne" in title for title in titles)
    assert any(title.startswith("PME de la") for title in titles)  # open to SMEs: a start-up is one
    innov = cards.filter(has_text="Innov'up")
    assert innov.locator(".matches__item--match").count() == 4  # region, start-up, ceiling, TRL 3–6
    national = cards.filter(has_text="i-Nov")
    assert "France entière" in national.locator(".matches__item--match").first.inner_text()
    assert national.locator(".matches__item--not_stated").count() == 2  # beneficiaries and TRL not stated
    if device == "phone":
        assert not page.locator(".filters").is_visible()  # the filters wait behind their disclosure
    _shoot(page, device, "2-results")
    _first_result_on_first_screen(page)
    _no_horizontal_scroll(page)

    # A facet's count is the number of results after choosing it.
    if device == "phone":
        page.locator(".filters-disclosure > summary").click()
    label = page.locator("label[for]", has=page.locator(".count")).filter(has_text="CDMO")
    shown = int(re.search(r"(\d+)", label.locator(".count").inner_text()).group(1))
    page.get_by_label("Start-up", exact=False).first.uncheck()
    label.click()
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url("**beneficiary=cdmo**")
    assert _result_count(page) == shown
    _no_horizontal_scroll(page)

    # The call page: apply, documents, funder's site; its wide tables scroll in their own box.
    page.goto(live_server.url + "/appels/innovup/")
    assert page.get_by_role("link", name="Candidater").first.get_attribute("href") == "https://example.org/innovup"
    assert "Informations vérifiées auprès des sources le" in page.content()
    _no_horizontal_scroll(page)
    _shoot(page, device, "3-call")
    page.goto(live_server.url + "/appels/i-nov/")
    assert page.locator(".table-scroll table").count() == 1  # the rounds; the laureates' rows stack on a phone
    assert page.locator("table.table--stacked").count() == 1
    _no_horizontal_scroll(page)
    _shoot(page, device, "4-call-laureates")

    # The calendar looks forward; the sector in pictures.
    page.goto(live_server.url + "/calendrier/")
    assert "douze prochains mois" in page.locator(".timeline__hint").inner_text()
    _no_horizontal_scroll(page)
    _shoot(page, device, "5-timeline")
    page.goto(live_server.url + "/panorama/")
    assert page.locator("svg.chart__svg").count() >= 3
    _no_horizontal_scroll(page)
    _shoot(page, device, "6-panorama")
    page.goto(live_server.url + "/nulle-part/")
    assert "Page introuvable" in page.locator("h1").inner_text()
    context.close()


@pytest.mark.parametrize("path, operation", [("/api/docs/", ".opblock"), ("/api/redoc/", "h2")])
def test_the_api_docs_render_under_the_sites_csp_with_nothing_from_another_host(page, live_server, path, operation):
    """/api/docs/ (Swagger UI) and /api/redoc/ (ReDoc) show the operations with no error in the
    console (a style, a script or an image the policy refused would be one) and load nothing from
    another host (no CDN: a logo, a font, a script)."""
    from urllib.parse import urlsplit

    errors, elsewhere = [], []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    host = urlsplit(live_server.url).netloc
    page.on("request", lambda request: elsewhere.append(request.url)
            if urlsplit(request.url).scheme in ("http", "https") and urlsplit(request.url).netloc != host else None)
    response = page.goto(live_server.url + path)
    assert response.status == 200 and "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(operation, has_text="Submit a call").first.wait_for(state="visible", timeout=30_000)
    assert page.locator(operation, has_text="Search calls").count() >= 1
    page.wait_for_load_state("networkidle")
    assert errors == [], errors
    assert elsewhere == [], elsewhere


def test_the_charts_text_is_at_least_12_px_on_a_390_px_phone(browser, live_server, startup_registry):
    """The panorama's SVG charts scale to the screen: their labels and values, as drawn (the
    computed font size times the drawing's scale), stay readable on a phone."""
    context = browser.new_context(locale="fr-FR", **DEVICES["phone"])
    page = context.new_page()
    page.goto(live_server.url + "/panorama/")
    sizes = page.evaluate(
        "[...document.querySelectorAll('svg.chart__svg text')].map(text => [text.textContent,"
        " parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a])"
    )
    assert len(sizes) >= 10
    small = [(label, round(size, 1)) for label, size in sizes if size < 12]
    assert small == [], small
    _no_horizontal_scroll(page)
    context.close()


@pytest.fixture
def partner_site():
    """A partner's page served from another origin (127.0.0.1, a port of its own): `pages` maps a
    path to the HTML it answers."""
    import http.server
    import threading

    pages = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", pages
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_partners_page_frames_the_embedded_list_and_no_other_page(browser, live_server, startup_registry,
                                                                     partner_site):
    partner, pages = partner_site
    query = "theme=bioproduction&status=open&status=upcoming"
    # The snippet the search page offers, pasted as is in the partner's page.
    page = browser.new_page()
    page.goto(f"{live_server.url}/?{query}")
    page.get_by_text("Intégrer cette liste").click()
    snippet = page.locator("#embed-snippet").input_value()
    assert snippet.startswith(f'<iframe src="{live_server.url}/integrer/?')
    pages["/"] = f"<!doctype html><html><body><h1>Un pôle partenaire</h1>{snippet}</body></html>"
    pages["/search"] = f'<!doctype html><html><body><iframe src="{live_server.url}/?{query}"></iframe></body></html>'
    page.close()

    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(partner + "/")
    frame = page.frame_locator("iframe")
    titles = frame.locator(".embed__title")
    titles.first.wait_for()
    assert sorted(titles.all_inner_texts()) == ["Innov'up Île-de-France : amorçage des start-up de la bioproduction",
                                                "i-Nov : innovation en biothérapies"]
    link = frame.get_by_role("link", name="i-Nov : innovation en biothérapies")
    assert link.evaluate("a => a.href") == f"{live_server.url}/appels/i-nov/"
    assert (link.get_attribute("target"), link.get_attribute("rel")) == ("_blank", "noopener")
    assert frame.locator(".site-header").count() == 0
    assert context.cookies(live_server.url) == []  # the list set none
    with context.expect_page() as opened:
        link.click()
    assert opened.value.url == f"{live_server.url}/appels/i-nov/"

    # Any other page of the site refuses to be framed: its frame stays empty of our content.
    page.goto(partner + "/search")  # waits for the page's load, which waits for its frame's
    framed = next(f for f in page.frames if f is not page.main_frame)
    assert not framed.url.startswith(live_server.url), framed.url  # Chromium's error page: refused
    assert framed.locator(".site-header").count() == 0 and framed.locator(".call-card").count() == 0
    context.close()


# --- What a visitor sees ---------------------------------------------------------------------------

VISIBLE_AXIS_LABELS = """(() => {
  const ol = document.querySelector('.timeline__years'), axis = ol.getBoundingClientRect();
  const shown = [...ol.querySelectorAll('.timeline__tick')].filter(s => getComputedStyle(s).visibility !== 'hidden');
  const textBox = s => {
    const range = document.createRange(); range.selectNodeContents(s); return range.getBoundingClientRect();
  };
  const cut = [];
  shown.forEach((s, i) => {
    const box = textBox(s), cell = s.parentElement.getBoundingClientRect();
    const clipped = getComputedStyle(s.parentElement).overflowX === 'hidden' && box.right > cell.right + 0.5;
    const next = shown[i + 1];
    if (clipped || (next && box.right > textBox(next).left) || box.right > axis.right + 0.5) cut.push(s.textContent);
  });
  return [shown.map(s => s.textContent), cut];
})()"""


def test_the_timeline_month_names_are_whole_at_every_width(page, live_server):
    CallFactory(title="Appel sur l'axe", slug="axe", opens_on=today(), closes_on=today() + datetime.timedelta(days=90))
    for width in (1366, 800, 600, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(live_server.url + "/calendrier/")
        shown, cut = page.evaluate(VISIBLE_AXIS_LABELS)
        assert cut == [], f"at {width}px, cut or overlapping: {cut} (shown: {shown})"
        assert len(shown) == (12 if width > 960 else 6), (width, shown)  # every other month on narrow screens
        if width > 960:
            assert "Juin" in shown and "Juil." in shown
        _no_horizontal_scroll(page)


@pytest.mark.parametrize("width", [1366, 390])
def test_the_skip_link_to_the_results_shows_when_focused(browser, live_server, width):
    CallFactory(title="Appel à trouver", slug="a-trouver")
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/?q=")
    link = page.locator(".jump-to-results a")
    if width < 960:
        page.locator(".filters-disclosure > summary").click()  # the filters wait behind their disclosure
    else:  # unseen until a keyboard reaches it
        assert page.locator(".jump-to-results").bounding_box()["width"] <= 1
    link.focus()
    assert page.locator(".jump-to-results").bounding_box()["width"] > 100
    box = link.bounding_box()
    assert box["width"] > 100 and box["height"] > 10 and 0 <= box["y"] < 800, box
    assert link.inner_text() == "Passer les filtres : aller aux résultats"
    page.keyboard.press("Enter")
    page.wait_for_url("**#results-heading")
    assert page.locator("#results-heading").bounding_box()["y"] < 800
    context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_the_laureates_are_readable_on_a_phone(browser, live_server, width):
    from tests.factories import LaureateFactory

    call = CallFactory(title="Appel avec lauréats", slug="laureats")
    for n in range(3):
        LaureateFactory(call=call, organisation=f"Organisation lauréate au nom assez long numéro {n}",
                        project="Procédé de bioproduction de vecteurs viraux à haut rendement " * 2,
                        amount_eur=1_250_000, year=2025)
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/appels/laureats/")
    _no_horizontal_scroll(page)
    rows = page.locator("#laureates-heading ~ table tbody tr")
    assert rows.count() == 3
    first = rows.first
    cells = first.locator("th, td")
    boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= width for box in boxes), boxes
    if width == 390:  # one cell under the other, each named by its column
        pairs = zip(boxes, boxes[1:], strict=False)
        assert all(later["y"] >= earlier["y"] + earlier["height"] - 1 for earlier, later in pairs)
        names = first.locator("td").evaluate_all("cells => cells.map(c => getComputedStyle(c, '::before').content)")
        assert names == ['"Projet\u202f: "', '"Région\u202f: "', '"Année\u202f: "', '"Montant\u202f: "'], names
        assert not page.locator("#laureates-heading ~ table thead").is_visible() or \
            page.locator("#laureates-heading ~ table thead").bounding_box()["height"] <= 1
    else:  # a table row: the cells side by side
        assert len({round(box["y"]) for box in boxes}) == 1
    # One landmark named "Lauréats": the section, not a region inside it as well.
    assert page.locator('[aria-labelledby="laureates-heading"]').count() == 1
    context.close()


CONTROL_STYLE = """(selector) => { const s = getComputedStyle(document.querySelector(selector));
  return [s.borderTopWidth, s.borderTopStyle, s.borderTopColor, s.borderRadius, s.paddingLeft, s.fontSize,
          s.fontFamily, s.backgroundColor]; }"""


@pytest.mark.parametrize("width", [1366, 390])
def test_the_alert_form_looks_like_the_other_forms(browser, live_server, width):
    CallFactory(title="Appel à suivre", slug="a-suivre")
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/?q=")
    page.locator(".alert-box > summary").click()
    email = page.get_by_label("Adresse e-mail")
    assert email.is_visible()
    field = page.evaluate(CONTROL_STYLE, "#id_amount")  # a filter's field
    assert page.evaluate(CONTROL_STYLE, "#alert-email") == field
    assert page.evaluate(CONTROL_STYLE, "#alert-language")[:6] == field[:6]
    box = email.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= width and box["height"] >= 30
    assert page.get_by_role("button", name="Créer l'alerte").is_visible()
    _no_horizontal_scroll(page)
    context.close()


# --- Accessibility: axe-core on the main pages, at both widths -------------------------------------

AXE = Path(__file__).resolve().parents[2] / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_PAGES = ["/", "/?beneficiary=startup&region=11", "/appels/innovup/", "/appels/i-nov/", "/panorama/",
             "/financeurs/", "/calendrier/", "/en/", "/en/appels/innovup/"]


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_main_pages_have_no_accessibility_violation(browser, live_server, startup_registry, device):
    """axe-core (installed by `make setup` from the npm registry, run from this site's page) finds no
    violation on the main pages, on a 1366 px screen and on a 390 px phone."""
    if not AXE.exists():
        reason = f"{AXE} is missing (make setup installs it)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    # (the test's own script is let past the site's Content-Security-Policy; the site's are not changed)
    screen = {"desktop": {"viewport": {"width": 1366, "height": 768}}, "phone": DEVICES["phone"]}[device]
    context = browser.new_context(locale="fr-FR", bypass_csp=True, **screen)
    page = context.new_page()
    found = {}
    for path in AXE_PAGES:
        page.goto(live_server.url + path)
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        passes, violations = page.evaluate(
            "async () => { const r = await axe.run(document); return [r.passes.length,"
            " r.violations.map(v => [v.id, v.nodes.length, v.nodes[0].target.join(' ')])]; }")
        assert passes > 10, path  # axe ran its rules on the page
        if violations:
            found[path] = violations
    context.close()
    assert found == {}
