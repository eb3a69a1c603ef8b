"""The public site in a real browser: Playwright driving Debian's Chromium against the live server.

Scenario: open the home page, search text, tick filters, open a call, switch language, export.
Without /usr/bin/chromium these tests skip, saying why, unless REQUIRE_BROWSER=1 (CI) makes that a failure.
"""
import datetime
import os
from pathlib import Path

import pytest

from calls.choices import Scope
from calls.models import BeneficiaryType
from calls.querysets import today
from tests.factories import CallFactory, CallFunderFactory, CeilingFactory, FunderFactory

# Playwright's sync API runs an event loop in this thread: let Django's ORM run under it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium); Playwright cannot download browsers here"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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
    sme, _ = BeneficiaryType.objects.get_or_create(code="sme")
    in_a_year = today() + datetime.timedelta(days=365)
    gene = CallFactory(
        title="Thérapies géniques : industrialiser la bioproduction", slug="therapies-geniques",
        summary="Soutenir la production de vecteurs viraux.", opens_on=today(), closes_on=in_a_year,
        scope=Scope.NATIONAL, apply_url="https://example.org/candidater",
    )
    gene.beneficiaries.add(startup)
    CeilingFactory(call=gene, amount_eur=1_500_000)
    CallFunderFactory(call=gene, funder=FunderFactory(name="Bpifrance", slug="bpifrance"))
    other = CallFactory(title="Thérapie génique pour les PME uniquement", slug="pme-seulement",
                        opens_on=today(), closes_on=in_a_year)
    other.beneficiaries.add(sme)
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
    assert "Thérapie génique pour les PME" in results.inner_text()

    # Tick a filter: the URL holds the whole search, the result count follows.
    page.get_by_label("Start-up").check()
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url("**beneficiary=startup**")
    assert "q=therapies+geniques" in page.url
    assert "1 appel" in page.locator("#results-heading").inner_text()
    assert "Thérapie génique pour les PME" not in page.locator(".call-list").inner_text()
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
    rows = Path(download.path()).read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("slug,") and len(rows) == 2 and rows[1].startswith("therapies-geniques,")


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
