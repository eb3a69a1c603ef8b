"""The admin's index opens on what waits for curators, each count linking to its filtered list."""
import datetime
import re

import pytest
import time_machine

from calls import services
from calls.importing.base import importer_user
from calls.models import Provenance
from tests.factories import CallFactory, CuratorFactory, UserFactory

pytestmark = pytest.mark.django_db
INDEX = "/en/admin/"


@pytest.fixture(autouse=True)
def on_a_known_day():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC), tick=True):
        yield


def counts(page):
    """{link: count} of the index's 'waiting for curators' box."""
    box = page.split('id="waiting-for-curators"', 1)[1].split("</table>", 1)[0]
    return {link.replace("&amp;", "&"): int(count)
            for link, count in re.findall(r'<a href="([^"]+)" class="waiting-count">(\d+)</a>', box)}


def test_the_index_counts_what_waits_and_links_to_each_list(client):
    partner = UserFactory(username="cluster-partner")
    CallFactory.create_batch(2, publication_state="draft", submitted_by=partner)
    CallFactory(publication_state="published", submitted_by=partner)  # already published: waits no more
    importer = importer_user("eu-funding-tenders")
    imported = CallFactory.create_batch(3, publication_state="draft", submitted_by=importer)
    Provenance.objects.create(origin="eu-funding-tenders", external_id="X", content_type_id=_call_type(),
                              object_id=imported[0].pk, flags=[{"code": "duplicate", "value": "y"}])
    CallFactory(last_verified_on=datetime.date(2026, 1, 1))  # published, not verified for six months
    CallFactory(last_verified_on=datetime.date(2026, 11, 1))  # verified lately: nothing to do
    services.report_error(call=imported[1], message="La date limite a changé.")
    services.handle_public_report(report=services.report_error(call=imported[1], message="Déjà corrigé."),
                                  actor=None)
    client.force_login(CuratorFactory())

    assert counts(client.get(INDEX).content.decode()) == {
        "/en/admin/calls/call/?origin=partner&publication_state__exact=draft": 2,
        "/en/admin/calls/call/?origin=imported&publication_state__exact=draft": 3,
        "/en/admin/calls/call/?origin=review": 1,
        "/en/admin/calls/publicreport/?handled=no": 1,
        "/en/admin/calls/calltoreverify/": 1,
    }
    # Each link lists what it counts.
    partners = client.get("/en/admin/calls/call/?origin=partner&publication_state__exact=draft")
    assert partners.context["cl"].result_count == 2
    drafts = client.get("/en/admin/calls/call/?origin=imported&publication_state__exact=draft")
    assert drafts.context["cl"].result_count == 3
    assert client.get("/en/admin/calls/calltoreverify/").context["cl"].result_count == 1
    assert client.get("/en/admin/calls/publicreport/?handled=no").context["cl"].result_count == 1


def test_staff_who_may_not_change_calls_see_no_counts(client):
    client.force_login(UserFactory(username="reader", is_staff=True))
    page = client.get(INDEX).content.decode()
    assert "waiting-for-curators" not in page


def _call_type():
    from django.contrib.contenttypes.models import ContentType

    from calls.models import Call

    return ContentType.objects.get_for_model(Call).pk
