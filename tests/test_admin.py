"""The curators' admin, driven through the client as a curator (in English: /en/admin/)."""
import datetime

import pytest
import tablib
from django.contrib.auth.models import Permission

from calls.models import Call
from calls.querysets import today
from calls.resources import CallResource
from tests.factories import (
    CallFactory,
    CeilingFactory,
    CuratorFactory,
    FunderFactory,
    ProgrammeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
ADMIN = "/en/admin/calls/call/"


def inline_management(prefix, total=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def call_form(**overrides):
    data = {
        "title": "AAP Bioproduction 2027", "slug": "aap-bioproduction-2027", "call_type": "call_for_projects",
        "summary": "Soutien aux plateformes.", "opens_on": "2027-01-15", "opens_on_precision": "day",
        "closes_on": "2027-03-31", "closes_on_precision": "day", "scope": "national",
        "consortium_required": "unknown", "publication_state": "draft",
    }
    for prefix in ("funder_roles", "rounds", "ceilings", "sources", "laureates"):
        data.update(inline_management(prefix))
    data.update(overrides)
    return data


def test_curators_group_may_edit_registry_entries_but_nothing_about_users(curator):
    codenames = set(Permission.objects.filter(group__name="curators").values_list("codename", flat=True))
    assert {"add_call", "change_call", "add_funder", "change_programme", "change_theme"} <= codenames
    assert not any(code.endswith("_user") or code.endswith("_group") for code in codenames)
    assert not any(code.startswith("delete_") for code in codenames)


def test_a_curator_logs_in_and_sees_calls_but_not_users(client, curator):
    assert client.login(username="camille", password="correct horse battery staple")
    assert client.get("/en/admin/").status_code == 200
    assert client.get(ADMIN).status_code == 200
    assert client.get("/en/admin/auth/user/").status_code == 403


def test_a_curator_creates_a_call_with_rounds_ceilings_and_sources(curator_client):
    funder = FunderFactory(slug="bpifrance")
    response = curator_client.post(f"{ADMIN}add/", call_form(**{
        **inline_management("funder_roles", 1), "funder_roles-0-funder": funder.pk, "funder_roles-0-role": "operator",
        **inline_management("rounds", 2),
        "rounds-0-name": "Vague 1", "rounds-0-opens_on": "2027-01-15", "rounds-0-opens_on_precision": "day",
        "rounds-0-closes_on": "2027-02-15", "rounds-0-closes_on_precision": "day",
        "rounds-1-name": "Vague 2", "rounds-1-opens_on": "2027-02-16", "rounds-1-opens_on_precision": "day",
        "rounds-1-closes_on": "2027-03-31", "rounds-1-closes_on_precision": "day", "rounds-1-budget_eur": "5000000",
        **inline_management("ceilings", 2),
        "ceilings-0-amount_eur": "600000", "ceilings-0-condition": "plateformes déjà labellisées",
        "ceilings-1-amount_eur": "1500000", "ceilings-1-condition": "nouvelles plateformes",
        **inline_management("sources", 1),
        "sources-0-title": "Cahier des charges", "sources-0-url": "https://example.org/cdc.pdf",
        "sources-0-locator": "§3", "sources-0-covers": "opens_on, closes_on, ceilings",
    }))
    assert response.status_code == 302, response.context["errors"] if response.context else response
    call = Call.objects.get(slug="aap-bioproduction-2027")
    assert call.rounds.count() == 2
    assert call.max_ceiling_eur == 1_500_000
    assert call.sources.get().covered_fields == {"opens_on", "closes_on", "ceilings"}
    assert call.funder_roles.get().role == "operator"
    assert call.history.get().history_user.username == "camille"


def test_bad_input_in_the_admin_gives_messages_not_errors(curator_client):
    response = curator_client.post(f"{ADMIN}add/", call_form(**{
        "closes_on": "2026-12-31", "trl_min": "7", "trl_max": "3",
        **inline_management("ceilings", 1), "ceilings-0-amount_eur": "-10",
    }))
    assert response.status_code == 200
    assert not Call.objects.exists()
    content = response.content.decode()
    assert "The closing date cannot be before the opening date." in content
    assert "The maximum TRL cannot be below the minimum." in content
    assert "A ceiling is a positive amount." in content


def test_curators_archive_and_cannot_delete(curator_client):
    call = CallFactory()
    assert curator_client.get(f"{ADMIN}{call.pk}/delete/").status_code == 403
    changelist = curator_client.get(ADMIN)
    assert "delete_selected" not in changelist.content.decode()
    response = curator_client.post(ADMIN, {"action": "archive", "_selected_action": [call.pk]})
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.publication_state == "archived"
    assert call.history.count() == 2


def test_publish_and_mark_verified_today(curator_client):
    call = CallFactory(publication_state="draft", last_verified_on=datetime.date(2024, 1, 1))
    curator_client.post(ADMIN, {"action": "publish", "_selected_action": [call.pk]})
    curator_client.post(ADMIN, {"action": "mark_verified_today", "_selected_action": [call.pk]})
    call.refresh_from_db()
    assert call.publication_state == "published"
    assert call.published_at is not None  # the feed of new calls follows it
    assert call.last_verified_on == today()


def test_field_level_history_is_shown_with_who_changed_what(curator_client):
    call = CallFactory(title="Ancien titre")
    data = call_form(title="Nouveau titre", slug=call.slug, publication_state="published",
                     seen_updated_at=call.updated_at.isoformat())
    assert curator_client.post(f"{ADMIN}{call.pk}/change/", data).status_code == 302
    history = curator_client.get(f"{ADMIN}{call.pk}/history/")
    assert history.status_code == 200
    content = history.content.decode()
    assert "camille" in content
    assert "Nouveau titre" in content and "Ancien titre" in content


def test_new_edition_action_creates_a_linked_draft(curator_client):
    call = CallFactory(slug="aap-integrateurs")
    CeilingFactory(call=call, amount_eur=600_000)
    response = curator_client.post(ADMIN, {"action": "new_edition", "_selected_action": [call.pk]})
    edition = Call.objects.get(previous_edition=call)
    assert response.status_code == 302 and response.url.endswith(f"/{edition.pk}/change/")
    assert edition.publication_state == "draft"
    assert edition.closes_on is None


def test_changelist_filters_status_and_stale_verification(curator_client):
    stale = CallFactory(title="Jamais revérifié", last_verified_on=datetime.date(2020, 1, 1))
    fresh = CallFactory(title="Vérifié hier", last_verified_on=datetime.date.today())
    content = curator_client.get(f"{ADMIN}?verification=stale").content.decode()
    assert stale.title in content and fresh.title not in content
    assert curator_client.get(f"{ADMIN}?status=open").status_code == 200


def test_changelist_search_covers_funder_names(curator_client):
    call = CallFactory(title="Appel X")
    call.funder_roles.create(funder=FunderFactory(name="Lyonbiopôle"))
    CallFactory(title="Appel Y")
    content = curator_client.get(f"{ADMIN}?q=Lyonbiop").content.decode()
    assert "Appel X" in content and "Appel Y" not in content


def test_csv_export_and_import_round_trip_through_the_resource():
    programme = ProgrammeFactory(slug="france-2030")
    CallFactory(slug="aap-export", title="Exporté", programme=programme)
    dataset = CallResource().export()
    assert "aap-export" in dataset.csv and "france-2030" in dataset.csv

    incoming = tablib.Dataset(headers=dataset.headers)
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    row.update(slug="aap-importe", title="Importé")
    incoming.append([row[h] for h in dataset.headers])
    result = CallResource().import_data(incoming, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Call.objects.get(slug="aap-importe").programme == programme


def test_csv_import_reports_invalid_rows_and_writes_nothing():
    headers = ["slug", "title", "call_type", "opens_on", "closes_on", "scope", "publication_state"]
    bad = tablib.Dataset(["aap-bad", "Mauvais", "call_for_projects", "2027-05-01", "2027-01-01", "national", "draft"],
                         headers=headers)
    result = CallResource().import_data(bad, dry_run=False)
    assert result.has_validation_errors()
    assert not Call.objects.filter(slug="aap-bad").exists()


def test_admin_import_and_export_pages_open_for_curators(curator_client):
    assert curator_client.get(f"{ADMIN}export/").status_code == 200
    assert curator_client.get(f"{ADMIN}import/").status_code == 200


def test_a_second_curator_saving_a_stale_form_is_refused_with_what_changed(client, curator_client):
    call = CallFactory(title="Titre initial", slug="aap-concurrent")
    first = curator_client.get(f"{ADMIN}{call.pk}/change/")
    seen = first.context["adminform"].form["seen_updated_at"].value()

    other = CuratorFactory(username="dominique")
    client.force_login(other)
    data = call_form(slug=call.slug, title="Titre de Dominique", publication_state="published",
                     seen_updated_at=seen)
    assert client.post(f"{ADMIN}{call.pk}/change/", data).status_code == 302

    stale = call_form(slug=call.slug, title="Titre de Camille", publication_state="published", seen_updated_at=seen)
    response = curator_client.post(f"{ADMIN}{call.pk}/change/", stale)
    assert response.status_code == 200
    content = response.content.decode()
    assert "changed by dominique since you opened it" in content
    assert "Titre initial" in content and "Titre de Dominique" in content
    call.refresh_from_db()
    assert call.title == "Titre de Dominique"


def test_partner_submissions_are_found_with_the_origin_filter(curator_client):
    from tests.factories import UserFactory

    CallFactory(title="Proposé par un cluster", publication_state="draft", submitted_by=UserFactory(username="cluster"))
    CallFactory(title="Saisi en interne")
    content = curator_client.get(f"{ADMIN}?origin=partner&publication_state__exact=draft").content.decode()
    assert "Proposé par un cluster" in content and "Saisi en interne" not in content


def test_create_partner_gives_a_token_that_may_submit(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_partner", "lyonbiopole", "api@example.org", stdout=out)
    from django.contrib.auth import get_user_model

    partner = get_user_model().objects.get(username="lyonbiopole")
    assert partner.has_perm("calls.submit_call") and not partner.is_staff
    assert partner.auth_token.key in out.getvalue()


def staff_with(client, *codenames):
    """A staff member holding exactly these permissions on calls, logged in."""
    user = UserFactory(username="stagiaire", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="calls", codename__in=codenames))
    client.force_login(user)
    return user


def test_import_needs_the_change_and_add_permissions_and_export_the_view_permission(client):
    staff_with(client, "view_call")
    assert client.get(f"{ADMIN}import/").status_code == 403
    assert client.get(f"{ADMIN}export/").status_code == 200
    staff_with(client, "view_call", "change_call", "add_call")
    assert client.get(f"{ADMIN}import/").status_code == 200


def test_a_staff_member_without_view_permission_cannot_export(client):
    staff_with(client, "add_call")
    assert client.get(f"{ADMIN}export/").status_code == 403


def test_curator_notes_are_exported_only_to_those_who_may_change_calls(curator):
    CallFactory(slug="aap-brouillon", curator_note="Montant à confirmer auprès du financeur")
    viewer = UserFactory(username="lecteur", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_call"))
    viewer = type(viewer).objects.get(pk=viewer.pk)  # fresh permission cache
    assert "Montant à confirmer" not in CallResource(user=viewer).export().csv
    assert "Montant à confirmer" in CallResource(user=curator).export().csv


def import_csv(client, csv_text):
    """The admin's import preview: returns the confirmation form's data."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = client.get(f"{ADMIN}import/")
    formats = page.context["form"].fields["format"].choices
    csv_index = next(value for value, label in formats if "csv" in str(label).lower())
    response = client.post(f"{ADMIN}import/", {
        "resource": "0", "format": csv_index,
        "import_file": SimpleUploadedFile("calls.csv", csv_text.encode("utf-8"), content_type="text/csv"),
    })
    assert response.status_code == 200
    confirm = response.context["confirm_form"]
    assert confirm is not None, response.context["result"].invalid_rows if response.context.get("result") else ""
    return {name: confirm[name].value() for name in confirm.fields}


def test_the_import_confirmation_reads_only_a_pending_import_the_server_named(curator_client, tmp_path):
    target = tmp_path / "not-an-import.csv"
    target.write_text("slug,title\n", encoding="utf-8")
    data = import_csv(curator_client, "slug,title,call_type,scope,publication_state\n"
                      "aap-csv,Appel importé,call_for_projects,national,published\n")
    assert len(data["import_file_name"]) == 32 and "/" not in data["import_file_name"]

    forged = {**data, "import_file_name": str(target)}
    assert curator_client.post(f"{ADMIN}process_import/", forged).status_code == 403
    assert target.exists()  # neither read nor deleted
    assert not Call.objects.filter(slug="aap-csv").exists()

    assert curator_client.post(f"{ADMIN}process_import/", data).status_code == 302
    call = Call.objects.get(slug="aap-csv")
    assert call.published_at is not None  # first publication is dated, as in the admin form
    assert call.history.first().history_user.username == "camille"
