"""The curators' CSV: what the admin exports, it imports back unchanged; columns in the curator's
language; funders and sources exported; a row exported before a later edit is refused; the preview
compares values field by field."""
import csv
import io

import pytest

from calls import services
from calls.models import Call
from tests.admin_forms import ADMIN, export_csv, import_csv, import_preview
from tests.factories import CallFactory, CallFunderFactory, FunderFactory, SourceFactory

pytestmark = pytest.mark.django_db


def rows_of(csv_text) -> list[dict]:
    return list(csv.DictReader(io.StringIO(csv_text)))


@pytest.fixture
def call():
    call = CallFactory(
        slug="aap-tableur", title="AAP Tableur", summary="- item", eligibility="=1+1 (une formule pour un tableur)",
        total_budget_eur=3_000_000, publication_state="draft", curator_note="@camille : montant à vérifier",
    )
    CallFunderFactory(call=call, funder=FunderFactory(name="Bpifrance", slug="bpifrance"), role="operator")
    SourceFactory(call=call, document=None, title="Cahier des charges", url="https://example.org/cdc.pdf",
                  covers="closes_on, total_budget_eur")
    return Call.objects.get(pk=call.pk)


def test_what_the_admin_exports_it_imports_back_unchanged(curator_client, call):
    exported = export_csv(curator_client)
    [row] = rows_of(exported)
    assert row["Summary"] == "'- item" and row["Eligibility"].startswith("'=1+1")  # guarded for spreadsheets
    history = call.history.count()

    preview = import_preview(curator_client, exported)
    assert [row.import_type for row in preview.context["result"].rows] == ["skip"]  # nothing changes
    assert curator_client.post(f"{ADMIN}process_import/", import_csv(curator_client, exported)).status_code == 302
    stored = Call.objects.get(pk=call.pk)
    assert (stored.summary, stored.eligibility, stored.curator_note) == (
        "- item", "=1+1 (une formule pour un tableur)", "@camille : montant à vérifier")
    assert stored.history.count() == history


def test_a_text_changed_in_the_sheet_keeps_its_guard_off(curator_client, call):
    exported = export_csv(curator_client).replace("'- item", "'- item revu")
    assert curator_client.post(f"{ADMIN}process_import/", import_csv(curator_client, exported)).status_code == 302
    assert Call.objects.get(pk=call.pk).summary == "- item revu"


def test_columns_carry_labels_in_the_curators_language(curator_client, call):
    english = rows_of(export_csv(curator_client))[0]
    assert {"Slug", "Title", "Total budget (EUR)", "Floor per project (EUR)", "Funders", "Sources",
            "Edit version"} <= set(english)
    assert "total_budget_eur" not in english and "Total Budget Eur" not in english
    french = export_csv(curator_client, admin="/admin/calls/call/")
    assert {"Titre", "Budget total (EUR)", "Plancher par projet (EUR)", "Financeurs"} <= set(rows_of(french)[0])
    # A file exported in French imports back from the English admin, unchanged.
    preview = import_preview(curator_client, french)
    assert [row.import_type for row in preview.context["result"].rows] == ["skip"]

    page = curator_client.get(f"{ADMIN}export/").content.decode()
    assert "Total budget (EUR)" in page and "Total Budget Eur" not in page


def test_funders_with_their_roles_and_sources_are_exported(curator_client, call):
    [row] = rows_of(export_csv(curator_client))
    assert row["Funders"] == "Bpifrance (Operator)"
    assert row["Sources"] == (
        "Cahier des charges <https://example.org/cdc.pdf> [covers: closing date, total budget (EUR)]")


def test_a_row_exported_before_a_later_edit_is_refused_naming_it_and_what_changed(curator_client, curator, call):
    exported = export_csv(curator_client)
    [row] = rows_of(exported)
    exported_version = row["Edit version"]
    assert exported_version == call.updated_at.isoformat()

    call.title = "AAP Tableur (titre revu)"
    services.save_call(call=call, actor=curator, reason="admin")
    preview = import_preview(curator_client, exported.replace("'- item", "'- item revu"))
    [invalid] = preview.context["result"].invalid_rows
    [message] = invalid.error_dict["edit_version"]
    message = str(message.message if hasattr(message, "message") else message)
    assert message.startswith("“aap-tableur” was changed by camille after this file was exported")
    assert exported_version in message and call.updated_at.isoformat() in message
    assert "title: « AAP Tableur » → « AAP Tableur (titre revu) »" in message
    assert preview.context.get("confirm_form") is None  # nothing to confirm
    assert Call.objects.get(pk=call.pk).summary == "- item"


def test_the_import_preview_compares_values_field_by_field(curator_client, call):
    exported = export_csv(curator_client)
    changed = exported.replace(",3000000,", ",3500000,")
    assert changed != exported
    preview = import_preview(curator_client, changed)
    result = preview.context["result"]
    cells = dict(zip(result.diff_headers, result.valid_rows()[0].diff, strict=True))
    assert cells["Total budget (EUR)"] == "<del>3,000,000</del> → <ins>3,500,000</ins>"
    assert cells["Title"] == "AAP Tableur"
    assert set(cells) == {"Slug", "Title", "Total budget (EUR)"}
