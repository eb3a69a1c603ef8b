"""The call's fields are declared once (`calls.fields`), and each surface shows what it declares."""
import csv
import dataclasses
import io

import pytest

from calls import fields
from calls.importing.dumping import call_entry
from calls.importing.loading import load_registry, normalise_call
from calls.models import Call
from tests.factories import CallFactory, FunderFactory, ProgrammeFactory, ThemeFactory

pytestmark = pytest.mark.django_db

# Columns of a call no surface shows or takes: who submitted it, bookkeeping, the read model.
INTERNAL = {"id", "submitted_by", "published_at", "index", "provenance", "next_edition_id"}


def test_every_field_of_the_call_model_is_declared_or_known_to_be_internal():
    """A field added to the model must be declared (or named internal) before any surface shows it."""
    model_fields = {
        field.name for field in Call._meta.get_fields()
        if (field.concrete or field.many_to_many) and not field.auto_created
    }
    declared = {field.name for field in fields.CALL_FIELDS}
    assert model_fields - declared - INTERNAL == set()


def test_no_field_is_declared_twice():
    names = [field.name for field in fields.CALL_FIELDS]
    assert len(names) == len(set(names))


def test_the_api_csv_export_has_the_declared_columns_in_order(client):
    CallFactory(closes_on=None, opens_on=None)
    response = client.get("/api/v1/exports/calls.csv", {"status": "dates_unknown"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(body)))
    assert header == [
        "slug", "url", "title", "status", "call_type", "programme", "funders", "opens_on", "closes_on",
        "is_rolling", "recurrence", "edition_year", "discontinued", "next_deadline", "total_budget_eur",
        "max_ceiling_eur", "floor_eur",
        "funding_rate_min_pct", "funding_rate_max_pct", "aid_forms", "beneficiaries", "scope", "regions",
        "themes", "trl_min", "trl_max", "consortium_required", "apply_url", "publication_state",
        "last_verified_on", "updated_at",
    ]
    assert header == fields.names(csv=True)


def test_a_new_edition_copies_what_recurs_and_nothing_that_belongs_to_one_edition():
    assert set(fields.names(recurs=True, kind="value")) >= {"summary", "eligibility", "trl_min", "floor_eur"}
    assert not set(fields.names(recurs=True)) & {"opens_on", "closes_on", "rounds", "laureates", "last_verified_on",
                                                  "title", "slug", "publication_state"}


# A call's keys in the data format (the bundled data, a dump), in the declared order.
DATA_FORMAT = [
    "slug", "title", "title_en", "summary", "summary_en", "description", "call_type", "programme", "funders",
    "opens_on", "closes_on", "is_rolling", "recurrence", "editions_per_year", "edition_year", "discontinued", "rounds",
    "total_budget_eur", "ceilings", "floor_eur", "funding_rate_min_pct",
    "funding_rate_max_pct", "duration_min_months", "duration_max_months", "aid_forms", "beneficiaries", "scope",
    "country", "regions", "themes", "trl_min", "trl_max", "consortium_required", "eligibility",
    "eligible_expenses", "apply_url", "apply_url_kind", "sources", "laureates", "previous_edition", "publication_state",
    "last_verified_on", "curator_note",
]
# What a dump also keeps, set by the registry or a partner and never by the bundled data.
RESTORED = ["published_at", "submitted_by"]
REQUIRED = {"slug": "appel-minimal", "title": "Appel minimal", "call_type": "call_for_projects"}


def test_the_dump_and_the_loader_hold_the_declared_fields_of_the_data_format():
    assert fields.names(dump=True) == DATA_FORMAT
    assert list(call_entry(CallFactory())) == DATA_FORMAT + RESTORED
    assert list(normalise_call(REQUIRED)) == DATA_FORMAT


def test_the_loader_reads_every_declared_key_of_the_data_format():
    """Each key is given a value other than what leaving it out means: the call loaded from the
    entry dumps back to the entry, key by key."""
    ProgrammeFactory(slug="sabb")
    FunderFactory(slug="bpifrance")
    ThemeFactory(slug="bioproduction")
    CallFactory(slug="appel-complet-2025")
    entry = {
        "slug": "appel-complet-2026", "title": "Appel complet 2026", "title_en": "Full call 2026",
        "summary": "Résumé.", "summary_en": "Summary.",
        "description": "Description.", "call_type": "expression_of_interest", "programme": "sabb",
        "funders": [{"funder": "bpifrance", "role": "operator"}], "opens_on": "2026-03", "closes_on": "2026-09-30",
        "is_rolling": True, "recurrence": "recurring", "editions_per_year": 2, "edition_year": 2026,
        "discontinued": True,
        "rounds": [{"name": "Vague 1", "opens_on": "2026-04-01", "closes_on": "2026-06-30", "budget_eur": 1_000_000}],
        "total_budget_eur": 5_000_000, "ceilings": [{"amount_eur": 600_000, "condition": "plateformes"}],
        "floor_eur": 50_000, "funding_rate_min_pct": 25, "funding_rate_max_pct": 60, "duration_min_months": 12,
        "duration_max_months": 36, "aid_forms": ["grant"], "beneficiaries": ["sme", "startup"],
        "scope": "international", "country": "CH", "regions": ["84"], "themes": ["bioproduction"],
        "trl_min": 3, "trl_max": 6, "consortium_required": True, "eligibility": "PME.",
        "eligible_expenses": "Équipements.", "apply_url": "https://example.org/appel", "apply_url_kind": "contact",
        "sources": [{"document": None, "title": "Page de l'appel", "url": "https://example.org/appel",
                     "locator": "§2", "accessed_on": "2026-01-15", "covers": ["closes_on", "opens_on"]}],
        "laureates": [{"organisation": "Plateforme X", "project": "Projet Y", "amount_eur": 150_000,
                       "region": "76", "year": 2026}],
        "previous_edition": "appel-complet-2025", "publication_state": "draft", "last_verified_on": "2026-01-20",
        "curator_note": "Note.",
    }
    assert list(entry) == DATA_FORMAT
    left_out = normalise_call({name: entry[name] for name in REQUIRED})  # what the other keys mean when absent
    assert [name for name in DATA_FORMAT if entry[name] == left_out[name]] == list(REQUIRED)

    load_registry(data={"calls": [entry]})

    dumped = call_entry(Call.objects.get(slug="appel-complet-2026"))
    assert {name: dumped[name] for name in DATA_FORMAT} == entry


def test_a_field_the_declaration_leaves_out_of_the_data_format_is_neither_dumped_nor_read(monkeypatch):
    declared = [dataclasses.replace(f, dump=False) if f.name == "floor_eur" else f for f in fields.CALL_FIELDS]
    monkeypatch.setattr(fields, "CALL_FIELDS", tuple(declared))
    assert "floor_eur" not in call_entry(CallFactory(floor_eur=10_000))
    load_registry(data={"calls": [{**REQUIRED, "floor_eur": 20_000}]})
    assert Call.objects.get(slug="appel-minimal").floor_eur is None
