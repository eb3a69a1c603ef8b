"""Curators opt in, in the admin, to a daily e-mail of what newly waits for them (`send_curator_digest`)."""
import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from calls import services
from calls.importing.base import importer_user
from calls.models import CuratorDigest
from tests.factories import CallFactory, CallFunderFactory, CuratorFactory, FunderFactory, UserFactory

pytestmark = pytest.mark.django_db
SETTINGS = "/en/admin/calls/curatordigest/"


@pytest.fixture(autouse=True)
def on_a_known_day():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC), tick=True):
        yield


def opt_in(client, *, language="en"):
    """The curator logged in on `client` ticks the digest in the admin, as they would."""
    response = client.get(SETTINGS)
    assert response.status_code == 302
    form = client.get(response["Location"])
    assert form.status_code == 200
    saved = client.post(response["Location"], {"subscribed": "on", "language": language})
    assert saved.status_code == 302, saved.content.decode()[:2000]


def subscribed_curator(client, username, *, language="en"):
    curator = CuratorFactory(username=username)
    client.force_login(curator)
    opt_in(client, language=language)
    client.logout()
    return curator


def waiting_items():
    """One item in each list of what waits for curators."""
    partner = UserFactory(username="cluster-partner")
    CallFactory(slug="soumise", publication_state="draft", submitted_by=partner)
    CallFactory(slug="importee", publication_state="draft", submitted_by=importer_user("eu-funding-tenders"))
    published = CallFactory(slug="publiee", last_verified_on=datetime.date(2026, 1, 1))  # to re-verify
    services.report_error(call=published, message="La date limite a changé.")


def send():
    before = len(mail.outbox)
    call_command("send_curator_digest", verbosity=0)
    return mail.outbox[before:]


def lines(message):
    return {label.strip(): (int(new), int(total)) for label, new, total in
            re.findall(r"^\* ([^:\n]+): (\d+) new, (\d+) waiting in all$", message.body, re.M)}


def test_a_curator_opts_in_in_the_admin_and_sets_only_their_own_digest(client):
    other = CuratorFactory(username="dominique")
    theirs = CuratorDigest.objects.create(user=other, subscribed=False, language="fr")
    curator = CuratorFactory(username="camille")
    client.force_login(curator)

    opt_in(client, language="en")

    mine = CuratorDigest.objects.get(user=curator)
    assert (mine.subscribed, mine.language) == (True, "en")
    assert client.get(SETTINGS)["Location"] == f"{SETTINGS}{mine.pk}/change/"  # the list opens their own
    # Another curator's setting is out of reach: not shown, not changed.
    assert client.get(f"{SETTINGS}{theirs.pk}/change/").status_code == 302
    client.post(f"{SETTINGS}{theirs.pk}/change/", {"subscribed": "on", "language": "en", "user": curator.pk})
    theirs.refresh_from_db()
    assert (theirs.user, theirs.subscribed, theirs.language) == (other, False, "fr")
    # One setting per curator: the add form is closed once they have one.
    assert client.get(f"{SETTINGS}add/").status_code == 403
    # Unticking stops it.
    client.post(f"{SETTINGS}{mine.pk}/change/", {"language": "en"})
    mine.refresh_from_db()
    assert mine.subscribed is False


def test_opted_in_curators_get_the_new_items_waiting_with_counts_and_links(client):
    curator = subscribed_curator(client, "camille", language="en")
    waiting_items()

    [message] = send()

    assert message.to == [curator.email]
    assert message.subject == "4 new items waiting for curators"
    assert lines(message) == {
        "Partners' submissions to review": (1, 1), "Imported drafts to review": (1, 1),
        "Visitors' reports and proposed calls to handle": (1, 1), "Calls whose sources are to re-verify": (1, 1),
    }  # nothing has a flag to settle: that list is not named
    assert "http://testserver/en/admin/calls/call/?origin=partner&publication_state__exact=draft" in message.body
    assert "http://testserver/en/admin/calls/publicreport/?handled=no" in message.body
    assert "http://testserver/en/admin/calls/calltoreverify/" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and 'href="http://testserver/en/admin/calls/call/?origin=imported' in html
    assert message.extra_headers["Content-Language"] == "en"


def test_only_what_is_new_since_the_last_digest_and_nothing_when_nothing_is(client):
    subscribed_curator(client, "camille")
    waiting_items()
    assert len(send()) == 1

    assert send() == []  # the same items still wait: nothing new, no message

    CallFactory(slug="soumise-2", publication_state="draft", submitted_by=UserFactory(username="cluster-partner"))
    [message] = send()
    assert message.subject == "1 new item waiting for curators"
    assert lines(message) == {"Partners' submissions to review": (1, 2)}


def test_a_partners_likely_duplicate_is_new_on_the_flags_list(client):
    subscribed_curator(client, "camille")
    funder = FunderFactory(slug="bpifrance")
    published = CallFactory(slug="aap-bioproduction", title="AAP Bioproduction 2027")
    CallFunderFactory(call=published, funder=funder)
    assert send() == []  # nothing waits yet
    draft = CallFactory(slug="aap-bioproduction-bis", title="AAP Bio-production 2027", publication_state="draft",
                        submitted_by=UserFactory(username="cluster-partner"))
    CallFunderFactory(call=draft, funder=funder)
    assert services.flag_likely_duplicates(call=draft, funders=[funder], origin=services.SUBMISSIONS_ORIGIN) == [
        "aap-bioproduction"]

    [message] = send()

    assert lines(message) == {"Partners' submissions to review": (1, 1),
                              "Calls with a feed's value or a flag to settle": (1, 1)}


def test_french_curators_get_it_in_french_with_french_links(client):
    subscribed_curator(client, "camille", language="fr")
    waiting_items()

    [message] = send()

    assert message.subject == "4 nouveaux éléments en attente des curateurs"
    assert "http://testserver/admin/calls/call/?origin=partner&publication_state__exact=draft" in message.body
    assert "/en/" not in message.body
    assert 'lang="fr"' in message.alternatives[0][0]


def test_nothing_to_curators_who_did_not_opt_in_nor_to_inactive_or_former_staff(client):
    CuratorFactory(username="sans-digest")  # never opted in
    stopped = subscribed_curator(client, "a-arrete")
    CuratorDigest.objects.filter(user=stopped).update(subscribed=False)
    gone = subscribed_curator(client, "parti")
    gone.is_active = False
    gone.save()
    former = subscribed_curator(client, "ancien")
    former.is_staff = False
    former.save()
    waiting_items()

    assert send() == []
