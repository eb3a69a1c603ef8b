"""The bundled data: loading it is idempotent, and every figure and date cites its source."""

import pytest

from calls.importing.loading import load_registry, read_data
from calls.models import Call, CallFacet
from calls.reading import read_model
from tests.factories import FunderFactory, ThemeFactory

DATA = read_data()

CALL_SOURCED = {
    "opens_on": "opens_on", "closes_on": "closes_on", "rounds": "rounds", "total_budget_eur": "total_budget_eur",
    "ceilings": "ceilings", "floor_eur": "floor_eur", "funding_rate_min_pct": "funding_rate",
    "funding_rate_max_pct": "funding_rate", "duration_min_months": "duration", "duration_max_months": "duration",
    "trl_min": "trl", "trl_max": "trl",
    "recurrence": "recurrence", "editions_per_year": "recurrence", "edition_year": "edition_year",
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


@pytest.mark.django_db
def test_a_funders_aliases_are_optional_in_the_data_and_a_single_name_is_one_alias():
    from calls.models import Funder

    base = {"kind": "state_agency", "country": "FR"}
    load_registry(data={"funders": [
        {**base, "slug": "sans-alias", "name": "Sans alias"},
        {**base, "slug": "un-alias", "name": "Un alias", "aliases": "Nom seul"},
        {**base, "slug": "deux-alias", "name": "Deux alias", "aliases": ["Nom long officiel", "NLO"]},
    ]})
    assert {f.slug: f.alias_list for f in Funder.objects.filter(slug__in=["sans-alias", "un-alias", "deux-alias"])} == {
        "sans-alias": [], "un-alias": ["Nom seul"], "deux-alias": ["Nom long officiel", "NLO"]}
    with pytest.raises(ValueError, match="aliases is a list of names"):
        load_registry(data={"funders": [{**base, "slug": "mauvais", "name": "Mauvais", "aliases": [1, 2]}]})
