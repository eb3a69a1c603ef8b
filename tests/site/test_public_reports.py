"""Visitors report an error on a call's page or propose a call: no account, CSRF, honeypot, limits."""
import datetime
import re

import pytest
from django.test import Client

from calls.importing.base import submitted_by_a_partner
from calls.models import Call, PublicReport
from tests.factories import CallFactory, CuratorFactory

pytestmark = pytest.mark.django_db
THANKS = "/merci/"
SUGGEST = "/proposer-un-appel/"


def report_url(call):
    return f"/appels/{call.slug}/signaler/"


def test_call_pages_link_to_report_an_error_and_every_page_to_propose_a_call(client):
    call = CallFactory(slug="aap-bioprod")
    page = client.get("/appels/aap-bioprod/").content.decode()  # the French site, whatever an earlier test left active
    assert f'href="{report_url(call)}"' in page and f'href="{SUGGEST}"' in page
    assert "Signaler une erreur sur cette fiche" in page and "Proposer un appel" in page  # the site speaks French


def test_an_error_report_reaches_the_curators_who_mark_it_handled(client):
    call = CallFactory(slug="aap-bioprod")
    assert client.get(report_url(call)).status_code == 200

    response = client.post(report_url(call), {"message": "La date limite est le 30 avril, pas le 31 mars.",
                                              "contact_email": "lecteur@example.org", "website": ""})

    assert response.status_code == 302 and response["Location"] == THANKS
    report = PublicReport.objects.get()
    assert (report.kind, report.call, report.contact_email) == ("error", call, "lecteur@example.org")
    assert report.handled_at is None
    curator = CuratorFactory(username="camille")
    client.force_login(curator)
    listed = client.get("/en/admin/calls/publicreport/?handled=no")
    assert listed.status_code == 200 and "30 avril" in listed.content.decode()
    client.post("/en/admin/calls/publicreport/", {"action": "mark_handled", "_selected_action": [report.pk]})
    report.refresh_from_db()
    assert report.handled_by == curator and report.handled_at is not None
    assert client.get("/en/admin/calls/publicreport/?handled=no").context["cl"].result_count == 0


def test_a_proposed_call_becomes_a_draft_for_curators(client):
    response = client.post(SUGGEST, {
        "title": "AAP Biothérapies Occitanie 2027", "url": "https://www.example.org/aap-biotherapies",
        "funder_name": "Région Occitanie", "closes_on": "2027-03-31", "message": "Vu dans la presse.",
        "contact_email": "", "website": "",
    })

    assert response.status_code == 302 and response["Location"] == THANKS
    report = PublicReport.objects.get()
    call = report.suggested_call
    assert (report.kind, call.publication_state) == ("suggestion", "draft")
    assert call.title == "AAP Biothérapies Occitanie 2027"
    assert call.closes_on == datetime.date(2027, 3, 31)
    assert call.submitted_by.username == "public-suggestions" and not call.submitted_by.is_active
    assert [s.url for s in call.sources.all()] == ["https://www.example.org/aap-biotherapies"]
    assert "Région Occitanie" in call.curator_note and "Vu dans la presse." in call.curator_note
    assert not submitted_by_a_partner(Call.objects.all()).exists()  # not a partner's submission
    assert not Call.objects.published().exists()


def test_the_forms_need_their_csrf_token():
    call = CallFactory(slug="aap-bioprod")
    client = Client(enforce_csrf_checks=True)
    data = {"message": "La date limite a changé depuis.", "website": ""}
    assert client.post(report_url(call), data).status_code == 403
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(report_url(call)).content.decode())
    assert client.post(report_url(call), {**data, "csrfmiddlewaretoken": token.group(1)}).status_code == 302
    assert PublicReport.objects.count() == 1


def test_a_robot_filling_the_honeypot_is_thanked_and_nothing_is_kept(client):
    call = CallFactory(slug="aap-bioprod")
    page = client.get(report_url(call)).content.decode()
    assert re.search(r'<div class="visually-hidden" aria-hidden="true">\s*<label for="id_website">', page)
    response = client.post(report_url(call), {"message": "Buy cheap pills here now", "website": "http://spam"})
    assert response.status_code == 302 and not PublicReport.objects.exists()
    response = client.post(SUGGEST, {"title": "Spam spam", "url": "https://spam.example", "website": "x"})
    assert response.status_code == 302 and not Call.objects.filter(title="Spam spam").exists()


def test_messages_from_one_network_are_limited(client, settings):
    settings.PUBLIC_REPORTS_PER_HOUR = 2
    call = CallFactory(slug="aap-bioprod")
    data = {"message": "La date limite a changé depuis.", "website": ""}
    assert [client.post(report_url(call), data).status_code for _ in range(3)] == [302, 302, 429]
    assert client.post(SUGGEST, {"title": "AAP X 2027", "url": "https://example.org/x"}).status_code == 429
    assert PublicReport.objects.count() == 2


def test_sizes_and_addresses_are_checked(client):
    call = CallFactory(slug="aap-bioprod")
    assert client.post(report_url(call), {"message": "x" * 2001}).status_code == 400
    assert client.post(report_url(call), {"message": "court"}).status_code == 400
    assert client.post(report_url(call), {"message": "x" * 30_000}).status_code == 413
    assert client.post(SUGGEST, {"title": "AAP X 2027", "url": "javascript:alert(1)"}).status_code == 400
    assert client.post(SUGGEST, {"title": "x" * 301, "url": "https://example.org/x"}).status_code == 400
    assert client.post(SUGGEST, {"title": "AAP X 2027", "url": "https://example.org/x",
                                 "closes_on": "1850-01-01"}).status_code == 400
    assert not PublicReport.objects.filter(kind="error").exists()


def test_only_published_calls_take_reports(client):
    draft = CallFactory(slug="brouillon", publication_state="draft")
    assert client.get(report_url(draft)).status_code == 404
    assert client.post(report_url(draft), {"message": "La date limite a changé."}).status_code == 404
