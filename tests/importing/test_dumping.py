"""Backup and restore: a dump loaded into an empty registry gives the same registry."""
import datetime
import json

import pytest
from django.core.management import call_command

from calls.importing.dumping import dump_registry
from calls.importing.loading import load_registry
from calls.models import (
    AidFormType,
    BeneficiaryType,
    Call,
    Funder,
    Programme,
    Region,
)
from tests.factories import (
    CallFactory,
    CallFunderFactory,
    CeilingFactory,
    DocumentFactory,
    LaureateFactory,
    ProgrammeFactory,
    RoundFactory,
    SourceFactory,
    ThemeFactory,
    UserFactory,
    one_refresh,
)
from tests.helpers import empty_the_registry, reindex

pytestmark = pytest.mark.django_db


def generated_registry(size=12):
    parent = ProgrammeFactory(slug="france-2030", budget_eur=54_000_000_000,
                              starts_on=datetime.date(2021, 1, 1), starts_on_precision="year")
    child = ProgrammeFactory(slug="sabb", parent=parent, name_en="Biotherapies acceleration strategy")
    SourceFactory(call=None, programme=parent, covers="budget_eur, starts_on")
    document = DocumentFactory(key="these", url="https://example.org/these")
    themes = [ThemeFactory(slug=f"theme-{n}") for n in range(3)]
    partner = UserFactory(username="cluster-partner")
    previous = None
    states = ["published", "draft", "archived"]
    with one_refresh():  # the read model brought up to date once, at the end
        for n in range(size):
            call = CallFactory(
                slug=f"generated-{n:03d}", programme=child if n % 2 else None,
                previous_edition=previous if n % 4 else None, publication_state=states[n % 3],
                closes_on=datetime.date(2022, 12, 31), closes_on_precision="year", opens_on=None,
                total_budget_eur=n * 100_000 or None, trl_min=2, trl_max=6, consortium_required=n % 2 == 0,
                submitted_by=partner if n % 3 == 1 else None, scope="regional" if n % 5 == 0 else "national",
            )
            call.themes.set(themes[: n % 3 + 1])
            reindex(call=call)
            call.beneficiaries.set(BeneficiaryType.objects.filter(code__in=["startup", "sme"][: n % 2 + 1]))
            reindex(call=call)
            call.aid_forms.set(AidFormType.objects.filter(code="grant"))
            reindex(call=call)
            if call.scope == "regional":
                call.regions.set(Region.objects.filter(code__in=["11", "84"]))
                reindex(call=call)
            CallFunderFactory(call=call, role="operator", funder__name_en="Glossed funder" if n == 0 else "",
                              funder__aliases="Nom officiel long\nNOL" if n == 1 else "")
            # Within the call's window (a call's window covers its rounds: calls.rules), its opening unknown.
            RoundFactory(call=call, name="Vague 1", opens_on=None, closes_on=datetime.date(2022, 3, 1))
            CeilingFactory(call=call, amount_eur=600_000, condition="plateformes labellisées")
            SourceFactory(call=call, document=document, locator=f"§{n}", covers="ceilings, closes_on")
            LaureateFactory(call=call, organisation=f"Plateforme {n}", amount_eur=150_000,
                            region=Region.objects.get(code="76"))
            previous = call


def test_a_dump_restored_into_an_empty_registry_gives_the_same_registry(tmp_path):
    generated_registry()
    path = tmp_path / "backup.json"
    call_command("export_registry", str(path))
    dump = json.loads(path.read_text(encoding="utf-8"))
    assert dump["format_version"] == 1
    assert {c["publication_state"] for c in dump["calls"]} == {"published", "draft", "archived"}

    empty_the_registry()
    assert Call.objects.count() == 0
    call_command("load_registry", str(path), verbosity=0)

    assert dump_registry() == dump
    assert Programme.objects.get(slug="sabb").name_en == "Biotherapies acceleration strategy"
    assert Funder.objects.filter(name_en="Glossed funder").count() == 1
    assert {f["name_en"] for f in dump["funders"]} == {"Glossed funder", None}  # null when there is no gloss
    # Aliases are optional: a funder with none has no `aliases` key.
    assert [f["aliases"] for f in dump["funders"] if "aliases" in f] == [["Nom officiel long", "NOL"]]
    assert Funder.objects.get(aliases="Nom officiel long\nNOL").known_names()[1:] == ["Nom officiel long", "NOL"]
    assert Call.objects.get(slug="generated-005").previous_edition.slug == "generated-004"
    assert Call.objects.get(slug="generated-001").submitted_by.username == "cluster-partner"


def test_a_dump_from_a_newer_format_is_refused():
    with pytest.raises(ValueError, match="format"):
        load_registry(data={"format_version": 99})


