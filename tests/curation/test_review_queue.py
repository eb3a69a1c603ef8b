"""What arrives from partners and visitors is checked for likely duplicates, as imported drafts are."""
import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from calls.models import Call, Provenance, PublicReport
from tests.factories import CallFactory, CallFunderFactory, FunderFactory, UserFactory

pytestmark = pytest.mark.django_db
SUBMIT = "/api/v1/calls/"
SUGGEST = "/proposer-un-appel/"
REVIEW = "/en/admin/calls/call/?origin=review"


@pytest.fixture
def published():
    """A published call of the Région Occitanie, open from 10 January to 31 March 2027."""
    funder = FunderFactory(slug="region-occitanie", name="Région Occitanie", acronym="")
    call = CallFactory(slug="aap-bioproduction-occitanie", title="AAP Bioproduction Occitanie 2027",
                       opens_on=datetime.date(2027, 1, 10), closes_on=datetime.date(2027, 3, 31))
    CallFunderFactory(call=call, funder=funder)
    return call


@pytest.fixture
def partner_client():
    user = UserFactory(username="cluster-partner")
    user.user_permissions.add(Permission.objects.get(codename="submit_call", content_type__app_label="calls"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def submission(**changes):
    return {"title": "AAP Bio-production Occitanie 2027", "call_type": "call_for_projects",
            "opens_on": "2027-01-10", "closes_on": "2027-03-31",
            "funders": [{"funder": "region-occitanie", "role": "funder"}], **changes}


def duplicate_flags(call):
    return [flag["value"] for provenance in Provenance.objects.filter(object_id=call.pk)
            for flag in provenance.flags if flag["code"] == "duplicate"]


def review_list(client):
    response = client.get(REVIEW)
    assert response.status_code == 200
    return {call.slug for call in response.context["cl"].result_list}


def test_a_partners_submission_like_a_published_call_is_flagged_for_review(published, partner_client,
                                                                          curator_client):
    response = partner_client.post(SUBMIT, submission(), format="json")

    assert response.status_code == 201, response.content
    draft = Call.objects.get(slug=response.json()["slug"])
    assert duplicate_flags(draft) == ["aap-bioproduction-occitanie"]
    assert review_list(curator_client) == {draft.slug}
    page = curator_client.get(f"/en/admin/calls/call/{draft.pk}/change/").content.decode()
    assert "Likely duplicate of: aap-bioproduction-occitanie" in page
    index = curator_client.get("/en/admin/").content.decode()
    assert '<a href="/en/admin/calls/call/?origin=review" class="waiting-count">1</a>' in index


@pytest.mark.parametrize("changes", [
    {"title": "Appel régional aux startups de la chimie verte"},  # another title
    {"opens_on": "2027-02-01"},  # other dates
    {"funders": [{"name": "Un financeur hors du registre", "role": "funder"}]},  # no funder in common
])
def test_a_partners_distinct_submission_is_not_flagged(published, partner_client, curator_client, changes):
    response = partner_client.post(SUBMIT, submission(**changes), format="json")

    assert response.status_code == 201, response.content
    draft = Call.objects.get(slug=response.json()["slug"])
    assert duplicate_flags(draft) == []
    assert review_list(curator_client) == set()


def propose(data):
    """A visitor's post, from an anonymous client of its own (the curator's client is logged in)."""
    return Client().post(SUGGEST, data)


def proposal(**changes):
    return {"title": "AAP Bioproduction en Occitanie 2027", "url": "https://www.example.org/aap",
            "funder_name": "Région Occitanie", "closes_on": "2027-03-31", "message": "", "contact_email": "",
            "website": "", **changes}


def test_a_visitors_proposal_like_a_published_call_is_flagged_for_review(published, curator_client):
    response = propose(proposal())

    assert response.status_code == 302
    draft = PublicReport.objects.get().suggested_call
    assert duplicate_flags(draft) == ["aap-bioproduction-occitanie"]
    assert review_list(curator_client) == {draft.slug}


@pytest.mark.parametrize("changes", [
    {"title": "Prix de l'innovation en chimie verte"},
    {"closes_on": "2027-04-30"},
    {"funder_name": "Bpifrance"},
    {"funder_name": ""},
])
def test_a_visitors_distinct_proposal_is_not_flagged(published, curator_client, changes):
    response = propose(proposal(**changes))

    assert response.status_code == 302
    assert duplicate_flags(PublicReport.objects.get().suggested_call) == []
    assert review_list(curator_client) == set()


def test_a_curator_who_finds_it_is_no_duplicate_dismisses_the_flag(published, partner_client, curator_client):
    draft = Call.objects.get(slug=partner_client.post(SUBMIT, submission(), format="json").json()["slug"])
    assert review_list(curator_client) == {draft.slug}

    response = curator_client.post("/en/admin/calls/call/", {"action": "not_duplicates",
                                                             "_selected_action": [draft.pk]}, follow=True)

    assert "1 likely-duplicate flag dismissed." in response.content.decode()
    assert duplicate_flags(draft) == []
    assert review_list(curator_client) == set()
