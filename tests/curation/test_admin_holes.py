"""Holes in the admin: forged or damaged requests get a message or a 400, never a 500; one rule
for who sees curator notes (the change page, the history, the CSV export)."""
import pytest
from django.contrib.auth.models import Permission

from calls import services
from calls.curation.resources import CallResource
from calls.models import Call
from tests.admin_forms import ADMIN, change_form_data, import_csv
from tests.factories import CallFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTE = "Montant à confirmer auprès du financeur"
CSV = "slug,title,call_type,scope,publication_state\naap-csv,Appel importé,call_for_projects,national,draft\n"


@pytest.mark.parametrize("name", ["0" * 32, "f" * 32, "", "\x00", None])
def test_confirming_an_import_whose_pending_file_is_unknown_imports_nothing_and_is_no_error(curator_client, name):
    data = import_csv(curator_client, CSV)
    if name is None:
        data.pop("import_file_name")
    else:
        data["import_file_name"] = name
    curator_client.raise_request_exception = False
    response = curator_client.post(f"{ADMIN}process_import/", data, follow=True)
    assert response.status_code == 200
    if len(name or "") == 32:
        assert response.redirect_chain[-1][0] == f"{ADMIN}import/"
        assert "This import is no longer pending" in response.content.decode()
    assert not Call.objects.filter(slug="aap-csv").exists()


@pytest.mark.parametrize("path, action", [
    (ADMIN, "archive"), ("/en/admin/calls/publicreport/", "mark_handled"),
    ("/en/admin/calls/calltoreverify/", "mark_verified_today"), ("/en/admin/auth/user/", "make_partners"),
    ("/en/admin/alerts/alertsubscription/", "export_for_data_protection"),
])
@pytest.mark.parametrize("ticked", ["\x00", "abc", "1\x00"])
def test_an_action_on_rows_that_are_no_rows_of_the_list_is_a_message(admin_client, path, action, ticked):
    call = CallFactory(publication_state="draft")
    admin_client.raise_request_exception = False
    response = admin_client.post(path, {"action": action, "_selected_action": [ticked]}, follow=True)
    assert response.status_code == 200
    assert "The rows ticked are not rows of this list: nothing was done." in response.content.decode()
    response = admin_client.post(ADMIN, {"action": "publish", "_selected_action": [str(call.pk), ticked]})
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.publication_state == "draft"


@pytest.mark.parametrize("entry", ["calls/call", "calls/funder", "calls/programme"])
def test_the_history_of_an_address_naming_no_entry_is_a_message(curator_client, entry):
    curator_client.raise_request_exception = False
    for object_id in ["1%00", "abc", "999999"]:
        response = curator_client.get(f"/en/admin/{entry}/{object_id}/history/", follow=True)
        assert response.status_code == 200
        assert "doesn’t exist" in response.content.decode()


@pytest.fixture
def viewer():
    """A staff member who may view calls and programmes, not change them."""
    user = UserFactory(username="lecteur", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_call", "view_programme"]))
    return type(user).objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def noted_call(curator):
    call = CallFactory(slug="aap-note", publication_state="draft")
    call.curator_note = NOTE
    services.save_call(call=call, actor=curator, reason="admin")
    return call


def test_a_view_only_staff_member_never_sees_curator_notes_a_curator_does(client, curator, viewer, noted_call):
    programme = ProgrammeFactory(curator_note="Programme : note de curation interne")
    pages = [f"{ADMIN}{noted_call.pk}/change/", f"{ADMIN}{noted_call.pk}/history/",
             f"/en/admin/calls/programme/{programme.pk}/change/"]
    client.force_login(viewer)
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        content = response.content.decode()
        assert NOTE not in content and "note de curation interne" not in content, page
        assert "Curator note" not in content, page
    assert NOTE not in CallResource(user=viewer).export().csv

    client.force_login(curator)
    assert NOTE in client.get(pages[0]).content.decode()
    assert NOTE in client.get(pages[1]).content.decode()  # the change that wrote it
    assert "note de curation interne" in client.get(pages[2]).content.decode()
    assert NOTE in CallResource(user=curator).export().csv


def test_a_curators_change_page_posted_back_keeps_the_note(curator_client, noted_call):
    data = change_form_data(curator_client.get(f"{ADMIN}{noted_call.pk}/change/"))
    assert data["curator_note"] == NOTE
    assert curator_client.post(f"{ADMIN}{noted_call.pk}/change/", data).status_code == 302
    noted_call.refresh_from_db()
    assert noted_call.curator_note == NOTE
