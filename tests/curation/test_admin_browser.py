"""The curators' admin in a real browser (Playwright driving Debian's Chromium, as tests/site/test_browser.py).

A curator adds a call with one round, one ceiling and one source: every click and every field
filled is counted (the issue measured 42 before the form was regrouped). A curator adds a call with
two ceilings and a source covering them (boxes ticked) and publishes it on the first save. The
calls list fits a 1 280-pixel screen: no column is cut off.
Without /usr/bin/chromium these tests skip, saying why, unless REQUIRE_BROWSER=1 makes that a failure.
"""
import datetime
import os

import pytest

from calls.models import Call
from tests.factories import CallFactory, CallFunderFactory, FunderFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery staple"
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]




@pytest.fixture
def curator_page(browser, live_server):
    # A transactional test empties the tables the migrations seeded (the curators group): a staff
    # superuser sees the same call form.
    UserFactory(username="camille", is_staff=True, is_superuser=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/en/admin/login/")
    page.get_by_label("Username").fill("camille")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/en/admin/")
    yield page
    context.close()


class Counted:
    """The curator's interactions on a page: each click and each field filled counts one."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def fill(self, selector, value):
        self.page.fill(selector, value)
        self.count += 1

    def select(self, selector, value):
        self.page.select_option(selector, value)
        self.count += 1

    def click(self, selector):
        self.page.click(selector)
        self.count += 1


def test_adding_a_call_with_a_round_a_ceiling_and_a_source_takes_eleven_interactions(curator_page, live_server):
    page = curator_page
    page.goto(f"{live_server.url}/en/admin/calls/call/add/")
    curator = Counted(page)
    curator.fill("#id_title", "AAP Bioproduction 2027")
    curator.select("#id_call_type", "call_for_projects")
    curator.fill("#id_rounds-0-name", "Vague 1")
    curator.fill("#id_rounds-0-opens_on", "2027-01-15")
    curator.fill("#id_rounds-0-closes_on", "2027-03-31")
    curator.fill("#id_ceilings-0-amount_eur", "500000")
    curator.fill("#id_sources-0-title", "Cahier des charges")
    curator.fill("#id_sources-0-url", "https://example.org/cdc.pdf")
    curator.click("input[name='sources-0-covers'][value='rounds']")  # what it covers: boxes to tick
    curator.click("input[name='sources-0-covers'][value='ceilings']")
    curator.click("input[name=_save]")
    page.wait_for_url("**/en/admin/calls/call/")

    call = Call.objects.get(title="AAP Bioproduction 2027")
    assert call.slug == "aap-bioproduction-2027"  # drawn from the title in the browser
    assert [(r.name, r.opens_on, r.closes_on) for r in call.rounds.all()] == [
        ("Vague 1", datetime.date(2027, 1, 15), datetime.date(2027, 3, 31)),
    ]
    assert (call.opens_on, call.closes_on) == (datetime.date(2027, 1, 15), datetime.date(2027, 3, 31))  # from it
    assert [c.amount_eur for c in call.ceilings.all()] == [500_000]
    assert call.sources.get().covered_fields == {"rounds", "ceilings"}
    # 42 interactions before (the count); 11 now: 2 fields, 3 for the round, 1 for the
    # ceiling, 4 for the source (title, address, two boxes ticked), and Save.
    assert curator.count == 11


def test_a_curator_adds_and_publishes_a_call_with_two_ceilings_and_a_source_covering_them(curator_page, live_server):
    """The issue's case: the add form, two ceilings above the call's floor, one source covering the
    dates, the floor and the ceilings (boxes ticked), published on the first save, nothing refused."""
    page = curator_page
    page.goto(f"{live_server.url}/en/admin/calls/call/add/")
    page.fill("#id_title", "AAP Plateformes de bioproduction 2027")
    page.select_option("#id_call_type", "call_for_projects")
    page.fill("#id_opens_on", "2027-01-15")
    page.fill("#id_closes_on", "2027-03-31")
    page.fill("#id_floor_eur", "200000")
    page.fill("#id_ceilings-0-amount_eur", "600000")
    page.fill("#id_ceilings-0-condition", "plateformes déjà labellisées")
    page.click("#ceilings-group .add-row a")  # a second ceiling
    page.fill("#id_ceilings-1-amount_eur", "1500000")
    page.fill("#id_ceilings-1-condition", "nouvelles plateformes")
    page.fill("#id_sources-0-title", "Cahier des charges")
    page.fill("#id_sources-0-url", "https://example.org/cdc.pdf")
    for figure in ("opens_on", "closes_on", "floor_eur", "ceilings"):
        page.check(f"input[name='sources-0-covers'][value='{figure}']")
    page.select_option("#id_publication_state", "published")
    page.click("input[name=_save]")
    page.wait_for_url("**/en/admin/calls/call/")
    assert page.locator(".errorlist, .errornote").count() == 0
    assert "was added successfully" in page.locator(".messagelist").inner_text()

    call = Call.objects.get(title="AAP Plateformes de bioproduction 2027")
    assert call.publication_state == "published" and call.published_at is not None
    assert [(c.amount_eur, c.condition) for c in call.ceilings.all()] == [
        (1_500_000, "nouvelles plateformes"), (600_000, "plateformes déjà labellisées")]
    assert call.floor_eur == 200_000
    assert call.sources.get().covered_fields == {"opens_on", "closes_on", "floor_eur", "ceilings"}
    response = page.goto(f"{live_server.url}/appels/{call.slug}/")  # public now
    assert response.status == 200 and "AAP Plateformes de bioproduction 2027" in page.locator("h1").inner_text()


def test_the_calls_list_fits_1280_pixels_without_cutting_a_column(curator_page, live_server):
    funders = [FunderFactory(name=f"Agence régionale de développement économique numéro {n}") for n in range(4)]
    for n in range(5):
        call = CallFactory(
            # Long titles, and a word with nowhere to break (a pasted reference), as curators enter them.
            title=f"Appel à projets pour l'industrialisation des biothérapies et de la bioproduction {n} "
                  f"AAP_BIOTHERAPIES_BIOPRODUCTION_INDUSTRIALISATION_CAPACITES_SANTE_2030_VAGUE_{n}",
            submitted_by=UserFactory(username=f"partenaire-avec-un-nom-long-{n}"),
        )
        for funder in funders:
            CallFunderFactory(call=call, funder=funder)
    page = curator_page
    page.goto(f"{live_server.url}/en/admin/calls/call/")
    sizes = page.evaluate("""() => {
        const table = document.querySelector('#result_list');
        const box = table.getBoundingClientRect();
        return {right: box.right, scroll: table.scrollWidth, client: table.clientWidth,
                page: document.documentElement.scrollWidth, viewport: window.innerWidth,
                headers: [...table.querySelectorAll('thead th')].map(th => th.getBoundingClientRect().right)};
    }""")
    assert sizes["page"] <= sizes["viewport"], sizes  # no horizontal scroll of the page
    assert sizes["right"] <= sizes["viewport"], sizes  # the table ends on screen
    assert sizes["scroll"] <= sizes["client"] + 1, sizes  # nothing overflows the table
    assert max(sizes["headers"]) <= sizes["viewport"], sizes  # every column's header is on screen
