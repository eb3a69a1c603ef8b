"""One validation: the same bad call is refused the same way (the same field, the same message)
whichever path writes it: the admin's add and change forms, the CSV import, a partner's API
submission, the loader reading a data entry, an importer, and a new edition."""
import datetime

import pytest
import tablib
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from calls import services
from calls.curation.resources import CallResource
from calls.importing.generic import MappedImporter, Mapping
from calls.importing.loading import load_registry
from calls.models import Call, Provenance
from tests.admin_forms import ADMIN, call_form, change_form_data, inline_management
from tests.factories import CallFactory, CeilingFactory, SourceFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

FLOOR_ABOVE_CEILING = (
    "The floor per project (500,000 €) is above a ceiling per project (100,000 €): a project's ceiling cannot "
    "be below its floor. Lower the floor, or correct the ceiling."
)
CLOSING_BEFORE_OPENING = "The closing date cannot be before the opening date."

# Each bad call: the fields that make it bad, the field refused and its message.
BAD_CALLS = {
    "floor above a ceiling": ({"floor_eur": 500_000}, "floor_eur", FLOOR_ABOVE_CEILING),
    "closing before opening": (
        {"opens_on": datetime.date(2027, 3, 31), "closes_on": datetime.date(2027, 1, 15)},
        "closes_on", CLOSING_BEFORE_OPENING,
    ),
}
COVERS = "opens_on, closes_on, floor_eur, ceilings"
COLUMNS = {"floor_eur": "Floor per project (EUR)", "opens_on": "Opens on", "closes_on": "Closes on"}  # the CSV's


def _text(value):
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


def published_call_with_a_ceiling():
    """A published call, its ceiling per project 100,000 €, every figure sourced."""
    call = CallFactory(slug="aap-plafond", opens_on=datetime.date(2027, 1, 15), closes_on=datetime.date(2027, 3, 31))
    CeilingFactory(call=call, amount_eur=100_000)
    SourceFactory(call=call, covers=COVERS)
    return call


@pytest.mark.parametrize("bad", BAD_CALLS)
def test_the_admins_add_form_refuses_the_bad_call(curator_client, bad):
    """The add form used to publish a call whose ceiling is below its floor (the change form refused it)."""
    changes, field, message = BAD_CALLS[bad]
    response = curator_client.post(f"{ADMIN}add/", call_form(**{
        "publication_state": "published", **{name: _text(value) for name, value in changes.items()},
        **inline_management("ceilings", 1), "ceilings-0-amount_eur": "100000",
        **inline_management("sources", 1), "sources-0-title": "Cahier des charges",
        "sources-0-url": "https://example.org/cdc.pdf", "sources-0-covers": COVERS,
    }))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert not Call.objects.exists()


@pytest.mark.parametrize("bad", BAD_CALLS)
def test_the_admins_change_form_refuses_the_bad_call(curator_client, bad):
    changes, field, message = BAD_CALLS[bad]
    call = published_call_with_a_ceiling()
    data = change_form_data(curator_client.get(f"{ADMIN}{call.pk}/change/"))
    data.update({name: _text(value) for name, value in changes.items()})
    response = curator_client.post(f"{ADMIN}{call.pk}/change/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    call.refresh_from_db()
    assert (call.floor_eur, call.closes_on) == (None, datetime.date(2027, 3, 31))


@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "import"])
@pytest.mark.parametrize("bad", BAD_CALLS)
def test_the_csv_import_refuses_the_bad_call_on_a_published_call(curator, bad, dry_run):
    """The CSV import used to write a floor above the published call's ceiling."""
    changes, field, message = BAD_CALLS[bad]
    call = published_call_with_a_ceiling()
    exported = CallResource(user=curator).export()
    row = dict(zip(exported.headers, exported[0], strict=True))
    row.update({COLUMNS[name]: _text(value) for name, value in changes.items()})
    incoming = tablib.Dataset([row[h] for h in exported.headers], headers=exported.headers)
    result = CallResource(user=curator).import_data(incoming, dry_run=dry_run)
    assert [row.error_dict for row in result.invalid_rows] == [{field: [message]}]
    call.refresh_from_db()
    assert (call.floor_eur, call.closes_on) == (None, datetime.date(2027, 3, 31))


@pytest.mark.parametrize("bad", BAD_CALLS)
def test_an_api_submission_of_the_bad_call_is_a_422_naming_the_field(bad):
    changes, field, message = BAD_CALLS[bad]
    partner = UserFactory(username="cluster-partner")
    partner.user_permissions.add(Permission.objects.get(codename="submit_call", content_type__app_label="calls"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=partner).key}")
    response = client.post("/api/v1/calls/", {
        "title": "AAP Bioproduction 2027", "call_type": "call_for_projects", "opens_on": "2027-01-15",
        "closes_on": "2027-03-31", "ceilings": [{"amount_eur": 100_000}],
        "sources": [{"title": "Cahier des charges", "url": "https://example.org/cdc.pdf"}],
        **{name: _text(value) if isinstance(value, datetime.date) else value for name, value in changes.items()},
    }, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422, response.content
    assert response.json() == {field: [message]}
    assert not Call.objects.exists()


def data_entry(changes):
    """The bad call as the bundled data's format gives it."""
    return {
        "slug": "aap-plafond", "title": "AAP Bioproduction 2027", "call_type": "call_for_projects",
        "publication_state": "published", "opens_on": "2027-01-15", "closes_on": "2027-03-31",
        "ceilings": [{"amount_eur": 100_000}],
        "sources": [
            {"title": "Cahier des charges", "url": "https://example.org/cdc.pdf", "covers": COVERS.split(", ")},
        ],
        **{name: _text(value) if isinstance(value, datetime.date) else value for name, value in changes.items()},
    }


@pytest.mark.parametrize("bad", BAD_CALLS)
def test_the_loader_refuses_the_bad_call_from_a_data_entry(bad):
    changes, field, message = BAD_CALLS[bad]
    with pytest.raises(ValidationError) as refused:
        load_registry(data={"calls": [data_entry(changes)]})
    assert refused.value.message_dict == {field: [message]}
    assert not Call.objects.exists()


def test_the_loader_refuses_a_ceiling_below_the_floor_when_only_the_rows_change():
    """An entry whose call is unchanged but whose new ceiling is below its floor: checked all the same."""
    load_registry(data={"calls": [data_entry({"floor_eur": 50_000})]})
    entry = data_entry({"floor_eur": 500_000})
    entry["ceilings"] = [{"amount_eur": 100_000}, {"amount_eur": 600_000}]
    Call.objects.filter(slug="aap-plafond").update(floor_eur=500_000)
    with pytest.raises(ValidationError) as refused:
        load_registry(data={"calls": [entry]}, update=True)
    assert refused.value.message_dict == {"floor_eur": [FLOOR_ABOVE_CEILING]}
    assert [c.amount_eur for c in Call.objects.get(slug="aap-plafond").ceilings.all()] == [100_000]


@pytest.mark.parametrize("bad", BAD_CALLS)
def test_an_importer_rejects_the_bad_call_naming_the_field(tmp_path, bad):
    changes, field, message = BAD_CALLS[bad]
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "origin: portail-test\nformat: csv\nid: ref\npage_url: lien\nsource_title: Portail de test\n"
        "fields: {title: titre, call_type: {default: call_for_projects}, opens_on: ouverture, closes_on: cloture,"
        " floor_eur: plancher, ceiling_eur: plafond}\n", encoding="utf-8")
    values = {"opens_on": "2027-01-15", "closes_on": "2027-03-31", "floor_eur": ""}
    values.update({name: _text(value) for name, value in changes.items()})
    export = tmp_path / "export.csv"
    export.write_text(
        "ref,titre,ouverture,cloture,plancher,plafond,lien\n"
        f"R-1,AAP Bioproduction 2027,{values['opens_on']},{values['closes_on']},{values['floor_eur']},100000,"
        "https://example.org/r-1\n", encoding="utf-8")
    importer = MappedImporter(Mapping.read(mapping))
    report = importer.run(importer.read(export))
    assert report.rejected == [("record R-1", f"{field}: {message}")]
    assert not Provenance.objects.exists() and not Call.objects.exists()


def test_a_new_edition_of_a_call_whose_ceiling_is_below_its_floor_is_refused(curator_client):
    """Old data written before the rule (straight to the table): its new edition is refused, with the message."""
    call = published_call_with_a_ceiling()
    Call.objects.filter(pk=call.pk).update(floor_eur=500_000)
    call.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.create_new_edition(call=call)
    assert refused.value.message_dict == {"floor_eur": [FLOOR_ABOVE_CEILING]}
    response = curator_client.post(ADMIN, {"action": "new_edition", "_selected_action": [call.pk]}, follow=True)
    assert FLOOR_ABOVE_CEILING.replace("'", "&#x27;") in response.content.decode()
    assert not Call.objects.filter(previous_edition=call).exists()


def test_negative_amounts_are_refused_in_the_curators_words_not_a_constraints_name(curator_client):
    response = curator_client.post(f"{ADMIN}add/", call_form(**{
        "total_budget_eur": "-1", **inline_management("rounds", 1), "rounds-0-name": "Vague 1",
        "rounds-0-budget_eur": "-5", "rounds-0-opens_on_precision": "day", "rounds-0-closes_on_precision": "day",
    }))
    content = response.content.decode()
    assert response.context["adminform"].form.errors["total_budget_eur"] == ["An amount cannot be negative."]
    assert "Constraint" not in content and "_not_negative" not in content
    assert content.count("An amount cannot be negative.") == 2  # the call's budget and the round's
    assert not Call.objects.exists()
    call_command("check", verbosity=0)


def test_a_programmes_negative_budget_is_refused_in_words(curator_client):
    response = curator_client.post("/en/admin/calls/programme/add/", {
        "name": "Programme", "slug": "programme", "budget_eur": "-3", "starts_on_precision": "day",
        "ends_on_precision": "day", **inline_management("sources", 0),
    })
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["budget_eur"] == ["An amount cannot be negative."]
    assert "Constraint" not in response.content.decode()
