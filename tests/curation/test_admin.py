"""The curators' admin, driven through the client as a curator (in English: /en/admin/)."""
import datetime

import pytest
import tablib
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from calls import services
from calls.curation.resources import CallResource
from calls.models import Call
from calls.querysets import today
from tests.admin_forms import ADMIN, call_form, change_form_data, import_csv, inline_management
from tests.factories import (
    CallFactory,
    CeilingFactory,
    CuratorFactory,
    FunderFactory,
    ProgrammeFactory,
    SourceFactory,
    UserFactory,
)
from tests.helpers import reindex

pytestmark = pytest.mark.django_db


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
    SourceFactory(call=call, covers="opens_on, closes_on")
    curator_client.post(ADMIN, {"action": "publish", "_selected_action": [call.pk]})
    curator_client.post(ADMIN, {"action": "mark_verified_today", "_selected_action": [call.pk]})
    call.refresh_from_db()
    assert call.publication_state == "published"
    assert call.published_at is not None  # the feed of new calls follows it
    assert call.last_verified_on == today()


def test_field_level_history_is_shown_with_who_changed_what(curator_client):
    call = CallFactory(title="Ancien titre")
    data = call_form(title="Nouveau titre", slug=call.slug, publication_state="published",
                     seen_updated_at=call.updated_at.isoformat(), unsourced_acknowledged="on")
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
    reindex(call=call)
    CallFactory(title="Appel Y")
    content = curator_client.get(f"{ADMIN}?q=Lyonbiop").content.decode()
    assert "Appel X" in content and "Appel Y" not in content


@pytest.mark.usefixtures("in_english")
def test_csv_export_and_import_round_trip_through_the_resource():
    programme = ProgrammeFactory(slug="france-2030")
    CallFactory(slug="aap-export", title="Exporté", programme=programme, publication_state="draft")
    dataset = CallResource().export()
    assert "aap-export" in dataset.csv and "france-2030" in dataset.csv

    incoming = tablib.Dataset(headers=dataset.headers)
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    row.update({"Slug": "aap-importe", "Title": "Importé", "Edit version": ""})
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
                     seen_updated_at=seen, unsourced_acknowledged="on")
    assert client.post(f"{ADMIN}{call.pk}/change/", data).status_code == 302

    stale = call_form(slug=call.slug, title="Titre de Camille", publication_state="published", seen_updated_at=seen,
                      unsourced_acknowledged="on")
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


# -- Issue 12: history, editions, dates, sources, fitting the screen ------------------------------

def test_history_shows_changes_of_rows_and_vocabularies_in_readable_words(curator_client):
    from calls.models import BeneficiaryType

    sme, _ = BeneficiaryType.objects.get_or_create(code="sme")
    mid, _ = BeneficiaryType.objects.get_or_create(code="midcap")
    call = CallFactory(title="AAP Historique", publication_state="draft")
    call.beneficiaries.add(sme)
    reindex(call=call)
    SourceFactory(call=call, covers="opens_on, closes_on, ceilings, rounds")
    page = curator_client.get(f"{ADMIN}{call.pk}/change/")
    data = change_form_data(page)
    data.update({
        "publication_state": "published", "beneficiaries": [mid.pk],
        "ceilings-TOTAL_FORMS": "1", "ceilings-0-amount_eur": "750000", "ceilings-0-condition": "PME",
        "rounds-TOTAL_FORMS": "1", "rounds-0-name": "Vague 1", "rounds-0-opens_on": "2026-05-01",
        "rounds-0-opens_on_precision": "day", "rounds-0-closes_on": "2026-06-15", "rounds-0-closes_on_precision": "day",
    })
    response = curator_client.post(f"{ADMIN}{call.pk}/change/", data)
    assert response.status_code == 302, response.context["errors"]

    content = curator_client.get(f"{ADMIN}{call.pk}/history/").content.decode()
    assert "Draft" in content and "Published" in content  # labels, not codes
    assert "SME" in content and "Mid-cap company" in content  # PME → ETI shows what changed
    assert "750,000 €" in content or "750 000 €" in content or "750\u00a0000 €" in content
    assert "June 15, 2026" in content  # the round's closing date as a date
    assert "None" not in content
    assert "camille" in content
    assert "Before" in content and "After" in content  # translated headers (here in English)


def test_history_headers_are_translated(curator_client):
    call = CallFactory()
    content = curator_client.get(f"/admin/calls/call/{call.pk}/history/").content.decode()
    assert "Avant" in content and "Après" in content


def test_new_edition_action_names_it_after_its_year_and_refuses_publishing_unconfirmed_copies(curator_client):
    call = CallFactory(title="AAP Intégrateurs 2026", slug="aap-integrateurs-2026")
    CeilingFactory(call=call, amount_eur=600_000)
    SourceFactory(call=call, covers="ceilings")
    curator_client.post(ADMIN, {"action": "new_edition", "_selected_action": [call.pk]})
    edition = Call.objects.get(previous_edition=call)
    assert (edition.title, edition.slug) == ("AAP Intégrateurs 2027", "aap-integrateurs-2027")

    data = change_form_data(curator_client.get(f"{ADMIN}{edition.pk}/change/"))
    data["publication_state"] = "published"
    response = curator_client.post(f"{ADMIN}{edition.pk}/change/", data)
    assert response.status_code == 200
    assert "not confirmed for this one" in response.content.decode() and "600,000" in response.content.decode()

    data.pop("ceilings-0-to_confirm")
    data.pop("sources-0-to_confirm")
    response = curator_client.post(f"{ADMIN}{edition.pk}/change/", data)
    assert response.status_code == 302
    edition.refresh_from_db()
    assert edition.publication_state == "published"


def test_the_publish_action_names_what_blocks_it(curator_client):
    call = CallFactory(publication_state="draft", total_budget_eur=3_000_000)
    response = curator_client.post(ADMIN, {"action": "publish", "_selected_action": [call.pk]}, follow=True)
    assert "No source covers" in response.content.decode() and "3,000,000" in response.content.decode()
    call.refresh_from_db()
    assert call.publication_state == "draft"


def test_saving_a_published_call_with_an_unsourced_new_figure_asks_for_acknowledgement(curator_client):
    call = CallFactory()
    data = change_form_data(curator_client.get(f"{ADMIN}{call.pk}/change/"))
    data["total_budget_eur"] = "8000000"
    response = curator_client.post(f"{ADMIN}{call.pk}/change/", data)
    assert response.status_code == 200
    assert "No source covers: total budget (EUR) (8,000,000 €)" in response.content.decode()
    data["unsourced_acknowledged"] = "on"
    assert curator_client.post(f"{ADMIN}{call.pk}/change/", data).status_code == 302
    call.refresh_from_db()
    assert call.total_budget_eur == 8_000_000


def test_a_round_after_the_calls_closing_widens_the_call_and_says_so(curator_client):
    response = curator_client.post(f"{ADMIN}add/", call_form(**{
        **inline_management("rounds", 1), "rounds-0-name": "Étape 2", "rounds-0-opens_on": "",
        "rounds-0-opens_on_precision": "day", "rounds-0-closes_on": "2027-06-30", "rounds-0-closes_on_precision": "day",
    }), follow=True)
    call = Call.objects.get(slug="aap-bioproduction-2027")
    assert call.closes_on == datetime.date(2027, 6, 30)
    assert "widened to cover its rounds" in response.content.decode()


def test_the_admin_carries_the_registrys_name(curator_client):
    content = curator_client.get("/en/admin/").content.decode()
    assert "Bioproduction funding-call registry" in content
    assert "Django administration" not in content and "Django site admin" not in content


def test_rarely_used_parts_of_the_call_form_are_folded(curator_client):
    content = curator_client.get(f"{ADMIN}add/").content.decode()
    assert content.count("<details") >= 2  # "More details" and "Record" (Django 5.1+ collapse)


def test_csv_import_refuses_unknown_codes_in_list_columns_on_their_row():
    headers = ["slug", "title", "call_type", "scope", "publication_state", "beneficiaries", "regions"]
    rows = tablib.Dataset(["aap-codes", "Codes", "call_for_projects", "national", "draft", "sme|biotech", "11|99"],
                          headers=headers)
    from django.utils import translation

    with translation.override("fr"):
        result = CallResource().import_data(rows, dry_run=False)
    assert result.has_validation_errors()
    errors = result.invalid_rows[0].error_dict
    assert "biotech" in str(errors["beneficiaries"]) and "sme" not in str(errors["beneficiaries"])
    assert "99" in str(errors["regions"])
    assert "Code inconnu" in str(errors["regions"])  # in the curator's language
    assert not Call.objects.filter(slug="aap-codes").exists()


@pytest.mark.usefixtures("in_english")
def test_csv_import_preview_shows_only_the_columns_that_change():
    CallFactory(slug="aap-revue", title="Revue", publication_state="draft", closes_on=datetime.date(2026, 7, 31))
    dataset = CallResource().export()
    assert len(dataset.headers) > 30
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    row["Closes on"] = "2026-08-31"
    incoming = tablib.Dataset([row[h] for h in dataset.headers], headers=dataset.headers)
    result = CallResource().import_data(incoming, dry_run=True)
    assert not result.has_validation_errors()
    assert set(result.diff_headers) == {"Slug", "Title", "Closes on"}
    assert len(result.valid_rows()[0].diff) == 3


@pytest.mark.usefixtures("in_english")
def test_csv_export_lists_rounds_and_ceilings_for_bulk_review():
    call = CallFactory(slug="aap-vagues", publication_state="draft", opens_on=None, closes_on=None)
    from tests.factories import RoundFactory

    RoundFactory(call=call, name="Vague 1", opens_on=datetime.date(2027, 1, 5), closes_on=datetime.date(2027, 2, 5),
                 budget_eur=2_000_000)
    CeilingFactory(call=call, amount_eur=500_000, condition="PME")
    dataset = CallResource().export()
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert "Vague 1" in row["Rounds"] and "2000000 EUR" in row["Rounds"]
    assert row["Ceilings"] == "500000 EUR (PME)"


def test_a_curator_previews_a_drafts_public_page_which_the_public_cannot_see(curator_client):
    from django.test import Client

    from calls.choices import PublicationState
    from tests.factories import CallFactory

    client = Client()  # a visitor, not signed in
    draft = CallFactory(slug="brouillon-a-relire", title="Appel en brouillon", publication_state=PublicationState.DRAFT)
    assert client.get("/appels/brouillon-a-relire/").status_code == 404
    anonymous = client.get("/appels/brouillon-a-relire/apercu/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    preview = curator_client.get("/appels/brouillon-a-relire/apercu/")
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "Appel en brouillon" in body and "Aperçu pour les curateurs" in body
    assert '<meta name="robots" content="noindex">' in body and "no-cache" in preview["Cache-Control"]
    change = curator_client.get(f"{ADMIN}{draft.pk}/change/").content.decode()
    assert '/appels/brouillon-a-relire/apercu/"' in change  # the admin's "view on site" (in its language)


# -- Partner accounts and tokens from the admin ----------------------------------------------------

USERS = "/admin/auth/user/"


def staff_managing_partners(client, *, tokens=True):
    """A staff member who may add and change users and, if `tokens`, add API tokens; logged in."""
    user = UserFactory(username="gestionnaire", is_staff=True)
    codenames = ["add_user", "change_user", "view_user", *(["add_tokenproxy"] if tokens else [])]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return user


def test_staff_with_the_permissions_create_a_partner_account_and_its_token_in_the_admin(client):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    staff_managing_partners(client)
    # The account: a username, no password (partners use only the API).
    added = client.post(f"{USERS}add/", {"username": "biocluster", "usable_password": "false",
                                         "password1": "", "password2": "", "_save": "Save"})
    assert added.status_code == 302, added.content.decode()[:3000]
    partner = get_user_model().objects.get(username="biocluster")
    assert not partner.has_usable_password() and not partner.is_staff
    # The action: the partners group and a token, shown once made.
    response = client.post(USERS, {"action": "make_partners", "_selected_action": [partner.pk]}, follow=True)
    token = Token.objects.get(user=partner)
    assert token.key in response.content.decode()
    partner = get_user_model().objects.get(pk=partner.pk)
    assert partner.has_perm("calls.submit_call")
    # The token works; making it a partner again keeps it.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/submissions/").status_code == 200
    client.post(USERS, {"action": "make_partners", "_selected_action": [partner.pk]})
    assert Token.objects.get(user=partner).key == token.key


def test_the_partner_action_needs_the_permission_to_add_tokens(client, curator):
    staff_managing_partners(client, tokens=False)
    other = UserFactory(username="pas-encore")
    page = client.get(USERS).content.decode()
    assert "make_partners" not in page
    client.post(USERS, {"action": "make_partners", "_selected_action": [other.pk]})
    assert not other.groups.exists()
    # Curators manage nothing about users.
    client.force_login(curator)
    assert client.get(USERS).status_code == 403


def test_confirming_an_import_no_longer_pending_is_a_message_not_an_error(curator_client):
    data = import_csv(curator_client, "slug,title,call_type,scope,publication_state\n"
                      "aap-deux-fois,Appel importé,call_for_projects,national,draft\n")
    assert curator_client.post(f"{ADMIN}process_import/", data).status_code == 302
    # Confirmed twice (a double click), or a name the server drew but no longer keeps.
    for name in (data["import_file_name"], "0" * 32):
        response = curator_client.post(f"{ADMIN}process_import/", {**data, "import_file_name": name}, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == f"{ADMIN}import/"
        assert "no longer pending" in response.content.decode()
    assert Call.objects.filter(slug="aap-deux-fois").count() == 1


@pytest.mark.parametrize("path", [
    f"{ADMIN}?publication_state__exact=%00",
    f"{ADMIN}?slug=%00",
    f"{ADMIN}?q=appel%00",
    f"{ADMIN}?status%00=open",
    "/admin/calls/funder/?q=a%00b",
    "/en/admin/calls/funder/?q=a%00b",
    "/admin/autocomplete/?term=%00&app_label=calls&model_name=callfunder&field_name=funder",
])
def test_a_nul_character_in_an_admin_filter_or_the_autocomplete_is_a_400(curator_client, path):
    """On SQLite and PostgreSQL (which refuses NUL in a text: a 500 before)."""
    CallFactory()
    curator_client.raise_request_exception = False
    response = curator_client.get(path)
    assert response.status_code == 400, response.status_code
    assert "NUL" in response.content.decode()
    assert curator_client.get(path.replace("%00", "")).status_code in (200, 302)


# -- create_curator, with or without a terminal --------------------------------------------------

def _create_curator(monkeypatch, *, environment=None, terminal=False, typed=()):
    import sys
    from io import StringIO

    from django.core.management import call_command

    from calls.curation.management.commands import create_curator

    if environment is None:
        monkeypatch.delenv("CURATOR_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("CURATOR_PASSWORD", environment)
    monkeypatch.setattr(sys, "stdin", StringIO("piped password\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: terminal)
    answers = iter(typed)
    prompts = []
    monkeypatch.setattr(create_curator, "getpass", lambda prompt: prompts.append(prompt) or next(answers))
    call_command("create_curator", "dominique", "dominique@example.org", stdout=StringIO())
    return prompts


def test_create_curator_takes_its_password_from_the_environment_without_a_terminal(db, monkeypatch):
    from django.core.management.base import CommandError

    assert _create_curator(monkeypatch, environment="une phrase de passe solide") == []
    curator = get_user_model().objects.get(username="dominique")
    assert curator.is_staff and curator.check_password("une phrase de passe solide")
    assert curator.groups.filter(name="curators").exists()
    # Neither variable nor terminal: a clear error, nothing read from the pipe, nobody created.
    curator.delete()
    with pytest.raises(CommandError, match="CURATOR_PASSWORD"):
        _create_curator(monkeypatch)
    assert not get_user_model().objects.filter(username="dominique").exists()


def test_create_curator_asks_the_password_twice_on_a_terminal(db, monkeypatch):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="differ"):
        _create_curator(monkeypatch, terminal=True, typed=["une phrase de passe solide", "une autre phrase"])
    assert not get_user_model().objects.filter(username="dominique").exists()
    prompts = _create_curator(monkeypatch, terminal=True, typed=["une phrase de passe solide"] * 2)
    assert len(prompts) == 2
    assert get_user_model().objects.get(username="dominique").check_password("une phrase de passe solide")


# -- simple-history's revert is not offered (it would write past the services) --------------------

def test_the_revert_of_an_old_version_is_not_offered_and_writes_nothing(curator_client):
    call = CallFactory(title="Version une", publication_state="draft")
    call.title = "Version deux"
    services.save_call(call=call)
    old = call.history.order_by("history_date").first()
    revert = f"{ADMIN}{call.pk}/history/{old.history_id}/"
    history = curator_client.get(f"{ADMIN}{call.pk}/history/").content.decode()
    assert f"/history/{old.history_id}/" not in history
    for method in ("get", "post"):
        response = getattr(curator_client, method)(revert, {"title": "Version une"}, follow=True)
        assert response.redirect_chain == [(f"{ADMIN}{call.pk}/history/", 302)]
        assert "not offered" in response.content.decode()
    call.refresh_from_db()
    assert call.title == "Version deux" and call.history.count() == 2
    # The registry's references too: their history lists versions without a revert link.
    funder = FunderFactory(name="Bpifrance")
    funder.name = "Bpifrance Financement"
    services.save_reference(instance=funder)
    version = funder.history.order_by("history_date").first()
    page = curator_client.get(f"/en/admin/calls/funder/{funder.pk}/history/").content.decode()
    assert "Bpifrance" in page and f"/history/{version.history_id}/" not in page
    assert curator_client.post(f"/en/admin/calls/funder/{funder.pk}/history/{version.history_id}/",
                               {"name": "Bpifrance"}).status_code == 302
    funder.refresh_from_db()
    assert funder.name == "Bpifrance Financement"


# -- Funders' aliases -------------------------------------------------------------------------------

def occitanie_funders():
    from calls.models import Region

    occitanie = Region.objects.get(code="76")
    agency = FunderFactory(slug="ad-occitanie", kind="regional_authority", region=occitanie, acronym="AD'OCC",
                           name="Agence de développement économique de la Région Occitanie (AD'OCC)")
    region = FunderFactory(slug="region-occitanie", kind="regional_authority", region=occitanie,
                           name="Région Occitanie / Pyrénées-Méditerranée", aliases="Région Occitanie")
    return region, agency


@pytest.mark.parametrize("term", ["Région Occitanie", "region occitanie", "RÉGION OCCITANIE"])
def test_the_funder_autocomplete_gives_first_the_funder_known_by_the_term(curator_client, term):
    """A curator typing "Région Occitanie" picks the Région (its alias), not AD'OCC, whose name
    holds the same words and comes first by name; case and accents aside."""
    region, agency = occitanie_funders()
    FunderFactory(name="Bpifrance", slug="bpifrance")
    response = curator_client.get("/admin/autocomplete/", {
        "term": term, "app_label": "calls", "model_name": "callfunder", "field_name": "funder",
    })
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]][0] == str(region.pk)
    if term == "Région Occitanie":  # the search's own matches follow
        assert [row["id"] for row in response.json()["results"]] == [str(region.pk), str(agency.pk)]
    acronym = curator_client.get("/admin/autocomplete/", {
        "term": "ad'occ", "app_label": "calls", "model_name": "callfunder", "field_name": "funder",
    }).json()["results"]
    assert [row["id"] for row in acronym] == [str(agency.pk)]


def test_a_curator_gives_a_funder_its_aliases_one_per_line(curator_client):
    region, _agency = occitanie_funders()
    url = f"/en/admin/calls/funder/{region.pk}/change/"
    data = change_form_data(curator_client.get(url))
    data["aliases"] = "  Région Occitanie \r\n\r\nOccitanie\r\nRégion Occitanie\r\n"
    response = curator_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    region.refresh_from_db()
    assert region.aliases == "Région Occitanie\nOccitanie"
    assert region.known_names() == ["Région Occitanie / Pyrénées-Méditerranée", "Région Occitanie", "Occitanie"]
    assert region.history.first().history_change_reason == "admin"  # through the services
    assert [row["id"] for row in curator_client.get("/admin/autocomplete/", {
        "term": "Occitanie", "app_label": "calls", "model_name": "callfunder", "field_name": "funder",
    }).json()["results"]][0] == str(region.pk)
