"""Issue 11 on the public site: say what we know and only that; the first screen; the sector in pictures."""
import datetime
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.http import QueryDict

from calls.choices import FunderKind, PublicationState, Scope
from calls.models import Region
from calls.querysets import today
from calls.reading.filters import CallFilterSet
from tests.factories import (
    CallFunderFactory,
    CeilingFactory,
    DocumentFactory,
    FunderFactory,
    LaureateFactory,
    ProgrammeFactory,
    RoundFactory,
    SourceFactory,
    ThemeFactory,
    one_refresh,
)
from tests.helpers import make, reindex

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


# --- Say what we know, and only that ----------------------------------------------------------

def test_a_call_without_dates_is_not_closed_but_findable_under_its_own_status(client):
    make(title="Appel sans dates", slug="sans-dates", opens_on=None, closes_on=None)
    make(title="Appel clos", slug="clos", opens_on=today() - 60 * DAY, closes_on=today() - 30 * DAY)
    assert "Appel sans dates" not in text(client.get("/?q="))  # not open, nor upcoming
    assert "Appel sans dates" not in text(client.get("/?status=closed"))  # nor closed
    unknown = text(client.get("/?status=dates_unknown"))
    assert "Appel sans dates" in unknown and "Appel clos" not in unknown
    assert "badge--dates_unknown" in unknown and "Dates non précisées par les sources" in unknown
    page = text(client.get("/appels/sans-dates/"))
    assert "Dates non précisées par les sources" in page and ">Clos<" not in page
    assert "Dates not given by the sources" in text(client.get("/en/appels/sans-dates/"))
    assert client.get("/api/v1/calls/sans-dates/").json()["status"] == "dates_unknown"
    assert [c["slug"] for c in client.get("/api/v1/calls/?status=dates_unknown").json()["results"]] == ["sans-dates"]
    timeline = text(client.get("/calendrier/?past=1"))
    assert "Sans dates dans les sources" in timeline or "Dates non précisées" in timeline


def test_foreign_schemes_are_out_of_the_default_search_and_marked_as_references(client):
    make(title="Appel français", slug="fr")
    make(title="Dispositif belge", slug="be", country="BE")
    assert "Dispositif belge" not in text(client.get("/?q="))
    assert "Dispositif belge" not in text(client.get("/"))
    included = text(client.get("/?foreign=include"))
    assert "Appel français" in included and "Dispositif belge" in included
    assert "Référence étrangère (BE)" in included
    only = text(client.get("/?foreign=only"))
    assert "Dispositif belge" in only and ">Appel français<" not in only
    assert {c["slug"] for c in client.get("/api/v1/calls/").json()["results"]} == {"fr"}
    assert {c["slug"] for c in client.get("/api/v1/calls/?foreign=include").json()["results"]} == {"fr", "be"}


def test_each_call_says_when_it_was_checked_and_flags_passed_dates_since(client):
    make(title="Vérifié après", slug="ok", opens_on=today() - 60 * DAY, closes_on=today() - 30 * DAY,
         last_verified_on=today() - 10 * DAY)
    stale = make(title="Vérifié avant", slug="stale", opens_on=today() - 60 * DAY, closes_on=today() - 30 * DAY,
                 last_verified_on=today() - 45 * DAY)
    ok = text(client.get("/appels/ok/"))
    assert "Informations vérifiées auprès des sources le" in ok and "nouvelle édition existe peut-être" not in ok
    assert "une nouvelle édition existe peut-être" in text(client.get("/appels/stale/"))
    assert "a newer edition may exist" in text(client.get("/en/appels/stale/"))
    make(title="Suivant", slug="next", previous_edition=stale)
    assert "nouvelle édition existe peut-être" not in text(client.get("/appels/stale/"))  # it does: no flag
    assert "Vérifié auprès des sources le" in text(client.get("/?q=Vérifié&status=closed"))


def yearly_series(month=3):
    first = make(title="Édition 2025", slug="ed-2025", opens_on=datetime.date(2025, month, 2),
                 closes_on=datetime.date(2025, month + 1, 15))
    return make(title="Édition 2026", slug="ed-2026", opens_on=datetime.date(2026, month, 3),
                closes_on=datetime.date(2026, month + 1, 20), previous_edition=first)


def test_an_expected_edition_is_an_estimate_with_its_basis_never_upcoming(client):
    yearly_series()
    home = client.get("/")
    groups = {group["key"]: group for group in home.context["home_groups"]}
    assert [call.slug for call in groups["expected"]["calls"]] == ["ed-2026"]
    assert groups["upcoming"]["count"] == 0
    body = text(home)
    assert "Prochaine édition attendue vers mars 2027" in body
    assert "estimation : éditions passées ouvertes en mars en 2025 et 2026" in body
    upcoming = client.get("/?status=upcoming")
    assert [call.slug for call in upcoming.context["page_obj"].object_list] == []  # never counted upcoming
    assert upcoming.context["paginator"].count == 0
    # The search shows it apart, in its own group of expected editions, as an estimate.
    assert [call.slug for call in upcoming.context["expected"]] == ["ed-2026"]
    assert "Prochaines éditions attendues" in text(upcoming)
    detail = text(client.get("/appels/ed-2026/"))
    assert "Prochaine édition attendue vers mars 2027" in detail
    assert "Next edition expected around March 2027" in text(client.get("/en/appels/ed-2026/"))


def test_an_announced_edition_supersedes_the_estimate(client):
    make(title="Édition 2027", slug="ed-2027", opens_on=None, closes_on=None, previous_edition=yearly_series())
    assert not {group["key"]: group for group in client.get("/").context["home_groups"]}["expected"]["calls"]
    assert "Prochaine édition attendue" not in text(client.get("/appels/ed-2026/"))


def test_the_call_page_shows_how_to_apply_its_documents_and_its_funders_site(client):
    call = make(title="Appel documenté", slug="doc", apply_url="https://example.org/depot")
    CallFunderFactory(call=call, funder=FunderFactory(name="Bpifrance", acronym="Bpi", website="https://bpifrance.fr"))
    SourceFactory(call=call, document=DocumentFactory(title="Cahier des charges", url="https://example.org/cdc.pdf"))
    body = text(client.get("/appels/doc/"))
    assert re.search(r'href="https://example.org/depot"[^>]*>Candidater', body)
    assert 'href="https://example.org/cdc.pdf" rel="external">Cahier des charges' in body
    assert 'href="https://bpifrance.fr" rel="external">Site de Bpi' in body


def test_wide_tables_scroll_in_their_own_box_or_stack(client):
    call = make(title="Appel à lauréats", slug="laureats")
    RoundFactory(call=call, opens_on=call.opens_on, closes_on=call.closes_on)
    LaureateFactory(call=call, organisation="Une organisation au nom très long " * 3, project="Projet " * 20)
    body = text(client.get("/appels/laureats/"))
    assert body.count('<div class="table-scroll"') == 1  # the rounds
    assert body.count('<table class="table table--stacked">') == 1  # the laureates: rows stacked on a phone


# --- Site-wide: 404, archived calls, footer, icon, Open Graph --------------------------------

def test_404_is_in_the_sites_design_and_language(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    assert "Page introuvable" in text(response) and 'class="site-header"' in text(response)
    english = client.get("/en/nowhere/")
    assert english.status_code == 404 and "Page not found" in text(english)
    assert client.get("/api/v1/nowhere/").json() == {"detail": "Not found."}


def test_an_archived_call_says_so_and_links_to_its_newer_edition(client):
    old = make(title="Ancienne édition", slug="ancienne", publication_state=PublicationState.ARCHIVED)
    make(title="Nouvelle édition", slug="nouvelle", previous_edition=old)
    response = client.get("/appels/ancienne/")
    assert response.status_code == 404
    body = text(response)
    assert "Cet appel a été archivé" in body and 'href="/appels/nouvelle/"' in body
    make(title="Brouillon", slug="brouillon", publication_state=PublicationState.DRAFT)
    assert "archivé" not in text(client.get("/appels/brouillon/"))


def test_every_page_has_an_icon_a_footer_and_open_graph_tags(client):
    make(title="Appel partagé", slug="partage", summary="Un résumé pour l'aperçu.")
    body = text(client.get("/appels/partage/"))
    assert re.search(r'<link rel="icon" href="/static/img/favicon\.svg"', body)
    assert '<meta property="og:title" content="Appel partagé">' in body
    assert '<meta property="og:description" content="Un résumé pour l&#x27;aperçu.">' in body
    assert '<meta property="og:url" content="http://testserver/appels/partage/">' in body
    for link in ('href="/a-propos/"', 'href="/contact/"', 'href="/api/v1/"', 'href="/api/docs/"',
                 'href="https://www.etalab.gouv.fr/licence-ouverte-open-licence/"'):
        assert link in body
    assert client.get("/a-propos/").status_code == 200 and client.get("/contact/").status_code == 200


# --- The sector's funding in pictures ---------------------------------------------------------

def test_funding_in_pictures_draws_svg_charts_whose_bars_lead_to_their_calls(client):
    state, agency = FunderFactory(kind=FunderKind.STATE), FunderFactory(kind=FunderKind.STATE_AGENCY)
    theme = ThemeFactory(slug="therapie-genique", name="Thérapie génique", name_en="Gene therapy")
    first = make(title="Un", slug="un", total_budget_eur=10_000_000, closes_on=datetime.date(2026, 12, 15))
    second = make(title="Deux", slug="deux", total_budget_eur=5_000_000, closes_on=datetime.date(2027, 1, 15))
    third = make(title="Trois", slug="trois", scope=Scope.REGIONAL, opens_on=datetime.date(2024, 1, 1),
                 closes_on=datetime.date(2024, 6, 30))
    third.regions.add(Region.objects.get(code="11"))
    reindex(call=third)
    CallFunderFactory(call=first, funder=state)
    CallFunderFactory(call=second, funder=agency)
    CallFunderFactory(call=third, funder=agency)
    first.themes.add(theme)
    reindex(call=first)
    CeilingFactory(call=first)
    response = client.get("/panorama/")
    assert response.status_code == 200
    body = text(response)
    assert body.count("<svg class=\"chart__svg\"") >= 5 and "<script" not in body.split("</head>")[1]
    # Each bar is a link, named by its label and value; no link inside an image (its content is not read).
    assert 'role="img"' not in body and body.count('role="group" aria-labelledby="chart-') >= 5
    assert 'aria-label="Agence de l&#x27;État — 2 appels"' in body
    figures = response.context["figures"]
    kinds = {f.label: f for f in figures["by_kind"]}
    assert kinds["Agence de l'État"].calls == 2 and kinds["Agence de l'État"].budget == 5_000_000
    assert kinds["État"].budget == 10_000_000
    assert [(f.label, f.calls) for f in figures["by_year"]] == [("2024", 1), ("2026", 1), ("2027", 1)]
    idf = next(f for f in figures["regions"] if f.label == "Île-de-France")
    assert idf.calls == 3 and idf.share == 1.0
    assert next(f for f in figures["regions"] if f.label == "Bretagne").calls == 2
    # Each figure's link lists exactly the calls it counts.
    for figure in [*figures["by_kind"], *figures["by_year"], *figures["by_theme"], *figures["regions"]]:
        assert f'href="{figure.url.replace("&", "&amp;")}"' in body
        query = QueryDict(urlparse(figure.url).query)
        assert CallFilterSet(query).qs.count() == figure.calls, (figure.label, parse_qs(urlparse(figure.url).query))
    assert "Gene therapy" in text(client.get("/en/panorama/"))


def _listed_by(url):
    """The calls the search behind a chart's bar lists: the one FilterSet, on the link's query."""
    return CallFilterSet(QueryDict(urlparse(url).query)).qs


def test_every_bar_of_every_chart_counts_and_sums_exactly_the_calls_its_link_lists(client):
    europe = [FunderFactory(kind=FunderKind.EUROPEAN_UNION, slug=f"ue-{n}") for n in range(2)]
    state = FunderFactory(kind=FunderKind.STATE)
    # Two funders of one kind: once in that kind's bar, its budget once.
    both_eu = make(title="Deux financeurs européens", slug="deux-ue", total_budget_eur=40_000_000,
                   opens_on=datetime.date(2026, 1, 1), closes_on=datetime.date(2026, 3, 1))
    # Two rounds closing in two years: in both years' bars, its budget whole in each.
    rounds = make(title="Deux vagues", slug="deux-vagues", total_budget_eur=9_000_000,
                  opens_on=datetime.date(2025, 1, 1), closes_on=None)
    RoundFactory(call=rounds, name="Vague 1", opens_on=datetime.date(2025, 1, 1), closes_on=datetime.date(2025, 6, 1))
    RoundFactory(call=rounds, name="Vague 2", opens_on=datetime.date(2025, 9, 1), closes_on=datetime.date(2026, 2, 1))
    plain = make(title="Sans budget", slug="sans-budget", opens_on=datetime.date(2026, 1, 1),
                 closes_on=datetime.date(2026, 5, 1))
    regional = make(title="Régional", slug="regional", scope=Scope.REGIONAL, total_budget_eur=1_000_000,
                    opens_on=datetime.date(2026, 1, 1), closes_on=datetime.date(2026, 7, 1))
    regional.regions.add(Region.objects.get(code="53"))
    theme, other_theme = ThemeFactory(slug="vecteurs"), ThemeFactory(slug="anticorps")
    for funder in europe:
        CallFunderFactory(call=both_eu, funder=funder)
    CallFunderFactory(call=rounds, funder=europe[0])
    CallFunderFactory(call=rounds, funder=state)
    CallFunderFactory(call=plain, funder=state)
    both_eu.themes.add(theme, other_theme)
    rounds.themes.add(theme)
    for call in (both_eu, rounds, plain, regional):
        reindex(call=call)

    response = client.get("/panorama/")
    figures = response.context["figures"]
    kinds = {f.label: f for f in figures["by_kind"]}
    assert (kinds["Union européenne"].calls, kinds["Union européenne"].budget) == (2, 49_000_000)
    assert (kinds["État"].calls, kinds["État"].budget, kinds["État"].budget_calls) == (2, 9_000_000, 1)
    years = {f.label: f for f in figures["by_year"]}
    assert (years["2025"].calls, years["2025"].budget, years["2025"].also_in_other_years) == (1, 9_000_000, 1)
    assert (years["2026"].calls, years["2026"].budget, years["2026"].also_in_other_years) == (4, 50_000_000, 1)
    assert (figures["multi_year"].calls, figures["multi_year"].budget) == (1, 9_000_000)
    bars = [*figures["by_kind"], *figures["by_year"], *figures["by_theme"], *figures["regions"]]
    assert len(bars) >= 2 + 2 + 2 + 13
    for figure in bars:
        calls = _listed_by(figure.url)
        stated = [call.total_budget_eur for call in calls if call.total_budget_eur is not None]
        assert (figure.calls, figure.budget, figure.budget_calls) == (calls.count(), sum(stated), len(stated)), (
            figure.label, figure.url)
    # Each chart says that a call with deadlines in two years, and its budget, counts in both.
    body = text(response)
    assert "1 appel a des dates limites dans plusieurs années" in body
    assert "un budget pluriannuel compte en entier dans chaque année" in body.lower()


@pytest.mark.parametrize("count", [3, pytest.param(20, marks=pytest.mark.slow)])  # (many calls: the slow tier)
def test_home_and_panorama_queries_stay_bounded(client, django_assert_max_num_queries, count):
    theme = ThemeFactory(slug="bioproduction")
    for n in range(count):
        call = make(title=f"Appel {n}", slug=f"appel-{n}", total_budget_eur=1_000_000)
        CallFunderFactory(call=call)
        call.themes.add(theme)
        reindex(call=call)
        make(title=f"Clos {n}", slug=f"clos-{n}", opens_on=today() - 60 * DAY, closes_on=today() - 5 * DAY)
    with django_assert_max_num_queries(12):
        client.get("/")
    with django_assert_max_num_queries(9):  # its figures, and the registry version its ETag names
        client.get("/panorama/")


def test_a_bad_foreign_choice_is_a_message_not_an_error(client):
    make(title="Appel français", slug="fr")
    response = client.get("/?foreign=partout")
    assert response.status_code == 200 and "Appel français" in text(response)
    assert 'id="foreign-error"' in text(response)
    api = client.get("/api/v1/calls/?foreign=partout")
    assert api.status_code == 400 and "foreign" in api.json()


def test_the_contact_page_gives_the_address_when_one_is_set(client, settings):
    settings.CONTACT_EMAIL = "registre@example.org"
    assert 'href="mailto:registre@example.org"' in text(client.get("/contact/"))


def test_what_browsers_and_crawlers_ask_for_at_the_root(client):
    call = make(slug="appel-plan", title="Appel du plan")
    funder = FunderFactory(slug="financeur-plan")
    CallFunderFactory(call=call, funder=funder)
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and robots["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in robots.content.decode()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon["Location"].endswith(".ico")
    sitemap = client.get("/sitemap.xml").content.decode()
    for url in ("http://testserver/appels/appel-plan/", "http://testserver/en/appels/appel-plan/",
                "http://testserver/financeurs/financeur-plan/", "http://testserver/en/financeurs/financeur-plan/"):
        assert f"<loc>{url}</loc>" in sitemap, url
    assert 'hreflang="en" href="http://testserver/en/appels/appel-plan/"' in sitemap
    page = client.get("/appels/appel-plan/").content.decode()
    assert '<link rel="alternate" hreflang="en" href="http://testserver/en/appels/appel-plan/">' in page
    assert '<link rel="alternate" hreflang="x-default" href="http://testserver/appels/appel-plan/">' in page
    assert 'og-image' in page and '.png"' in page.split("og:image")[1].split(">")[0]


# --- What a visitor sees: indexes of funders and programmes -----------------------------------

def index_row(page, url):
    """The numbers in the row of the index `page` that links to `url` (open, upcoming[, dates not given], past)."""
    row = re.search(r'<tr><th scope="row"><a href="' + re.escape(url) + r'">.*?</tr>', page)
    assert row, url
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row.group(0))]


def test_the_funders_index_counts_each_funders_published_calls_by_status(client):
    bpi, region = FunderFactory(slug="bpi", name="Bpifrance"), FunderFactory(slug="region")
    idle = FunderFactory(slug="sans-appel")
    past = {"opens_on": today() - 90 * DAY, "closes_on": today() - 30 * DAY}
    for call in (make(), make(opens_on=today() + 10 * DAY, closes_on=today() + 60 * DAY), make(**past), make(**past),
                 make(publication_state=PublicationState.DRAFT)):
        CallFunderFactory(call=call, funder=bpi)
    CallFunderFactory(call=make(), funder=region)
    cofunded = make(opens_on=today() + 5 * DAY, closes_on=today() + 50 * DAY)
    CallFunderFactory(call=cofunded, funder=bpi)
    CallFunderFactory(call=cofunded, funder=region)  # counted once for each
    page = text(client.get("/financeurs/"))
    assert index_row(page, "/financeurs/bpi/") == [1, 2, 2]  # the draft is not counted
    assert index_row(page, "/financeurs/region/") == [1, 1, 0]
    assert "/financeurs/sans-appel/" not in page and idle.name not in page
    assert ">Ouverts</th>" in page and ">Passés</th>" in page and "Sans dates" not in page
    english = text(client.get("/en/financeurs/"))
    assert index_row(english, "/en/financeurs/bpi/") == [1, 2, 2] and ">Open</th>" in english
    # A call whose sources give no dates gets its own column, not counted as past.
    CallFunderFactory(call=make(opens_on=None, closes_on=None), funder=region)
    assert index_row(text(client.get("/financeurs/")), "/financeurs/region/") == [1, 1, 1, 0]


def test_the_programmes_index_counts_the_calls_of_the_programmes_under_each(client):
    plan = ProgrammeFactory(slug="plan", name="Plan bioproduction")
    axis = ProgrammeFactory(slug="axe-1", name="Axe 1", parent=plan)
    make(programme=axis)
    make(programme=plan, opens_on=today() - 90 * DAY, closes_on=today() - 30 * DAY)
    ProgrammeFactory(slug="vide")
    page = text(client.get("/programmes/"))
    assert index_row(page, "/programmes/plan/") == [1, 0, 1]
    assert index_row(page, "/programmes/axe-1/") == [1, 0, 0]
    assert "partie de Plan bioproduction" in page and "/programmes/vide/" not in page
    assert index_row(text(client.get("/en/programmes/")), "/en/programmes/plan/") == [1, 0, 1]


def test_the_indexes_are_linked_from_the_footer_and_the_search_page(client):
    for url in ("/", "/?q=cellules", "/contact/"):
        page = client.get(url).content.decode()
        assert 'href="/financeurs/"' in page and 'href="/programmes/"' in page, url
    english = client.get("/en/").content.decode()
    assert 'href="/en/financeurs/"' in english and 'href="/en/programmes/"' in english
    search = client.get("/?q=cellules").content.decode()
    assert "Parcourir par financeur" in search.split("<footer")[0]
    assert "<loc>http://testserver/financeurs/</loc>" in client.get("/sitemap.xml").content.decode()


def test_the_indexes_read_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    with one_refresh():
        for n in range(30):
            funder = FunderFactory(slug=f"f-{n}")
            CallFunderFactory(call=make(programme=ProgrammeFactory(slug=f"p-{n}")), funder=funder)
    with django_assert_max_num_queries(3):
        page = text(client.get("/financeurs/"))
    assert page.count('<tr><th scope="row">') == 30
    with django_assert_max_num_queries(3):
        page = text(client.get("/programmes/"))
    assert page.count('<tr><th scope="row">') == 30


# --- What a visitor sees: the calendar ----------------------------------------------------------

def events(body):
    """The calendar's events, each as a dict of its unfolded properties (its alarm's trigger too)."""
    unfolded = body.replace("\r\n ", "")
    found = []
    for block in unfolded.split("BEGIN:VEVENT")[1:]:
        event = {}
        for line in block.split("END:VEVENT")[0].split("\r\n"):
            name, _sep, value = line.partition(":")
            event.setdefault(name.split(";")[0], value)
        found.append(event)
    return found


def test_each_call_page_offers_its_own_calendar_with_its_rounds_and_a_reminder(client):
    call = make(slug="appel-agenda", title="Appel à l'agenda", closes_on=today() + 60 * DAY)
    RoundFactory(call=call, name="Vague 1", opens_on=today() - 10 * DAY, closes_on=today() + 20 * DAY)
    RoundFactory(call=call, name="Vague 2", opens_on=today() + 30 * DAY, closes_on=today() + 60 * DAY)
    make(slug="autre-appel", title="Un autre appel")
    page = text(client.get("/appels/appel-agenda/"))
    assert 'href="/appels/appel-agenda/agenda.ics"' in page and "Ajouter à mon agenda" in page
    assert "Add to my calendar" in text(client.get("/en/appels/appel-agenda/"))
    response = client.get("/appels/appel-agenda/agenda.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert 'filename="appel-agenda.ics"' in response["Content-Disposition"]
    body = response.content.decode()
    found = events(body)
    deadlines = {e["DTSTART"]: e["SUMMARY"] for e in found if "TRIGGER" in e}
    assert deadlines == {
        f"{today() + 20 * DAY:%Y%m%d}": "Clôture (Vague 1) : Appel à l'agenda",
        f"{today() + 60 * DAY:%Y%m%d}": "Clôture (Vague 2) : Appel à l'agenda",
    }
    assert f"{today() + 30 * DAY:%Y%m%d}" in {e["DTSTART"] for e in found if "TRIGGER" not in e}  # the 2nd opening
    assert all(e["TRIGGER"] == "-P7D" for e in found if "TRIGGER" in e)
    assert "Un autre appel" not in body and "autre-appel" not in body
    assert "X-WR-CALNAME:Appel à l'agenda" in body


def test_a_call_calendar_is_for_published_calls_and_past_calls_do_not_offer_one(client):
    make(slug="brouillon", publication_state=PublicationState.DRAFT)
    assert client.get("/appels/brouillon/agenda.ics").status_code == 404
    assert client.get("/appels/inconnu/agenda.ics").status_code == 404
    make(slug="passe", opens_on=today() - 90 * DAY, closes_on=today() - 30 * DAY)
    assert "agenda.ics" not in text(client.get("/appels/passe/"))
    make(slug="a-venir", opens_on=today() + 30 * DAY, closes_on=None)
    assert 'href="/appels/a-venir/agenda.ics"' in text(client.get("/appels/a-venir/"))


def axis_labels(page):
    axis = re.search(r'<ol class="timeline__years">(.*?)</ol>', page).group(1)
    return re.findall(r'<span class="timeline__tick">([^<]*)</span>', axis)


def test_the_timeline_names_its_months_unambiguously(client):
    make(slug="sur-l-axe")
    french, english = axis_labels(text(client.get("/calendrier/"))), axis_labels(text(client.get("/en/calendrier/")))
    assert len(french) == 12 and len(set(french)) == 12 and len(set(english)) == 12
    assert "Juin" in french and "Juil." in french and "Jui" not in french
    assert "June" in english and "July" in english
    years = re.findall(r'<span class="timeline__tick-year">(\d{4})</span>', text(client.get("/calendrier/")))
    assert str(today().year + 1) in years  # January names its year


# --- What a visitor sees: accessibility --------------------------------------------------------

def test_facet_counts_read_aloud_agree_with_their_number(client):
    alone, pair = FunderFactory(slug="seul", name="Seul"), FunderFactory(slug="paire", name="Paire")
    CallFunderFactory(call=make(), funder=alone)
    for _n in range(2):
        CallFunderFactory(call=make(), funder=pair)

    def count_of(page, name):
        label = re.search(r'<label for="id_funder_\d+">' + name + r' (<span class="count">.*?</span></span>)', page)
        return re.sub(r"<[^>]+>", "", label.group(1))
    french = text(client.get("/?q="))
    assert count_of(french, "Seul") == "(1 appel)" and count_of(french, "Paire") == "(2 appels)"
    english = text(client.get("/en/?q="))
    assert count_of(english, "Seul") == "(1 call)" and count_of(english, "Paire") == "(2 calls)"
    chosen = text(client.get("/?funder=seul"))
    assert re.search(r'Filtres <span class="count"><span class="visually-hidden">\(</span>1'
                     r'<span class="visually-hidden"> choisi\)</span>', chosen)


def test_the_skip_link_to_the_results_is_there_at_every_width(client):
    page = text(client.get("/?q="))
    assert '<p class="jump-to-results"><a href="#results-heading">' in page and 'id="results-heading"' in page
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "site.css").read_text()
    assert not re.search(r"\.jump-to-results\s*\{[^}]*display:\s*none", css)  # hidden until focused, never removed


def test_the_laureates_are_one_landmark_and_stack_on_a_phone(client):
    call = make(slug="avec-laureats")
    LaureateFactory(call=call, organisation="Cellules SA", project="Vecteurs viraux", amount_eur=250_000)
    page = text(client.get("/appels/avec-laureats/"))
    assert page.count('aria-labelledby="laureates-heading"') == 1
    assert '<table class="table table--stacked">' in page
    assert '<td data-label="Projet">Vecteurs viraux</td>' in page


# --- What a visitor sees: alerts and contact ---------------------------------------------------

def summary_items(page):
    return re.findall(r"<li>([^<]*)</li>", page.split("Votre recherche")[1].split("</ul>")[0])


def test_the_alert_summary_lists_only_what_the_visitor_chose(client):
    assert summary_items(text(client.get("/alertes/", {"q": ""}))) == ["Tous les appels (aucun filtre)"]
    chosen = summary_items(text(client.get("/alertes/", {"region": "11", "status": "open"})))
    assert sorted(chosen) == ["Ma région : Île-de-France", "Statut : Ouvert"]  # not "schemes in France only"
    # Chosen on purpose, the default is said.
    on_purpose = summary_items(text(client.get("/alertes/", {"foreign": "exclude"})))
    assert on_purpose == ["Dispositifs étrangers : Dispositifs en France seulement"]


def test_the_alert_box_buttons_say_different_things(client):
    page = text(client.get("/?q=vecteurs"))
    box = page.split('<details class="alert-box')[1].split("</details>")[0]
    summary = re.search(r'<summary class="button">([^<]*)</summary>', box).group(1)
    button = re.search(r'<button type="submit"[^>]*>([^<]*)</button>', box).group(1)
    assert summary == "Recevoir les nouveaux appels par e-mail" and button == "Créer l'alerte"
    assert 'type="email" name="email" id="alert-email"' in box


def test_the_contact_address_defaults_to_the_sites_host_and_can_be_left_out(client, settings):
    from registry.settings.base import default_contact_email

    assert default_contact_email("https://registre.example.org") == "contact@registre.example.org"
    assert default_contact_email("https://www.example.org/") == "contact@example.org"
    for local in ("http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]/", "http://testserver", ""):
        assert default_contact_email(local) == "", local
    settings.CONTACT_EMAIL = default_contact_email("https://registre.example.org")
    page = text(client.get("/contact/"))
    assert 'href="mailto:contact@registre.example.org">contact@registre.example.org</a>' in page
    settings.CONTACT_EMAIL = ""
    page = text(client.get("/contact/"))
    assert "mailto:" not in page and "Écrire aux curateurs" not in page
