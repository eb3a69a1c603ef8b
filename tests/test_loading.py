"""The bundled data: loading it is idempotent, and every figure and date cites its source."""
import json

import pytest
from django.core.management import call_command

from calls import read_model
from calls.loading import KINDS, load_registry, read_data
from calls.models import Call, CallFacet, Funder, Laureate, Programme, Provenance, Source
from tests.admin_forms import change_form_data
from tests.factories import FunderFactory, ThemeFactory

DATA = read_data()

CALL_SOURCED = {
    "opens_on": "opens_on", "closes_on": "closes_on", "rounds": "rounds", "total_budget_eur": "total_budget_eur",
    "ceilings": "ceilings", "floor_eur": "floor_eur", "funding_rate_min_pct": "funding_rate",
    "funding_rate_max_pct": "funding_rate", "duration_min_months": "duration", "duration_max_months": "duration",
    "trl_min": "trl", "trl_max": "trl",
}
PROGRAMME_SOURCED = {"budget_eur": "budget_eur", "starts_on": "starts_on", "ends_on": "ends_on"}


def covered(entry):
    return {field for source in entry.get("sources") or [] for field in source.get("covers") or []}


def unsourced(entry, fields):
    given = [key for key in fields if entry.get(key) not in (None, [], "")]
    return [key for key in given if fields[key] not in covered(entry)]


@pytest.mark.parametrize("entry", DATA["calls"], ids=lambda e: e["slug"])
def test_every_amount_and_date_of_a_call_cites_a_source(entry):
    assert unsourced(entry, CALL_SOURCED) == []
    if any(laureate.get("amount_eur") for laureate in entry.get("laureates") or []):
        assert "laureates" in covered(entry)


@pytest.mark.parametrize("entry", DATA["programmes"], ids=lambda e: e["slug"])
def test_every_amount_and_date_of_a_programme_cites_a_source(entry):
    assert unsourced(entry, PROGRAMME_SOURCED) == []


def test_sources_cite_known_documents_with_a_locator():
    keys = {doc["key"] for doc in DATA["documents"]}
    for entry in DATA["calls"] + DATA["programmes"]:
        for source in entry.get("sources") or []:
            assert source.get("document") in keys or source.get("title"), entry["slug"]
            assert source.get("locator"), f"{entry['slug']}: a source needs its section or page"


@pytest.mark.parametrize("kind,key", [
    ("documents", "key"), ("themes", "slug"), ("funders", "slug"), ("programmes", "slug"), ("calls", "slug"),
])
def test_no_entry_is_declared_twice_across_the_data_files(kind, key):
    seen = [entry[key] for entry in DATA[kind]]
    assert sorted({k for k in seen if seen.count(k) > 1}) == []


def test_sources_from_web_pages_say_what_page_and_when_it_was_read():
    for entry in DATA["calls"] + DATA["programmes"]:
        for source in entry.get("sources") or []:
            if source.get("document"):
                continue
            assert source.get("url", "").startswith(("https://", "http://")), entry["slug"]
            assert source.get("title") and source.get("accessed_on"), entry["slug"]


def test_each_call_names_its_funders_and_its_titles_are_not_repeated():
    known = {funder["slug"] for funder in DATA["funders"]}
    titles = [call["title"].casefold() for call in DATA["calls"]]
    assert sorted({t for t in titles if titles.count(t) > 1}) == []
    for call in DATA["calls"]:
        assert {role["funder"] for role in call.get("funders") or []} <= known, call["slug"]


@pytest.mark.django_db
def test_loading_twice_changes_nothing():
    call_command("load_registry", verbosity=0)
    models = [Call, Funder, Programme, Source, Laureate]
    counts = {m: m.objects.count() for m in models}
    history = {m: m.history.count() for m in (Call, Funder, Programme)}
    stamps = dict(Call.objects.values_list("slug", "updated_at"))

    call_command("load_registry", verbosity=0)

    assert {m: m.objects.count() for m in models} == counts
    assert {m: m.history.count() for m in (Call, Funder, Programme)} == history
    assert dict(Call.objects.values_list("slug", "updated_at")) == stamps


@pytest.mark.django_db
def test_the_bundled_registry_holds_what_the_sources_describe():
    call_command("load_registry", verbosity=0)
    assert Call.objects.count() == len(DATA["calls"]) >= 15
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


@pytest.mark.django_db
def test_ambiguities_are_said_in_curator_notes_not_guessed():
    call_command("load_registry", verbosity=0)
    assert Programme.objects.filter(curator_note__contains="2021-2017").exists()


@pytest.mark.django_db
def test_a_change_of_related_rows_only_marks_the_call_changed_for_partners_syncing():
    call_command("load_registry", verbosity=0)
    data = read_data()
    entry = next(e for e in data["calls"] if e["slug"] == "aap-integrateurs-biotherapie-bioproduction")
    before = Call.objects.get(slug=entry["slug"]).updated_at
    entry["ceilings"] = entry["ceilings"][:1]
    from calls.loading import load_registry

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


@pytest.mark.django_db
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


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_an_update_of_unchanged_data_finds_nothing_to_change():
    """The update compares the data as it reads it with the registry as it stored it: no false changes."""
    start_up()
    report = load_registry(data=read_data(), update=True)
    assert (report.updated, report.skipped, report.created, report.gone) == ([], [], [], [])
    assert report.unchanged == sum(len(read_data()[kind.name]) for kind in KINDS)


def refreshes(monkeypatch) -> list:
    """The read model's refreshes from now on (the calls of each), each still done."""
    done, refresh = [], read_model.refresh

    def spy(*, call_ids, **kwargs):
        done.append(sorted(call_ids))
        return refresh(call_ids=call_ids, **kwargs)

    monkeypatch.setattr(read_model, "refresh", spy)
    return done


SMALL_CALL = {
    "slug": "appel-avec-ses-lignes", "title": "Appel avec ses lignes", "call_type": "call_for_projects",
    "publication_state": "draft", "funders": [{"funder": "bpifrance"}], "themes": ["bioproduction"],
    "rounds": [{"name": "Vague 1", "opens_on": "2026-04-01", "closes_on": "2026-06-30"}],
    "ceilings": [{"amount_eur": 600_000}],
}


def facets(call):
    return set(CallFacet.objects.filter(call_index_id=call.pk).values_list("facet", "value"))


@pytest.mark.django_db
def test_loading_a_call_and_its_rows_refreshes_its_read_model_once_after_both(monkeypatch):
    FunderFactory(slug="bpifrance")
    ThemeFactory(slug="bioproduction")
    done, version = refreshes(monkeypatch), read_model.current_version()

    load_registry(data={"calls": [SMALL_CALL]})

    call = Call.objects.get(slug=SMALL_CALL["slug"])
    assert done == [[call.pk]]
    assert read_model.current_version() == version  # a draft never published: nothing public changed
    assert {("funder", "bpifrance"), ("theme", "bioproduction")} <= facets(call)  # rows written before it


@pytest.mark.django_db
@pytest.mark.parametrize("change", [
    {"ceilings": []},  # its rows alone
    {"summary": "Résumé révisé.", "themes": []},  # its own fields and its rows
])
def test_an_update_refreshes_a_changed_call_once(monkeypatch, change):
    FunderFactory(slug="bpifrance")
    ThemeFactory(slug="bioproduction")
    archived = {**SMALL_CALL, "publication_state": "archived"}  # public: its changes move the version
    load_registry(data={"calls": [archived]})
    call = Call.objects.get(slug=SMALL_CALL["slug"])
    done, version = refreshes(monkeypatch), read_model.current_version()

    load_registry(data={"calls": [{**archived, **change}]}, update=True)

    assert done == [[call.pk]]
    assert read_model.current_version() == version + 1
    assert call.ceilings.count() == len(change.get("ceilings", SMALL_CALL["ceilings"]))
    assert (("theme", "bioproduction") in facets(call)) == ("themes" not in change)  # the rows as written


@pytest.mark.django_db
def test_an_update_of_an_unchanged_call_refreshes_nothing(monkeypatch):
    FunderFactory(slug="bpifrance")
    ThemeFactory(slug="bioproduction")
    load_registry(data={"calls": [SMALL_CALL]})
    done, version = refreshes(monkeypatch), read_model.current_version()

    load_registry(data={"calls": [SMALL_CALL]}, update=True)

    assert (done, read_model.current_version()) == ([], version)
