"""The public site through the Django test client: search, detail pages, timeline, exports, FR/EN."""
import datetime
import json
import re

import pytest
from django.utils import translation

from calls import services
from calls.choices import Scope
from calls.models import BeneficiaryType, Region
from calls.querysets import today
from calls.site.templatetags.registry_format import money
from tests.factories import (
    CallFunderFactory,
    CeilingFactory,
    FunderFactory,
    LaureateFactory,
    ProgrammeFactory,
    RoundFactory,
    SourceFactory,
    ThemeFactory,
    one_refresh,
)
from tests.helpers import make, reindex  # a published call open today: the pages use the real today

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def full_call(n=0, **fields):
    """A call with everything a result shows: funder, ceiling, theme, beneficiary, region."""
    with one_refresh():
        call = make(title=f"Appel complet {n}", slug=f"complet-{n}", total_budget_eur=10_000_000, **fields)
        CallFunderFactory(call=call, funder=FunderFactory(name=f"Financeur complet {n}",
                                                          slug=f"financeur-complet-{n}"))
        CeilingFactory(call=call, amount_eur=1_500_000)
        call.themes.add(ThemeFactory(slug="bioproduction", name="Bioproduction", name_en="Biomanufacturing"))
        call.beneficiaries.add(BeneficiaryType.objects.get(code="startup"))
    return call


@pytest.fixture
def calls():
    now = today()
    with one_refresh():
        return {
            "open": full_call(0),
            "upcoming": make(title="Appel à venir", slug="upcoming", opens_on=now + 10 * DAY,
                             closes_on=now + 40 * DAY),
            "closed": make(title="Appel clos", slug="closed", opens_on=now - 40 * DAY, closes_on=now - 10 * DAY),
            "regional": make(title="Appel francilien", slug="idf", scope=Scope.REGIONAL),
        }


# --- The search page -------------------------------------------------------------------------

def test_home_groups_open_then_upcoming_then_expected_then_recently_closed(client, calls):
    make(title="Appel clos il y a longtemps", slug="old", opens_on=today() - 400 * DAY, closes_on=today() - 300 * DAY)
    response = client.get("/")
    assert response.status_code == 200
    groups = {group["key"]: [call.slug for call in group["calls"]] for group in response.context["home_groups"]}
    assert list(groups) == ["open", "upcoming", "expected", "closed"]
    assert sorted(groups["open"]) == ["complet-0", "idf"]
    assert groups["upcoming"] == ["upcoming"] and groups["closed"] == ["closed"]  # closed 10 days ago
    assert "Appel clos il y a longtemps" not in response.content.decode()
    body = re.sub(r"\s+", " ", response.content.decode())
    assert re.search(r'Ouverts maintenant <span class="count">2</span>.*À venir <span class="count">1</span>.*'
                     r'Récemment clos <span class="count">1</span>', body)
    # The eligibility questions are one step away, and lead to the search.
    assert_contains_all(response, 'name="region"', 'name="beneficiary"', 'name="amount"', 'name="trl"')

    search = client.get("/?q=")
    assert response.context["filter"].__class__.__name__ == "CallFilterSet"
    assert_contains_all(search, "Appel complet 0", "Appel à venir", "Appel francilien", "3 appels", 'lang="fr"',
                        "Ouvert", "À venir")
    assert "Appel clos" not in search.content.decode()


def assert_contains_all(response, *texts):
    body = response.content.decode()
    for text in texts:
        assert text in body, text


def test_each_result_shows_its_facts(client, calls):
    response = client.get("/?q=")
    assert_contains_all(
        response, "Financeur complet 0", "badge--open", "Clôture dans 30 jours", "1,5 M€", "10 M€",
        "Start-up", "Bioproduction", "Ouvre le",
    )


@pytest.mark.parametrize("query, shown, hidden", [
    ("status=closed", ["Appel clos"], ["Appel complet 0"]),
    ("q=complet", ["Appel complet 0"], ["Appel à venir"]),
    ("beneficiary=startup", ["Appel complet 0", "Appel à venir"], []),
    ("theme=bioproduction", ["Appel complet 0"], ["Appel à venir"]),
    ("funder=financeur-complet-0", ["Appel complet 0"], ["Appel à venir"]),
    ("amount=2000000", ["Appel à venir"], ["Appel complet 0"]),
    ("region=84", ["Appel complet 0"], ["Appel francilien"]),
])
def test_filters_apply_through_the_query_string(client, calls, query, shown, hidden):
    calls["regional"].regions.add(Region.objects.get(code="11"))
    reindex(call=calls["regional"])
    response = client.get(f"/?{query}")
    for title in shown:
        assert title in response.content.decode()
    for title in hidden:
        assert f">{title}</a>" not in response.content.decode()


def test_why_it_matches_in_a_word_each(client, calls):
    calls["regional"].regions.add(Region.objects.get(code="11"))
    reindex(call=calls["regional"])
    response = client.get("/?region=11&beneficiary=startup&amount=500000&trl=4")
    body = re.sub(r"\s+", " ", response.content.decode())
    assert "Pourquoi il correspond" in body

    def reasons(slug):
        card = body.split(f'href="/appels/{slug}/"')[1].split("</article>")[0]
        return re.findall(r'matches__item--(\w+)"><span class="matches__filter">([^<]+)</span> ([^<]+)<', card)

    # What the source states and matches is green ("match"); what it does not state is neutral.
    assert reasons("complet-0") == [
        ("match", "Région", "France entière"), ("match", "Bénéficiaire", "Start-up"),
        ("match", "Plafond", "jusqu&#x27;à 1,5 M€"), ("not_stated", "TRL", "non précisé"),
    ]
    assert reasons("idf") == [
        ("match", "Région", "Île-de-France"), ("not_stated", "Bénéficiaire", "non précisé"),
        ("not_stated", "Plafond", "non précisé"), ("not_stated", "TRL", "non précisé"),
    ]
    english = re.sub(r"\s+", " ", client.get("/en/?region=11&trl=4").content.decode())
    assert "All of France" in english and "not stated" in english


def test_facet_counts_are_shown_next_to_each_choice(client, calls):
    response = client.get("/?q=")
    facets = response.context["facets"]
    assert facets["status"] == {"open": 2, "upcoming": 1, "closed": 1}
    # One open call names start-ups, two name nobody (they may apply): ticking it gives 3.
    assert facets["beneficiary"]["startup"] == 3 == client.get("/?beneficiary=startup").context["paginator"].count
    body = re.sub(r"\s+", " ", response.content.decode())
    assert re.search(r'value="closed" id="id_status_\d+"> <label[^>]*>Clos <span class="count">'
                     r'<span class="visually-hidden">\(</span>1<', body)
    assert re.search(r'<option value="11">Île-de-France \(3\)</option>', body)


def test_empty_state_offers_to_remove_each_filter(client, calls):
    response = client.get("/?q=introuvable&theme=bioproduction")
    assert_contains_all(response, "Aucun appel ne correspond", "Retirer « Rechercher : introuvable »",
                        "?theme=bioproduction", "?q=introuvable", "Inclure les appels clos")


def test_sorting_and_pagination_keep_the_search_in_the_url(client):
    for n in range(25):
        full_call(n, closes_on=today() + (n + 1) * DAY)
    response = client.get("/?theme=bioproduction&ordering=deadline")
    assert_contains_all(response, "25 appels", 'href="?theme=bioproduction&amp;ordering=deadline&amp;page=2"')
    page = client.get("/?theme=bioproduction&ordering=deadline&page=2")
    assert [c.slug for c in page.context["page_obj"]] == [f"complet-{n}" for n in range(20, 25)]
    assert client.get("/?theme=bioproduction&page=999").context["page_obj"].number == 2  # the last
    assert client.get("/?theme=bioproduction&page=-4").context["page_obj"].number == 1
    assert client.get("/?theme=bioproduction&page=abc").context["page_obj"].number == 1
    newest = client.get("/?ordering=ceiling")
    assert newest.context["filter"].form.cleaned_data["ordering"] == ["ceiling"]


def test_invalid_filter_has_its_message_and_the_valid_ones_still_apply(client, calls):
    response = client.get("/?amount=abc&theme=bioproduction&closes_after=2026-02-30")
    assert_contains_all(response, 'id="amount-error"', 'id="closes_after-error"', "ont été ignorés")
    assert [c.slug for c in response.context["page_obj"]] == ["complet-0"]


def test_bad_page_numbers_are_clamped(client, calls):
    assert client.get("/?page=999").context["page_obj"].number == 1  # one page only: its last
    assert client.get("/?page=-4").context["page_obj"].number == 1


def seed(count):
    with one_refresh():
        for n in range(count):
            call = full_call(n)
            call.regions.add(Region.objects.get(code="11"))
            reindex(call=call)
            RoundFactory(call=call, opens_on=call.opens_on, closes_on=call.closes_on)
            SourceFactory(call=call)


@pytest.mark.parametrize("count", [5, pytest.param(30, marks=pytest.mark.slow)])  # (many calls: the slow tier)
def test_search_page_queries_stay_bounded(client, django_assert_max_num_queries, count):
    seed(count)
    # 24 before issue 11, plus the calls naming no beneficiary (their facet count) and the editions' dates.
    with django_assert_max_num_queries(26):
        response = client.get("/?region=11&beneficiary=startup&theme=bioproduction&q=complet")
    assert response.context["paginator"].count == count


@pytest.mark.parametrize("count", [5, pytest.param(30, marks=pytest.mark.slow)])  # (many calls: the slow tier)
def test_timeline_and_detail_queries_stay_bounded(client, django_assert_max_num_queries, count):
    seed(count)
    with django_assert_max_num_queries(22):
        client.get("/calendrier/")
    with django_assert_max_num_queries(12):
        client.get("/appels/complet-0/")


# --- Detail pages ----------------------------------------------------------------------------

@pytest.fixture
def detailed():
    programme = ProgrammeFactory(name="Stratégie Biothérapies", slug="sabb")
    previous = make(title="Édition 2022", slug="edition-2022", opens_on=datetime.date(2022, 1, 1),
                    closes_on=datetime.date(2022, 12, 31), closes_on_precision="year")
    call = make(
        title="Intégrateurs 2026", slug="integrateurs-2026", programme=programme, previous_edition=previous,
        funding_rate_min_pct=30, funding_rate_max_pct=50, trl_min=4, trl_max=7, consortium_required=True,
        eligibility="Plateformes labellisées.", eligible_expenses="Équipements.", apply_url="https://example.org/depot",
        floor_eur=100_000, duration_max_months=36,
    )
    CallFunderFactory(call=call, funder=FunderFactory(name="Bpifrance", slug="bpifrance"), role="operator")
    CeilingFactory(call=call, amount_eur=1_500_000, condition="nouvelles plateformes")
    CeilingFactory(call=call, amount_eur=600_000, condition="plateformes déjà labellisées")
    RoundFactory(call=call, name="Vague 1", opens_on=call.opens_on, closes_on=today() + 5 * DAY, budget_eur=2_000_000)
    SourceFactory(call=call, document__title="Thèse de pharmacie", document__url="https://example.org/these",
                  locator="Partie 4, §3.3", accessed_on=datetime.date(2026, 11, 1))
    LaureateFactory(call=previous, organisation="MAGENTA", project="Vecteurs", year=2022)
    call.aid_forms.add("grant")
    reindex(call=call)
    return call


def test_call_detail_shows_everything_the_model_holds(client, detailed):
    response = client.get("/appels/integrateurs-2026/")
    assert_contains_all(
        response, "Intégrateurs 2026", "Bpifrance", "Opérateur", "1,5 M€", "nouvelles plateformes", "600 k€",
        "plateformes déjà labellisées", "100 k€", "30–50%", "Subvention", "Vague 1", "2 M€", "4–7", "Oui",
        "Plateformes labellisées.", "Équipements.", "https://example.org/depot", "Stratégie Biothérapies",
        "Édition 2022", "Thèse de pharmacie", "https://example.org/these", "Partie 4, §3.3",
        "Dernière vérification", "jusqu&#x27;à 36 mois", "Clôture dans 5 jours",
    )
    previous = client.get("/appels/edition-2022/")
    assert_contains_all(previous, "Clos en 2022", "MAGENTA", "Vecteurs", "Intégrateurs 2026")


def test_call_detail_has_schema_org_json_ld_and_no_inline_script(client, detailed):
    body = client.get("/appels/integrateurs-2026/").content.decode()
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    data = json.loads(blocks[0])
    assert data["@type"] == "MonetaryGrant" and data["name"] == "Intégrateurs 2026"
    assert data["amount"] == {"@type": "MonetaryAmount", "currency": "EUR", "maxValue": 1500000, "minValue": 100000}
    assert data["funder"][0]["name"] == "Bpifrance"
    assert data["potentialAction"]["target"] == "https://example.org/depot"
    assert len(re.findall(r"<script", body)) == 1 and not re.search(r"\son[a-z]+=", body)


def test_json_ld_cannot_close_its_script_element(client):
    make(slug="evil", title="</script><script>alert(1)</script>")
    body = client.get("/appels/evil/").content.decode()
    assert "</script><script>alert" not in body


def test_drafts_have_no_public_page(client):
    make(slug="brouillon", publication_state="draft")
    assert client.get("/appels/brouillon/").status_code == 404


def test_funder_page_groups_calls_with_totals(client, calls):
    funder = FunderFactory(name="Région Île-de-France", slug="region-idf")
    for call in (calls["open"], calls["upcoming"], calls["closed"]):
        CallFunderFactory(call=call, funder=funder)
    response = client.get("/financeurs/region-idf/")
    groups = {group["status"]: group for group in response.context["groups"]}
    assert (groups["open"]["count"], groups["upcoming"]["count"], groups["closed"]["count"]) == (1, 1, 1)
    assert groups["open"]["total_budget"] == 10_000_000
    assert_contains_all(response, "Région Île-de-France", "À venir", "Ouvert", "Passés", "budget total 10 M€",
                        "Appel complet 0", "Appel clos")


def test_programme_page_shows_sub_programmes_sources_and_calls_below_it(client):
    parent = ProgrammeFactory(name="France 2030", slug="france-2030", budget_eur=54_000_000_000)
    child = ProgrammeFactory(name="Grand défi", slug="grand-defi", parent=parent)
    SourceFactory(call=None, programme=parent, document__title="Annales des Mines", locator="p. 12")
    make(title="Appel du grand défi", slug="defi", programme=child, total_budget_eur=3_000_000)
    response = client.get("/programmes/france-2030/")
    assert_contains_all(response, "France 2030", "54 Md€", "Grand défi", "Annales des Mines", "p. 12",
                        "Appel du grand défi", "budget total 3 M€")


# --- Timeline and exports --------------------------------------------------------------------

def test_timeline_looks_forward_and_shows_the_past_on_request(client, calls):
    response = client.get("/calendrier/")
    body = response.content.decode()
    assert_contains_all(response, "En cours", "À venir", "<svg", "douze prochains mois", "?past=1")
    assert "Appel clos" not in body and "Passés" not in body  # forward by default
    assert 'href="/calendrier/' not in body.split('id="exports-heading"')[1]  # the export box doesn't link to itself
    assert not re.search(r'x="\d+,\d"', body)  # SVG numbers, never localized
    past = client.get("/calendrier/?past=1")
    assert_contains_all(past, "Passés", "En cours", "À venir", 'class="bar bar--closed', "Appel clos")
    filtered = client.get("/calendrier/?past=1&q=complet")
    assert "Appel clos" not in filtered.content.decode() and "Appel complet 0" in filtered.content.decode()


def test_search_page_links_its_exports_with_the_same_query(client, calls):
    response = client.get("/?theme=bioproduction")
    assert_contains_all(response, "/export/appels.csv?theme=bioproduction",
                        "/export/echeances.ics?theme=bioproduction", "/flux/nouveaux-appels.atom?theme=bioproduction")


def test_csv_export_of_the_current_search_is_for_people_in_their_language(client, calls):
    response = client.get("/export/appels.csv?theme=bioproduction")
    assert response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # a byte order mark: spreadsheets read UTF-8
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Titre;Statut;Type d'appel;Financeurs") and len(lines) == 2
    assert lines[1].startswith("Appel complet 0;Ouvert;Appel à projets;Financeur complet 0")
    assert "http://testserver/appels/complet-0/" in lines[1]
    english = b"".join(client.get("/en/export/appels.csv?theme=bioproduction").streaming_content)
    assert english.decode("utf-8-sig").startswith("Title;Status;Type of call;Funders")


def test_ics_export_is_valid_rfc5545_with_one_event_per_deadline(client, detailed):
    make(title="Appel, avec; virgule " + "très long " * 10, slug="long")
    response = client.get("/export/echeances.ics?status=open&status=closed")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:") and body.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert "\n" not in body.replace("\r\n", "")
    unfolded = body.replace("\r\n ", "")
    events = unfolded.split("BEGIN:VEVENT")[1:]
    # An opening and a deadline each: the round of the 2026 call, the 2022 edition, the long one.
    assert len(events) == 6
    for event in events:
        for prop in ("UID:", "DTSTAMP:", "DTSTART;VALUE=DATE:", "DTEND;VALUE=DATE:", "SUMMARY:", "END:VEVENT"):
            assert prop in event
    deadlines = [event for event in events if "SUMMARY:Clôture" in event]
    assert len(deadlines) == 3 and all("BEGIN:VALARM" in e and "TRIGGER:-P7D" in e for e in deadlines)
    assert not any("VALARM" in event for event in events if event not in deadlines)
    assert "UID:integrateurs-2026-round-" in unfolded
    # "closed in 2022": one day (the last), said approximate, never a year-long event.
    edition_2022 = next(e for e in deadlines if "Édition 2022" in e)
    assert "DTSTART;VALUE=DATE:20221231\r\nDTEND;VALUE=DATE:20230101" in edition_2022
    assert "date approximative : 2022" in edition_2022
    assert "Appel\\, avec\\; virgule" in unfolded


def test_atom_feed_of_newly_published_calls_filterable(client, calls):
    response = client.get("/flux/nouveaux-appels.atom?theme=bioproduction")
    assert response["Content-Type"].startswith("application/atom+xml")
    body = response.content.decode()
    assert 'xmlns="http://www.w3.org/2005/Atom"' in body and "<updated>" in body
    assert "Appel complet 0" in body and "Appel à venir" not in body
    assert "http://testserver/appels/complet-0/" in body
    # Its funders are the entry's author, its themes its categories (in the feed's language).
    assert "<author><name>Financeur complet 0</name></author>" in body
    assert '<category term="Bioproduction"/>' in body
    english = client.get("/en/flux/nouveaux-appels.atom?theme=bioproduction").content.decode()
    assert '<category term="Biomanufacturing"/>' in english


# --- Languages and formats -------------------------------------------------------------------

def test_english_version_under_the_en_prefix(client, calls):
    response = client.get("/en/?q=")
    assert_contains_all(response, 'lang="en"', "3 calls", "Closes in 30 days", "€1.5M", "€10M", "Upcoming",
                        'href="/en/appels/complet-0/"', "Biomanufacturing")
    detail = client.get("/en/appels/complet-0/")
    assert_contains_all(detail, "Who can apply", "Ceiling per project", "€1.5M", "on June 1, 2026")
    assert "le 1 juin 2026" in client.get("/appels/complet-0/").content.decode()  # dates per language


def test_language_switch_posts_to_set_language(client, calls):
    body = client.get("/").content.decode()
    assert 'action="/i18n/setlang/"' in body and 'name="language" value="en"' in body
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/appels/complet-0/?x=1"})
    assert response.status_code == 302 and response["Location"] == "/en/appels/complet-0/?x=1"


@pytest.mark.parametrize("amount, french, english", [
    (1_500_000, "1,5 M€", "€1.5M"), (800_000, "800 k€", "€800k"), (2_000_000_000, "2 Md€", "€2bn"),
    (7_250_000, "7,25 M€", "€7.25M"), (450, "450 €", "€450"), (None, "", ""),
])
def test_money_is_formatted_per_language(amount, french, english):
    with translation.override("fr"):
        assert money(amount) == french
    with translation.override("en"):
        assert money(amount) == english


# --- Funder and programme pages: one paginated list per status group ----------------------------

def group_slugs(response):
    return {group["status"]: [call.slug for call in group["calls"]] for group in response.context["groups"]}


def group_counts(response):
    return {group["status"]: group["count"] for group in response.context["groups"]}


@pytest.fixture
def busy_funder():
    """A funder with 25 past calls (closed 1 to 25 days ago), 3 open, 1 upcoming, 1 without dates."""
    funder = FunderFactory(name="Financeur chargé", slug="charge")
    now = today()
    with one_refresh():
        for n in range(1, 26):
            call = make(title=f"Passé {n}", slug=f"passe-{n}", opens_on=now - 60 * DAY, closes_on=now - n * DAY)
            CallFunderFactory(call=call, funder=funder)
        for n in (30, 10, 20):  # open, closing in 30, 10, 20 days
            CallFunderFactory(call=make(title=f"Ouvert {n}", slug=f"ouvert-{n}", closes_on=now + n * DAY),
                              funder=funder)
        CallFunderFactory(call=make(title="À venir", slug="a-venir", opens_on=now + 5 * DAY,
                                    closes_on=now + 50 * DAY), funder=funder)
        CallFunderFactory(call=make(title="Sans dates", slug="sans-dates", opens_on=None, closes_on=None),
                          funder=funder)
        make(title="Appel d'un autre", slug="autre")
    return funder


def test_funder_page_shows_open_calls_first_and_pages_through_past_ones_newest_first(client, busy_funder):
    response = client.get("/financeurs/charge/")
    assert [group["status"] for group in response.context["groups"]] == ["open", "upcoming", "dates_unknown", "closed"]
    assert group_counts(response) == {"open": 3, "upcoming": 1, "dates_unknown": 1, "closed": 25}
    slugs = group_slugs(response)
    assert slugs["open"] == ["ouvert-10", "ouvert-20", "ouvert-30"]  # soonest deadline first
    assert slugs["upcoming"] == ["a-venir"] and slugs["dates_unknown"] == ["sans-dates"]
    assert slugs["closed"] == [f"passe-{n}" for n in range(1, 21)]  # newest first, 20 a page
    assert_contains_all(response, "Ouverts maintenant", "À venir", "Dates non précisées par les sources", "Passés",
                        "Appels 1 à 20 sur 25", 'href="?closed_page=2#group-closed"',
                        "Filtrer ces 25 appels dans la recherche",
                        'href="/?funder=charge&amp;status=closed&amp;foreign=include"',
                        'href="/?funder=charge"')
    assert "Appel d'un autre" not in response.content.decode() and "Passé 21" not in response.content.decode()

    second = client.get("/financeurs/charge/?closed_page=2")
    slugs = group_slugs(second)
    assert slugs["closed"] == [f"passe-{n}" for n in range(21, 26)]
    assert slugs["open"] == ["ouvert-10", "ouvert-20", "ouvert-30"]  # the other groups stay in view
    assert_contains_all(second, "Appels 21 à 25 sur 25", 'href="?#group-closed" rel="prev"')
    assert "Passé 20<" not in second.content.decode()
    # Page links keep the page the other groups show, and nothing else of the query string.
    kept = client.get("/financeurs/charge/?closed_page=2&upcoming_page=1&q=vaccin&status=open")
    assert_contains_all(kept, 'href="?upcoming_page=1#group-closed" rel="prev"')
    page_links = re.findall(r'href="(\?[^"]*#group-[a-z_]+)"', kept.content.decode())
    assert page_links and not [link for link in page_links if "vaccin" in link or "status" in link]


@pytest.mark.parametrize("page, first", [
    ("abc", 1), ("", 1), ("0", 1), ("-2", 1), ("1.5", 1), ("2", 21), ("999", 21), ("9" * 30, 21), ("last", 21),
])
def test_funder_page_bad_page_numbers_show_the_first_or_the_last_page(client, busy_funder, page, first):
    response = client.get("/financeurs/charge/", {"closed_page": page, "open_page": "x"})
    assert response.status_code == 200
    assert group_slugs(response)["closed"][0] == f"passe-{first}"
    assert group_slugs(response)["open"] == ["ouvert-10", "ouvert-20", "ouvert-30"]


def test_funder_page_search_links_give_the_same_calls_as_each_group(client, busy_funder):
    foreign = make(title="Appel étranger", slug="etranger", country="DE", opens_on=today() - 60 * DAY,
                   closes_on=today() - 30 * DAY)
    CallFunderFactory(call=foreign, funder=busy_funder)
    response = client.get("/financeurs/charge/")
    assert group_counts(response)["closed"] == 26
    for group in response.context["groups"]:
        search = client.get(group["search_url"])
        assert search.context["page_obj"].paginator.count == group["count"], group["status"]


def test_programme_page_in_english_pages_the_calls_of_its_sub_programmes(client):
    parent = ProgrammeFactory(name="France 2030", slug="france-2030")
    child = ProgrammeFactory(name="Grand défi", slug="grand-defi", parent=parent)
    grandchild = ProgrammeFactory(name="Mesure", slug="mesure", parent=child)
    now = today()
    for n in range(1, 24):  # 23 past calls, spread over the programme and those under it
        programme = (parent, child, grandchild)[n % 3]
        make(title=f"Past {n}", slug=f"past-{n}", programme=programme, opens_on=now - 90 * DAY, closes_on=now - n * DAY)
    make(title="Open one", slug="open-one", programme=grandchild)
    make(title="Elsewhere", slug="elsewhere", programme=ProgrammeFactory(slug="other"), closes_on=now - DAY)

    response = client.get("/en/programmes/france-2030/")
    assert group_counts(response) == {"open": 1, "upcoming": 0, "closed": 23}
    assert group_slugs(response)["closed"] == [f"past-{n}" for n in range(1, 21)]
    assert_contains_all(response, 'lang="en"', "Open now", "Open one", "Past", "Calls 1 to 20 of 23",
                        "Filter these 23 calls in the search", 'href="?closed_page=2#group-closed"',
                        'href="/en/?programme=france-2030&amp;status=closed&amp;foreign=include"',
                        'href="/en/?programme=france-2030"')
    assert "Elsewhere" not in response.content.decode()
    last = client.get("/en/programmes/france-2030/?closed_page=last")
    assert group_slugs(last)["closed"] == ["past-21", "past-22", "past-23"]
    assert "Calls 21 to 23 of 23" in last.content.decode()
    # A sub-programme's page has only its own calls and those under it.
    assert group_counts(client.get("/en/programmes/mesure/"))["closed"] == len([n for n in range(1, 24) if n % 3 == 2])


@pytest.mark.slow  # 60 calls
def test_funder_and_programme_pages_read_as_many_queries_for_60_calls_as_for_5(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    funder = FunderFactory(slug="financeur-requetes")
    programme = ProgrammeFactory(slug="programme-requetes", parent=ProgrammeFactory(slug="parent-requetes"))
    theme = ThemeFactory(slug="theme-requetes")
    regions = list(Region.objects.all()[:2])
    now = today()
    dates = [  # open, upcoming, without dates, closed
        {"opens_on": now - 5 * DAY, "closes_on": now + 20 * DAY},
        {"opens_on": now + 5 * DAY, "closes_on": now + 9 * DAY},
        {"opens_on": None, "closes_on": None},
        {"opens_on": now - 50 * DAY, "closes_on": now - 9 * DAY},
    ]

    def add_calls(start, stop):
        with one_refresh():
            for n in range(start, stop):
                call = make(slug=f"requete-{n}", programme=programme, scope=Scope.REGIONAL, **dates[n % 4])
                CallFunderFactory(call=call, funder=funder)
                CallFunderFactory(call=call)
                call.themes.add(theme)
                call.regions.add(*regions)
                call.beneficiaries.add(BeneficiaryType.objects.get(code="startup"))
                reindex(call=call)

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200
        return len(captured), response

    add_calls(0, 8)
    few = {path: queries(path) for path in ("/financeurs/financeur-requetes/", "/en/programmes/parent-requetes/")}
    add_calls(8, 60)
    for path, (count, response) in few.items():
        many, many_response = queries(path)
        assert sum(group_counts(many_response).values()) == 60 and sum(group_counts(response).values()) == 8
        assert len(group_slugs(many_response)["closed"]) == 15  # cards shown: 15 closed, 15 open…
        assert many == count <= 16, (path, count, many)



def test_a_funder_page_reads_as_many_queries_with_one_group_of_calls_as_with_four(client, busy_funder):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    past_only = FunderFactory(slug="seulement-passe")
    CallFunderFactory(call=make(slug="passe-seul", opens_on=today() - 60 * DAY, closes_on=today() - 3 * DAY),
                      funder=past_only)
    counts = {}
    for slug in ("seulement-passe", "charge"):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/financeurs/{slug}/")
        counts[slug] = (len(captured), len([group for group in response.context["groups"] if group["count"]]))
    assert counts["seulement-passe"][1] == 1 and counts["charge"][1] == 4
    assert counts["seulement-passe"][0] == counts["charge"][0]

# --- What a page of cards reads ----------------------------------------------------------------

def _listed_call(n, funders=2, themes=2):
    """A published open call with funders, themes, beneficiaries and a region, as cards show them."""
    call = make(title=f"Appel listé {n}", slug=f"liste-{n}", scope=Scope.REGIONAL)
    for f in range(funders):
        CallFunderFactory(call=call, funder=FunderFactory(name=f"Financeur {n}-{f}", slug=f"financeur-{n}-{f}"))
    for t in range(themes):
        call.themes.add(ThemeFactory(slug=f"theme-{t}", name=f"Thème {t}", name_en=f"Theme {t}"))
    call.beneficiaries.add(BeneficiaryType.objects.get(code="startup"), BeneficiaryType.objects.get(code="sme"))
    call.regions.add(Region.objects.get(code="11"))
    reindex(call=call)
    return call


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.slow  # 20 calls with their rows, for each of three pages
@pytest.mark.parametrize("url", ["/?q=appel", "/?region=11&beneficiary=sme", "/financeurs/financeur-0-0/"])
def test_a_page_of_cards_reads_as_many_queries_for_twenty_calls_as_for_two(client, url):
    # Each call's funders, themes, beneficiaries and regions come from its stored document, not
    # from its rows: the number of queries doesn't grow with the cards on the page.
    with one_refresh():
        first = [_listed_call(n) for n in range(2)]
        for call in first[1:]:  # every call under the first funder, so its page lists them all
            CallFunderFactory(call=call, funder=first[0].funder_roles.first().funder)
    few = _queries(client, url)
    with one_refresh():
        for n in range(2, 20):
            call = _listed_call(n, funders=3, themes=3)
            CallFunderFactory(call=call, funder=first[0].funder_roles.first().funder)
    many = _queries(client, url)
    assert many == few
    assert many <= 11


def test_a_call_page_reads_eight_queries_whatever_its_rows(client):
    call = _listed_call(0, funders=4, themes=3)
    RoundFactory(call=call, name="Vague 1", opens_on=today() - 5 * DAY, closes_on=today() + 5 * DAY)
    RoundFactory(call=call, name="Vague 2", opens_on=today() + 6 * DAY, closes_on=today() + 30 * DAY)
    for amount in (100_000, 200_000):
        CeilingFactory(call=call, amount_eur=amount)
    SourceFactory(call=call)
    LaureateFactory(call=call, organisation="Lauréat A", region=Region.objects.get(code="11"))
    reindex(call=call)
    # The registry version (its ETag), the call (with its status and document), its funders,
    # rounds, ceilings, sources, laureates (each with what they link to), the themes' names:
    # eight, however many rows.
    assert _queries(client, call.get_absolute_url()) == 8


def test_a_card_shows_its_funders_themes_and_beneficiaries_in_the_page_language(client):
    call = _listed_call(0, funders=2, themes=2)
    french = client.get("/?q=appel").content.decode()
    assert "Financeur 0-0 · Financeur 0-1" in french
    assert '<li class="tag">Thème 0</li>' in french and '<li class="tag">Thème 1</li>' in french
    assert '<li class="tag tag--beneficiary">PME</li>' in french
    english = client.get("/en/?q=appel").content.decode()
    assert '<li class="tag">Theme 0</li>' in english and '<li class="tag">Theme 1</li>' in english
    assert '<li class="tag tag--beneficiary">SME</li>' in english
    with translation.override("fr"):
        path = call.get_absolute_url()
    page = client.get("/en" + path).content.decode()
    assert "Theme 0, Theme 1" in page
    assert "Île-de-France" in page


def test_a_funder_renamed_through_the_services_shows_at_once_in_the_filter_and_the_cards(client):
    call = _listed_call(0, funders=1)
    funder = call.funder_roles.first().funder
    assert "Financeur 0-0" in client.get("/?q=appel").content.decode()  # choices listed for this version
    funder.name = "Agence renommée"
    services.save_reference(instance=funder)
    page = client.get("/?q=appel").content.decode()
    assert "Financeur 0-0" not in page
    assert re.search(r'value="financeur-0-0"[^>]*>\s*<label[^>]*>Agence renommée', page)  # the filter's choice
    assert '<p class="call-card__funders">Agence renommée</p>' in page  # the card


@pytest.mark.parametrize("query", ["", "status=closed", "status=open&status=closed&status=upcoming", "q=listé",
                                   "region=11&beneficiary=sme", "status=nonsense", "trl=5&call_type=call_for_projects"])
def test_the_number_of_results_is_read_with_the_facets_and_counts_what_the_pages_list(client, query):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with one_refresh():
        for n in range(3):
            _listed_call(n)
        make(title="Appel clos listé", slug="clos-liste", opens_on=today() - 40 * DAY, closes_on=today() - 10 * DAY)
    make(title="Appel listé national", slug="national-liste", trl_min=3, trl_max=6)
    url = f"/?{query}&x=1"  # never the bare home page
    shown = client.get(url).context["paginator"].count
    # The calls the search's own query selects, fetched and counted one by one.
    from django.http import QueryDict

    from calls.reading.filters import CallFilterSet

    search = CallFilterSet(QueryDict(query))
    search.is_valid()
    assert shown == len(list(search.qs)) > 0
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    assert not [q for q in captured if "COUNT(" in q["sql"].upper()]  # facets cached: no count run again


def test_an_english_page_shows_the_registrys_english_title_and_marks_french_text(client):
    make(slug="bilingue", title="Appel bilingue", title_en="Bilingual call", summary="Résumé en français.",
         summary_en="An English summary.", description="Une description en français.")
    make(slug="francais", title="Appel seulement en français", summary="Résumé seulement en français.")
    english = client.get("/en/appels/bilingue/").content.decode()
    assert "<h1>Bilingual call</h1>" in english and "An English summary." in english
    assert '<div lang="fr"><p>Une description en français.</p></div>' in english
    assert english.count("Parts of this page are in French") == 1
    french = client.get("/appels/bilingue/").content.decode()
    assert "<h1>Appel bilingue</h1>" in french and "Parts of this page" not in french
    assert "Une partie de cette page" not in french
    search = client.get("/en/").content.decode()
    assert ">Bilingual call</a>" in search
    assert ' lang="fr">Appel seulement en français</a>' in search


def test_funder_and_programme_names_keep_their_official_form_with_an_english_gloss_on_english_pages(client):
    funder = FunderFactory(name="Agence nationale de la recherche", slug="anr",
                           name_en="French National Research Agency")
    programme = ProgrammeFactory(name="Plan innovation santé", slug="pis", name_en="Health innovation plan")
    call = make(title="Appel glosé", slug="glose", programme=programme)
    CallFunderFactory(call=call, funder=funder)
    funder_glossed = "Agence nationale de la recherche (French National Research Agency)"
    programme_glossed = "Plan innovation santé (Health innovation plan)"
    pages = ["/financeurs/anr/", "/programmes/pis/", "/appels/glose/", "/financeurs/", "/programmes/"]
    for path in pages:
        english = client.get("/en" + path).content.decode()
        french = client.get(path).content.decode()
        expected = {"/financeurs/anr/": [funder_glossed], "/programmes/pis/": [programme_glossed],
                    "/appels/glose/": [funder_glossed, programme_glossed], "/financeurs/": [funder_glossed],
                    "/programmes/": [programme_glossed]}[path]
        for name in expected:
            assert name in english, (path, name)
            official = name.split(" (")[0]
            assert official in french and name not in french, (path, name)
            assert "French National Research Agency" not in french and "Health innovation plan" not in french
    title = re.search(r"<title>(.*?)</title>", client.get("/en/financeurs/anr/").content.decode(), re.S).group(1)
    assert funder_glossed in title
    title = re.search(r"<title>(.*?)</title>", client.get("/en/programmes/pis/").content.decode(), re.S).group(1)
    assert programme_glossed in title


def test_a_name_without_gloss_reads_the_same_in_both_languages(client):
    FunderFactory(name="Bpifrance", slug="bpifrance")
    english = client.get("/en/financeurs/bpifrance/").content.decode()
    assert "<h1>Bpifrance" in english and "Bpifrance (" not in english
