"""The bundled registry, loaded once for this module (`bundled_registry`, each test's changes
rolled back): it loads and updates without losing curators' work, renders every page, survives
a dump and a restore, its search and facets say what they give, and every call's stored document
is what the API's declared fields give."""
import json

import pytest
from django.core.management import call_command
from django.http import QueryDict

from calls.importing.dumping import dump_registry
from calls.importing.loading import KINDS, load_registry, read_data
from calls.models import Call, Funder, Laureate, Programme, Provenance, Source, Theme
from calls.reading.filters import FACETS, CallFilterSet
from tests.admin_forms import change_form_data
from tests.helpers import declared_fields_give, empty_the_registry, stored_document, without_bookkeeping

# The whole bundled registry (large data): the slow tier (`make test`, CI), not `make test-quick`.
pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.usefixtures("bundled_registry")]


def _search(query):
    filterset = CallFilterSet(QueryDict(query, mutable=True))
    assert filterset.is_valid(), filterset.errors
    return filterset


BASES = [
    "",  # the home page's default search
    "region=11&beneficiary=startup&amount=500000&trl=4",  # the start-up's journey
    "status=open&status=upcoming&status=closed&status=dates_unknown&foreign=include",  # everything
    "q=bioproduction&region=84",  # words and a facet of the applicant's
]


@pytest.mark.parametrize("base", BASES)
def test_every_facet_count_equals_the_results_after_choosing_that_value(base):
    facets = _search(base).facet_counts()
    checked = 0
    for name in FACETS:
        for value, _label in CallFilterSet.base_filters[name].field.choices:
            if value in ("", None):
                continue
            query = QueryDict(base, mutable=True)
            query.setlist(name, [str(value)])
            results = _search(query.urlencode()).qs.count()
            assert facets[name].get(str(value), 0) == results, (base, name, value)
            checked += 1
    assert checked > 50


def test_the_bundled_data_survives_a_round_trip():
    dump = dump_registry()
    empty_the_registry()
    load_registry(data=dump)
    assert dump_registry() == dump


def test_every_themes_french_and_english_names_find_every_call_of_that_theme_in_the_bundled_registry(client):
    every = {"status": ["open", "upcoming", "closed", "dates_unknown"], "foreign": "include", "page_size": 500}
    missed = {}
    for theme in Theme.objects.all():
        theirs = set(Call.objects.published().filter(themes=theme).values_list("slug", flat=True))
        for name in (theme.name, theme.name_en):
            response = client.get("/api/v1/calls/", {"q": name, **every})
            assert response.status_code == 200, response.content
            lost = theirs - {call["slug"] for call in response.json()["results"]}
            if lost:
                missed[name] = sorted(lost)
    assert missed == {}


def test_the_bundled_data_renders_every_page(client, settings):
    # Hundreds of pages from one client: more than the per-client page rate lets through.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "pages": "100000/minute"},
    }
    assert client.get("/").status_code == 200
    assert client.get("/?status=open&status=upcoming&status=closed").status_code == 200
    assert client.get("/calendrier/").status_code == 200
    for call in Call.objects.published():
        assert client.get(call.get_absolute_url()).status_code == 200, call.slug
        for role in call.funder_roles.all():
            assert client.get(role.funder.get_absolute_url()).status_code == 200
        if call.programme_id:
            assert client.get(call.programme.get_absolute_url()).status_code == 200


def test_the_bundled_data_renders_the_new_pages(client):
    for url in ("/", "/en/", "/panorama/", "/en/panorama/", "/calendrier/", "/calendrier/?past=1", "/a-propos/",
                "/contact/", "/?status=dates_unknown", "/?foreign=include", "/export/appels.csv",
                "/export/echeances.ics?past=1"):
        assert client.get(url).status_code == 200, url


def test_loading_twice_changes_nothing():
    models = [Call, Funder, Programme, Source, Laureate]
    counts = {m: m.objects.count() for m in models}
    history = {m: m.history.count() for m in (Call, Funder, Programme)}
    stamps = dict(Call.objects.values_list("slug", "updated_at"))

    call_command("load_registry", verbosity=0)

    assert {m: m.objects.count() for m in models} == counts
    assert {m: m.history.count() for m in (Call, Funder, Programme)} == history
    assert dict(Call.objects.values_list("slug", "updated_at")) == stamps


def test_the_bundled_registry_holds_what_the_sources_describe():
    assert Call.objects.count() == len(read_data()["calls"]) >= 15
    integrators = Call.objects.get(slug="aap-integrateurs-biotherapie-bioproduction")
    assert integrators.ceilings.count() == 2  # one for labelled platforms, one for new ones
    assert integrators.laureates.exists()
    assert integrators.previous_edition is not None
    assert integrators.closes_on_display == "2022"
    assert integrators.status == "closed"
    for slug in ("ami-competences-metiers-avenir", "pm-up-relance", "innov-up"):
        assert Call.objects.filter(slug=slug).exists()
    for name in ("Bpifrance", "Lyonbiopôle", "GenoTher"):
        assert Funder.objects.filter(name__icontains=name).exists() or Programme.objects.filter(
            name__icontains=name
        ).exists()
    sabb = Programme.objects.get(calls=integrators)
    assert sabb.parent is not None  # under France 2030
    assert Funder.objects.exclude(country="FR").exists()  # foreign references of the thesis, Part 3


def test_ambiguities_are_said_in_curator_notes_not_guessed():
    assert Programme.objects.filter(curator_note__contains="2021-2017").exists()


def test_a_change_of_related_rows_only_marks_the_call_changed_for_partners_syncing():
    data = read_data()
    entry = next(e for e in data["calls"] if e["slug"] == "aap-integrateurs-biotherapie-bioproduction")
    before = Call.objects.get(slug=entry["slug"]).updated_at
    entry["ceilings"] = entry["ceilings"][:1]
    load_registry(data=data, update=True)
    call = Call.objects.get(slug=entry["slug"])
    assert call.ceilings.count() == 1
    assert call.updated_at > before


ADMIN = "/en/admin/calls/call/"


EDITED = "aap-integrateurs-biotherapie-bioproduction"


ARCHIVED = "pm-up-relance"


def start_up():
    """What `make run` and `make serve` do on every start before serving."""
    call_command("migrate", verbosity=0)
    call_command("load_registry", verbosity=0)


def curators_work(client):
    """In the admin: correct a title and add a round to one bundled call, archive another."""
    call = Call.objects.get(slug=EDITED)
    data = change_form_data(client.get(f"{ADMIN}{call.pk}/change/"))
    data["title"] = "Intégrateurs Biothérapie-Bioproduction (titre corrigé)"
    new = int(data["rounds-TOTAL_FORMS"])
    data.update({
        "rounds-TOTAL_FORMS": str(new + 1), f"rounds-{new}-name": "Relève ajoutée par une curatrice",
        f"rounds-{new}-opens_on": "2022-09-01", f"rounds-{new}-opens_on_precision": "day",
        f"rounds-{new}-closes_on": "2022-10-15", f"rounds-{new}-closes_on_precision": "day",
        "unsourced_acknowledged": "on",  # the admin asks: the new round's dates cite no source yet
    })
    response = client.post(f"{ADMIN}{call.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    archived = Call.objects.get(slug=ARCHIVED)
    assert client.post(ADMIN, {"action": "archive", "_selected_action": [archived.pk]}).status_code == 302
    return call.rounds.count()


def assert_curators_work_survives(rounds):
    call = Call.objects.get(slug=EDITED)
    assert call.title == "Intégrateurs Biothérapie-Bioproduction (titre corrigé)"
    assert call.rounds.count() == rounds
    assert call.rounds.filter(name="Relève ajoutée par une curatrice").exists()
    assert Call.objects.get(slug=ARCHIVED).publication_state == "archived"


def test_a_restart_never_undoes_a_curators_work(curator_client):
    start_up()
    rounds = curators_work(curator_client)
    history = Call.history.filter(slug=EDITED).count()

    start_up()
    start_up()

    assert_curators_work_survives(rounds)
    assert Call.history.filter(slug=EDITED).count() == history  # a restart writes nothing at all


def test_the_update_command_skips_what_curators_changed_and_lists_it(curator_client, capsys):
    start_up()
    rounds = curators_work(curator_client)
    data = read_data()
    edited = next(e for e in data["calls"] if e["slug"] == EDITED)
    edited["title"] = "Titre révisé dans les données livrées"
    edited["summary"] = "Résumé révisé dans les données livrées."  # a field no curator touched
    edited["rounds"] = []
    archived = next(e for e in data["calls"] if e["slug"] == ARCHIVED)
    archived["publication_state"] = "published"

    report = load_registry(data=data, update=True)

    assert_curators_work_survives(rounds)
    call = Call.objects.get(slug=EDITED)
    assert call.summary == "Résumé révisé dans les données livrées."
    skipped = {(key, name): why for _kind, key, name, why, _now, _new in report.skipped}
    assert skipped[(EDITED, "title")] == "changed by a curator since it was loaded"
    assert skipped[(EDITED, "rounds")] == "changed by a curator since it was loaded"
    assert skipped[(ARCHIVED, "publication_state")] == "archived by a curator"
    assert [(key, name) for _kind, key, name, *_ in report.updated] == [(EDITED, "summary")]
    provenance = Provenance.objects.get(origin="bundled-data", external_id=EDITED)
    assert provenance.pending["title"] == "Titre révisé dans les données livrées"
    latest = call.history.first()
    assert latest.history_change_reason == "bundled data" and latest.history_user is None


def test_the_update_command_prints_per_field_what_it_would_change_and_a_dry_run_writes_nothing(tmp_path, capsys):
    start_up()
    data = read_data()
    next(e for e in data["calls"] if e["slug"] == EDITED)["summary"] = "Nouveau résumé."
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()

    call_command("load_registry", str(changed), "--update", "--dry-run")

    out = capsys.readouterr().out
    assert f"~ calls {EDITED}.summary:" in out and "Nouveau résumé." in out
    assert "Dry run, nothing written" in out
    assert Call.objects.get(slug=EDITED).summary != "Nouveau résumé."
    call_command("load_registry", str(changed), "--update", verbosity=0)
    assert Call.objects.get(slug=EDITED).summary == "Nouveau résumé."


def test_seeding_adds_entries_that_are_missing_and_nothing_else():
    start_up()
    data = read_data()
    data["calls"].append({**next(e for e in data["calls"] if e["slug"] == EDITED), "slug": "nouvel-appel-livre",
                          "title": "Un appel ajouté aux données livrées", "previous_edition": None})
    next(e for e in data["calls"] if e["slug"] == EDITED)["summary"] = "Changé dans le fichier"

    report = load_registry(data=data)

    assert report.created == [("calls", "nouvel-appel-livre")]
    assert Call.objects.get(slug="nouvel-appel-livre").published_at is not None
    assert Call.objects.get(slug=EDITED).summary != "Changé dans le fichier"


def test_an_update_of_unchanged_data_finds_nothing_to_change():
    """The update compares the data as it reads it with the registry as it stored it: no false changes."""
    start_up()
    report = load_registry(data=read_data(), update=True)
    assert (report.updated, report.skipped, report.created, report.gone) == ([], [], [], [])
    assert report.unchanged == sum(len(read_data()[kind.name]) for kind in KINDS)


def test_at_least_fifteen_series_show_their_next_edition_on_the_day_the_data_was_checked():
    """Announced (a published next edition still open or to come) or expected (an estimate with its
    basis: past editions' dates, or a source stating the rhythm), on 2026-12-06."""
    import datetime

    import time_machine

    from calls.choices import Status
    from calls.reading.editions import expected_editions

    with time_machine.travel(datetime.datetime(2026, 12, 6, 12, tzinfo=datetime.UTC), tick=False):
        expected = set(expected_editions())
        announced = {
            call.pk for call in Call.objects.published().exclude(previous_edition=None).with_status()
            if call.current_status in (Status.OPEN, Status.UPCOMING)
        }
    assert len(expected | announced) >= 15, (len(expected), len(announced))


def test_the_bundled_regions_are_found_by_the_names_their_sources_give_them():
    """Aliases of the bundled data (a source's or the funder's own name), as importers match them."""
    from calls.matching import FunderIndex

    index = FunderIndex()
    assert index.find("Région Occitanie").slug == "region-occitanie"
    assert index.find("Région Occitanie / Pyrénées-Méditerranée").slug == "region-occitanie"
    assert index.find("Région PACA").slug == "region-provence-alpes-cote-d-azur"
    assert index.find("Région Provence-Alpes-Côte d'Azur").slug == "region-provence-alpes-cote-d-azur"
    assert index.find("AD'OCC").slug == "ad-occitanie"


def test_every_bundled_calls_document_is_what_the_api_serializers_fields_give():
    calls = list(Call.objects.order_by("pk"))
    assert len(calls) > 100  # the bundled registry, drafts and archived calls too
    compared = 0
    for call in calls:
        document = stored_document(call)
        expected = declared_fields_give(call)
        assert list(without_bookkeeping(document)) == list(expected), call.slug  # same keys, same order
        assert without_bookkeeping(document) == expected, call.slug
        compared += 1
    assert compared == len(calls)
