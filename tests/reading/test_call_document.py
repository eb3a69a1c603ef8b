"""The stored document of a call: what the read model keeps of a call's API representation.

It must be what the API's declared fields (`CallSerializer`, which the schema describes) give for
the call, field by field, whatever the language of the request that built it.
"""
import ast
import datetime
from pathlib import Path

import pytest
from django.utils import translation

from calls.choices import CallType, Scope
from calls.models import Call, Region
from calls.reading import read_model
from tests.factories import (
    CallFactory,
    CallFunderFactory,
    CeilingFactory,
    DocumentFactory,
    FunderFactory,
    LaureateFactory,
    ProgrammeFactory,
    RoundFactory,
    SourceFactory,
    ThemeFactory,
)
from tests.helpers import declared_fields_give, reindex, stored_document, without_bookkeeping

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def call_with_every_kind_of_row():
    """A call with a programme, two funders, rounds, ceilings, sources (a document's and one of its
    own), laureates, codes of every vocabulary and a previous edition; its instants fixed."""
    previous = CallFactory(slug="essai-2025", title="Bioproduction 2025")
    call = CallFactory(
        slug="essai-2026", title="Bioproduction 2026", title_en="", summary="Résumé de l'appel.",
        summary_en="The call in short.", description="Texte de l'appel.", call_type=CallType.CALL_FOR_PROJECTS,
        programme=ProgrammeFactory(slug="programme-essai", name="Programme d'essai", name_en="Trial programme"),
        opens_on=datetime.date(2026, 2, 1), closes_on=datetime.date(2026, 9, 30), closes_on_precision="month",
        recurrence="", edition_year=2026, total_budget_eur=40_000_000, floor_eur=500_000,
        funding_rate_min_pct=25, funding_rate_max_pct=50, duration_min_months=12, duration_max_months=36,
        scope=Scope.REGIONAL, trl_min=4, trl_max=7, consortium_required=None, eligibility="PME et ETI",
        eligible_expenses="", apply_url="https://example.org/candidater", previous_edition=previous,
        last_verified_on=datetime.date(2026, 1, 20),
    )
    CallFunderFactory(call=call, funder=FunderFactory(slug="banque-essai", name="Banque d'essai", kind="public_bank"))
    CallFunderFactory(call=call, role="co_funder", funder=FunderFactory(
        slug="region-essai", name="Région d'essai", name_en="Trial region", acronym="RE",
        kind="regional_authority"))
    RoundFactory(call=call, name="Vague 2", opens_on=datetime.date(2026, 6, 1), closes_on=datetime.date(2026, 9, 30),
                 closes_on_precision="month")
    RoundFactory(call=call, name="Vague 1", opens_on=datetime.date(2026, 2, 1), closes_on=datetime.date(2026, 4, 15),
                 budget_eur=10_000_000)
    CeilingFactory(call=call, amount_eur=2_000_000, condition="Nouvelles plateformes")
    CeilingFactory(call=call, amount_eur=3_000_000, condition="Plateformes labellisées")
    SourceFactory(call=call, document=DocumentFactory(title="Cahier des charges", url="https://example.org/cdc.pdf"),
                  locator="p. 12", accessed_on=datetime.date(2026, 1, 5))
    SourceFactory(call=call, document=None, title="Page de l'appel", url="https://example.org/appel", locator="")
    LaureateFactory(call=call, organisation="Bioprod SAS", project="Proto", amount_eur=1_500_000,
                    region=Region.objects.get(code="84"), year=2023)
    LaureateFactory(call=call, organisation="Alpha Bio", project="", amount_eur=None, region=None, year=2024)
    call.beneficiaries.set(["startup", "sme"])
    call.aid_forms.set(["repayable_advance", "grant"])
    call.regions.set(["84", "11"])
    call.themes.set([ThemeFactory(slug="theme-essai-b", name_en="Theme B"), ThemeFactory(slug="theme-essai-a")])
    reindex(call=call)
    Call.objects.filter(pk=call.pk).update(
        created_at=datetime.datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=datetime.UTC),
        updated_at=datetime.datetime(2026, 6, 10, 8, 30, tzinfo=datetime.UTC),
    )
    return call


def test_a_call_with_every_kind_of_row_is_stored_with_every_value_as_the_api_writes_it():
    document = stored_document(call_with_every_kind_of_row())
    assert list(document.items()) == list({
        "slug": "essai-2026",
        "url": "/appels/essai-2026/",
        "title": "Bioproduction 2026",
        "title_en": None,
        "summary": "Résumé de l'appel.",
        "summary_en": "The call in short.",
        "description": "Texte de l'appel.",
        "call_type": "call_for_projects",
        "programme": {"slug": "programme-essai", "name": "Programme d'essai"},
        "funders": [
            {"slug": "banque-essai", "name": "Banque d'essai", "acronym": "", "kind": "public_bank", "role": "funder"},
            {"slug": "region-essai", "name": "Région d'essai", "acronym": "RE", "kind": "regional_authority",
             "role": "co_funder"},
        ],
        "opens_on": "2026-02-01",
        "opens_on_precision": "day",
        "closes_on": "2026-09-30",
        "closes_on_precision": "month",
        "is_rolling": False,
        "recurrence": None,
        "editions_per_year": None,
        "edition_year": 2026,
        "discontinued": False,
        "rounds": [
            {"name": "Vague 1", "opens_on": "2026-02-01", "opens_on_precision": "day", "closes_on": "2026-04-15",
             "closes_on_precision": "day", "budget_eur": 10_000_000},
            {"name": "Vague 2", "opens_on": "2026-06-01", "opens_on_precision": "day", "closes_on": "2026-09-30",
             "closes_on_precision": "month", "budget_eur": None},
        ],
        "total_budget_eur": 40_000_000,
        "ceilings": [
            {"amount_eur": 3_000_000, "condition": "Plateformes labellisées"},
            {"amount_eur": 2_000_000, "condition": "Nouvelles plateformes"},
        ],
        "max_ceiling_eur": 3_000_000,
        "floor_eur": 500_000,
        "funding_rate_min_pct": 25,
        "funding_rate_max_pct": 50,
        "duration_min_months": 12,
        "duration_max_months": 36,
        "aid_forms": ["grant", "repayable_advance"],
        "beneficiaries": ["sme", "startup"],
        "scope": "regional",
        "country": "FR",
        "regions": ["11", "84"],
        "themes": ["theme-essai-a", "theme-essai-b"],
        "trl_min": 4,
        "trl_max": 7,
        "consortium_required": None,
        "eligibility": "PME et ETI",
        "eligible_expenses": None,
        "apply_url": "https://example.org/candidater",
        "apply_url_kind": "application",
        "sources": [
            {"title": "Cahier des charges", "url": "https://example.org/cdc.pdf", "locator": "p. 12",
             "accessed_on": "2026-01-05"},
            {"title": "Page de l'appel", "url": "https://example.org/appel", "locator": "", "accessed_on": None},
        ],
        "laureates": [
            {"organisation": "Alpha Bio", "project": "", "amount_eur": None, "region": None, "year": 2024},
            {"organisation": "Bioprod SAS", "project": "Proto", "amount_eur": 1_500_000, "region": "84",
             "year": 2023},
        ],
        "publication_state": "published",
        "last_verified_on": "2026-01-20",
        "created_at": "2026-01-05T10:00:00.123456+01:00",  # Europe/Paris, as DRF writes it
        "updated_at": "2026-06-10T10:30:00+02:00",
        "_format": 1,
        "_stamp": "2026-06-10T08:30:00+00:00",  # the last save, in UTC
    }.items())


def test_the_api_serves_a_call_as_its_stored_document_with_todays_and_the_requests_parts(client):
    call = call_with_every_kind_of_row()
    read_model.refresh(call_ids=[call.pk])
    document = without_bookkeeping(stored_document(call))
    served = client.get("/api/v1/calls/essai-2026/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert served == {**document, "url": "http://testserver/appels/essai-2026/", "status": served["status"],
                      "next_deadline": served["next_deadline"], "previous_edition": "essai-2025",
                      "next_edition": None}
    assert declared_fields_give(call) == document


def test_a_document_built_in_english_equals_one_built_in_french():
    call = call_with_every_kind_of_row()
    with translation.override("fr"):
        french = stored_document(call)
    with translation.override("en"):
        english = stored_document(call)
    assert french == english
    assert french["url"] == "/appels/essai-2026/"  # never /en/
    assert french["programme"] == {"slug": "programme-essai", "name": "Programme d'essai"}  # no gloss
    assert french["funders"][1]["name"] == "Région d'essai"
    assert (french["call_type"], french["scope"], french["themes"]) == (
        "call_for_projects", "regional", ["theme-essai-a", "theme-essai-b"])


def test_the_texts_the_api_declares_null_when_empty_are_null_in_the_document():
    from calls.api.serializers import CallSerializer, OptionalChoiceField, OptionalTextField

    declared = [name for name, field in CallSerializer().fields.items()
                if isinstance(field, OptionalTextField | OptionalChoiceField)]
    assert sorted(declared) == ["apply_url", "eligible_expenses", "recurrence", "summary_en", "title_en"]
    call = CallFactory(slug="essai-sans-textes", title_en="", summary_en="", recurrence="", eligible_expenses="",
                       apply_url="")
    document = stored_document(call)
    assert [document[name] for name in sorted(declared)] == [None, None, None, None, None]


# -- The read side borrows nothing from the API ------------------------------------------------------

API_MODULES = ("calls.api", "rest_framework", "drf_spectacular", "calls.site.views", "calls.site.templatetags")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (inside functions too), relative ones resolved."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            modules.add(module)
            modules.update(f"{module}.{alias.name}" for alias in node.names)  # `from calls import api`
    return modules


@pytest.mark.parametrize("path", ["calls/reading/documents.py", "calls/reading/read_model.py"])
def test_the_read_sides_document_imports_nothing_of_the_api(path):
    modules = imported_modules(ROOT / path)
    assert "calls.fields" in modules or "calls.models" in modules or "calls" in modules  # the parse found imports
    borrowed = sorted(module for module in modules
                      if any(module == api or module.startswith(api + ".") for api in API_MODULES))
    assert borrowed == []


def test_the_document_is_built_from_the_domain_and_django_only():
    """`calls/reading/documents.py` reads the call's fields, its models, vocabularies and dates: it
    can move into a read-side package of its own."""
    import sys

    allowed = ("calls.models", "calls.choices", "calls.fields", "calls.dates", "django")
    modules = imported_modules(ROOT / "calls/reading/documents.py") - {"calls"}
    outside = sorted(module for module in modules if module.split(".")[0] not in sys.stdlib_module_names
                     and not any(module == name or module.startswith(name + ".") for name in allowed))
    assert outside == []
