"""The bundled data: loading it is idempotent, and every figure and date cites its source."""
import pytest
from django.core.management import call_command

from calls.loading import read_data
from calls.models import Call, Funder, Laureate, Programme, Source

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

    load_registry(data=data)
    call = Call.objects.get(slug=entry["slug"])
    assert call.ceilings.count() == 1
    assert call.updated_at > before
