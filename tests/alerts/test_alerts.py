"""Email alerts without an account, through the client and `send_alerts`, with a clock the tests move.

The registry's clock is `timezone.now()` (and `calls.querysets.today()` from it): time-machine
moves it for the views, the FilterSet, the querysets, the tokens' expiry and `send_alerts` alike.
"""
import datetime
import email
import email.policy
import io
import json
import re
import socket
import threading
from contextlib import contextmanager
from html import unescape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core import mail, signing
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.utils import translation

from calls import services as call_services
from calls.alerts import services
from calls.alerts.models import AlertSubscription, SentAlert
from calls.choices import PublicationState
from calls.models import Call
from registry.settings.base import email_settings
from tests.factories import (
    CallFactory,
    CallFunderFactory,
    CeilingFactory,
    FunderFactory,
    SourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
D0 = datetime.date(2027, 3, 1)  # a Monday: the visitor subscribes
DAY = datetime.timedelta(days=1)
SCRIPT = '<script>alert("x")</script>'


@pytest.fixture(autouse=True)
def french():
    """Paths built in the tests (`get_absolute_url()`) in the default language, whatever ran before."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


def at(day: datetime.date, hour: int = 8) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=PARIS)


@contextmanager
def clock(day, hour=8):
    with time_machine.travel(at(day, hour), tick=False):
        yield


def published_call(*, published_on=D0, **fields):
    """A call created as a draft, then published through the services at noon on `published_on`."""
    fields.setdefault("opens_on", D0 - 10 * DAY)
    fields.setdefault("closes_on", D0 + 60 * DAY)
    fields.pop("published_at", None)
    state = fields.pop("publication_state", PublicationState.PUBLISHED)
    call = CallFactory(publication_state=PublicationState.DRAFT, **fields)
    SourceFactory(call=call, covers="opens_on, closes_on, total_budget_eur, ceilings, rounds")
    with time_machine.travel(at(published_on, 12), tick=False):
        call_services.set_publication_state(call=call, state=state, reason="test")
    return call


def links(message) -> list[str]:
    return re.findall(r"https?://[^\s<>\"']+", message.body)


def link_to(message, fragment: str) -> str:
    return urlsplit(next(url for url in links(message) if fragment in url)).path


def send_alerts() -> int:
    """Run the command; how many messages it sent."""
    before = len(mail.outbox)
    call_command("send_alerts", stdout=open("/dev/null", "w"))
    return len(mail.outbox) - before


def subscribe(client, address="ana@example.org", query="q=vecteurs", language="fr", rhythm="daily"):
    response = client.post("/alertes/", {"email": address, "language": language, "rhythm": rhythm, "query": query})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def subscribe_and_confirm(client, on=D0, **kwargs) -> AlertSubscription:
    with clock(on, 10):
        subscribe(client, **kwargs)
        confirm = link_to(mail.outbox[-1], "/confirmer/")
        assert client.get(confirm).status_code == 200
        assert client.post(confirm).status_code == 302
    return AlertSubscription.objects.get(email=kwargs.get("address", "ana@example.org"))


# --- Subscribing, confirming, digests ------------------------------------------------------------

def test_subscribe_confirm_and_receive_one_digest_a_day_of_the_matching_new_calls(client):
    with clock(D0, 10):
        already_there = published_call(title="Vecteurs viraux : appel déjà publié", published_on=D0 - 20 * DAY)
        response = subscribe(client, query="q=vecteurs&page=3&unknown=1")
        assert response["Location"].endswith("/alertes/envoyee/")
        assert "Vérifiez votre boîte" in client.get(response["Location"]).content.decode()
        [confirmation] = mail.outbox
        assert confirmation.to == ["ana@example.org"]
        assert "Confirmez" in confirmation.subject
        assert send_alerts() == 0  # nothing but the confirmation before the link is followed
        confirm = link_to(confirmation, "/confirmer/")
        page = client.get(confirm)
        # Before confirmation, the words searched for are named, not quoted (anyone may have typed them).
        assert page.status_code == 200 and "vecteurs" not in page.content.decode()
        assert "les mots recherchés" in page.content.decode()
        assert not AlertSubscription.objects.get().is_confirmed  # following the link alone changes nothing
        manage = client.post(confirm)
        assert manage.status_code == 302 and "/alertes/gerer/" in manage["Location"]
        subscription = AlertSubscription.objects.get()
        assert subscription.is_confirmed and subscription.query == "q=vecteurs"

    with clock(D0, 15):
        matching = published_call(title="Production de vecteurs viraux", published_on=D0)
        published_call(title="Anticorps monoclonaux", published_on=D0)  # another subject
        published_call(title="Vecteurs : brouillon", publication_state="draft")

    with clock(D0 + DAY, 7):
        assert send_alerts() == 1
        assert send_alerts() == 0  # the same day again: nothing twice
        digest = mail.outbox[-1]
        assert "Production de vecteurs viraux" in digest.body
        assert "Anticorps" not in digest.body and "brouillon" not in digest.body
        assert already_there.title not in digest.body
        assert "Nouvellement publiés" in digest.body
        assert SentAlert.objects.filter(subscription=subscription, call=matching, reason="new").count() == 1

    with clock(D0 + 2 * DAY, 7):
        assert send_alerts() == 0  # nothing new to say: no digest


def test_deadline_reminders_14_and_3_days_before_each_once(client):
    deadline = D0 + 30 * DAY
    with clock(D0 - 5 * DAY):
        call = published_call(title="Vecteurs : échéance en avril", published_on=D0 - 5 * DAY, closes_on=deadline)
        CallFunderFactory(call=call, funder=FunderFactory(name="Bpifrance"))
        CeilingFactory(call=call, amount_eur=2_500_000)
    subscribe_and_confirm(client)
    with clock(D0 + DAY):
        assert send_alerts() == 0  # known before subscribing, open already, deadline far off
    with clock(deadline - 14 * DAY, 6):
        assert send_alerts() == 1
        assert send_alerts() == 0
        reminder = mail.outbox[-1]
        assert "Échéance dans 14 jours ou moins" in reminder.body
        assert "Vecteurs : échéance en avril" in reminder.body
        assert "Bpifrance" in reminder.body and "2,5 M€" in reminder.body  # the facts a card shows
        assert call.get_absolute_url() in reminder.body
    with clock(deadline - 13 * DAY, 6):
        assert send_alerts() == 0
    with clock(deadline - 3 * DAY, 6):
        assert send_alerts() == 1
        assert "Échéance dans 3 jours ou moins" in mail.outbox[-1].body
        assert send_alerts() == 0
    with clock(deadline - 2 * DAY, 6):
        assert send_alerts() == 0
    reasons = sorted(SentAlert.objects.filter(call=call).values_list("reason", flat=True))
    assert reasons == ["deadline_14", "deadline_3"]


def test_a_call_that_opens_is_announced_once(client):
    with clock(D0 - DAY):
        published_call(title="Vecteurs : ouverture en mars", published_on=D0 - DAY,
                       opens_on=D0 + 5 * DAY, closes_on=D0 + 90 * DAY)
    subscribe_and_confirm(client)
    with clock(D0 + 4 * DAY):
        assert send_alerts() == 0  # still upcoming
    with clock(D0 + 5 * DAY):
        assert send_alerts() == 1
        assert "Maintenant ouverts" in mail.outbox[-1].body
    with clock(D0 + 6 * DAY):
        assert send_alerts() == 0


def test_weekly_alerts_wait_a_week_between_digests(client):
    subscribe_and_confirm(client, rhythm="weekly")
    with clock(D0 + DAY, 13):
        published_call(title="Vecteurs un", published_on=D0 + DAY)
        assert send_alerts() == 1
    with clock(D0 + 3 * DAY, 13):
        published_call(title="Vecteurs deux", published_on=D0 + 3 * DAY)
        assert send_alerts() == 0  # two days later: not yet
    with clock(D0 + 8 * DAY):
        assert send_alerts() == 1
        assert "Vecteurs deux" in mail.outbox[-1].body and "Vecteurs un" not in mail.outbox[-1].body


def test_an_english_subscriber_gets_english_messages_and_english_links(client):
    subscribe_and_confirm(client, language="en")
    assert mail.outbox[0].subject == "Confirm your alert on new funding calls"
    assert "/en/alertes/confirmer/" in mail.outbox[0].body
    with clock(D0 + DAY):
        call = published_call(title="Viral vectors (vecteurs)", published_on=D0 + DAY)
    with clock(D0 + 2 * DAY):
        assert send_alerts() == 1
    digest = mail.outbox[-1]
    assert digest.subject == "1 funding call for your alert"
    assert "Newly published" in digest.body and f"/en/appels/{call.slug}/" in digest.body
    assert "/en/alertes/gerer/" in digest.body


def test_remind_me_before_the_deadline_of_one_call(client):
    deadline = D0 + 20 * DAY
    with clock(D0 - DAY):
        call = published_call(title="Appel suivi", published_on=D0 - 10 * DAY, closes_on=deadline)
        other = published_call(title="Autre appel proche", published_on=D0 - 10 * DAY, closes_on=deadline)
    with clock(D0, 10):
        page = client.get(call.get_absolute_url()).content.decode()
        assert "Me le rappeler avant l'échéance" in unescape(page) and f"/alertes/rappel/{call.slug}/" in page
        response = client.post(f"/alertes/rappel/{call.slug}/", {"email": "bo@example.org", "language": "fr"})
        assert response.status_code == 302
        assert "Appel suivi" in mail.outbox[-1].subject
        client.post(link_to(mail.outbox[-1], "/confirmer/"))
    subscription = AlertSubscription.objects.get(email="bo@example.org")
    assert subscription.is_confirmed and subscription.call == call
    with clock(deadline - 14 * DAY):
        assert send_alerts() == 1
        reminder = mail.outbox[-1]
        assert reminder.subject == "Rappel d'échéance : Appel suivi"
        assert "Appel suivi" in reminder.body and other.title not in reminder.body
    with clock(deadline - 3 * DAY):
        assert send_alerts() == 1
    with clock(deadline + DAY):
        send_alerts()
        assert not AlertSubscription.objects.filter(pk=subscription.pk).exists()  # the call closed: forgotten


def test_no_reminder_form_for_a_call_without_a_deadline_ahead(client):
    with clock(D0):
        closed = published_call(opens_on=D0 - 60 * DAY, closes_on=D0 - 10 * DAY)
        assert "/alertes/rappel/" not in client.get(closed.get_absolute_url()).content.decode()
        response = client.post(f"/alertes/rappel/{closed.slug}/", {"email": "bo@example.org", "language": "fr"})
        assert response.status_code == 400
        assert "pas d'échéance à venir" in unescape(response.content.decode())
        assert client.post("/alertes/rappel/no-such-call/", {"email": "bo@example.org"}).status_code == 404
    assert not mail.outbox


# --- Unsubscribing and changing ------------------------------------------------------------------

def test_one_click_unsubscribe_by_the_headers_post_deletes_the_last_alert_and_the_address(client):
    subscribe_and_confirm(client)
    with clock(D0 + DAY):
        published_call(title="Vecteurs nouveaux", published_on=D0 + DAY)
    with clock(D0 + 2 * DAY):
        assert send_alerts() == 1
    digest = mail.outbox[-1]
    assert digest.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(https?://[^>]+)>", digest.extra_headers["List-Unsubscribe"]).group(1)
    assert url in digest.body  # the same link in the body
    provider = Client(enforce_csrf_checks=True)  # the mail provider posts with no cookie and no CSRF token
    response = provider.post(urlsplit(url).path, "List-Unsubscribe=One-Click",
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "Cette alerte est supprimée, et votre adresse avec elle" in unescape(response.content.decode())
    assert not AlertSubscription.objects.filter(email="ana@example.org").exists()
    assert not SentAlert.objects.exists()
    again = provider.post(urlsplit(url).path, "List-Unsubscribe=One-Click",
                          content_type="application/x-www-form-urlencoded")
    assert again.status_code == 200 and "déjà supprimée" in again.content.decode()
    with clock(D0 + 3 * DAY):
        published_call(title="Vecteurs encore", published_on=D0 + 3 * DAY)
        assert send_alerts() == 0


def test_unsubscribing_from_one_alert_stops_that_one_and_says_the_others_go_on(client):
    """The page says what was done: this alert is deleted, the address's other alert goes on (the
    address is kept for it), with a link to manage it; nothing says the address is deleted."""
    subscribe_and_confirm(client)
    vectors = AlertSubscription.objects.get()
    with clock(D0, 11):
        subscribe(client, query="q=anticorps")
        confirm = link_to(mail.outbox[-1], "/confirmer/")
        assert client.post(confirm).status_code == 302
    antibodies = AlertSubscription.objects.exclude(pk=vectors.pk).get()
    token = services.make_token(vectors, purpose="manage")
    asked = unescape(client.get(f"/alertes/desabonner/{token}/").content.decode())
    assert "Arrêter cette alerte ? Plus rien ne sera envoyé pour elle ; vos autres alertes" in asked
    response = Client(enforce_csrf_checks=True).post(f"/alertes/desabonner/{token}/", "List-Unsubscribe=One-Click",
                                                     content_type="application/x-www-form-urlencoded")
    page = unescape(response.content.decode())
    assert response.status_code == 200
    assert list(AlertSubscription.objects.values_list("pk", flat=True)) == [antibodies.pk]
    assert "Cette alerte est supprimée : plus rien ne sera envoyé pour elle." in page
    assert "Votre adresse a encore 1 autre alerte, qui continue" in page and "anticorps" in page
    assert "votre adresse avec elle" not in page
    manage = re.search(r'href="(/alertes/gerer/[^"]+/)"', page).group(1)
    assert "anticorps" in client.get(manage).content.decode()
    with clock(D0 + DAY):
        published_call(title="Vecteurs nouveaux, anticorps nouveaux", published_on=D0 + DAY)
    with clock(D0 + 2 * DAY):
        assert send_alerts() == 1  # the other alert's digest, only


def test_unsubscribe_link_shows_a_button_and_changes_nothing_by_itself(client):
    subscribe_and_confirm(client)
    token = services.make_token(AlertSubscription.objects.get(), purpose="manage")
    page = client.get(f"/alertes/desabonner/{token}/")
    assert page.status_code == 200 and "List-Unsubscribe" in page.content.decode()
    assert AlertSubscription.objects.exists()


def test_change_rhythm_language_and_search_from_the_link_in_the_messages(client):
    subscription = subscribe_and_confirm(client)
    token = services.make_token(subscription, purpose="manage")
    manage = f"/alertes/gerer/{token}/"
    page = client.get(manage).content.decode()
    assert "vecteurs" in page
    response = client.post(manage, {"rhythm": "weekly", "language": "en"})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.rhythm, subscription.language) == ("weekly", "en")
    change_link = re.search(r'href="(/\?[^"]*alert=[^"]+)"', page).group(1).replace("&amp;", "&")
    search_page = client.get(change_link).content.decode()
    assert "Enregistrer cette recherche dans mon alerte" in search_page
    response = client.post("/alertes/recherche/", {"token": token, "query": "q=anticorps&region=11&alert=" + token})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.query == "q=anticorps&region=11"


def test_delete_every_alert_of_an_address(client):
    subscribe_and_confirm(client)
    with clock(D0, 11):
        subscribe(client, query="q=anticorps")
    assert AlertSubscription.objects.filter(email="ana@example.org").count() == 2
    token = services.make_token(AlertSubscription.objects.first(), purpose="manage")
    assert client.post(f"/alertes/oublier/{token}/").status_code == 200
    assert not AlertSubscription.objects.filter(email="ana@example.org").exists()


def test_unconfirmed_alerts_are_forgotten_after_a_few_days(client):
    with clock(D0, 10):
        subscribe(client)
    with clock(D0 + 2 * DAY):
        send_alerts()
        assert AlertSubscription.objects.exists()
    with clock(D0 + 3 * DAY, 11):
        send_alerts()
        assert not AlertSubscription.objects.exists()


# --- Bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "", "not-an-email", "ana@", "@example.org", "ana@example.org\r\nBcc: victim@example.org",
    "ana@example.org\nSubject: spam", f"{SCRIPT}@example.org", "a" * 250 + "@example.org", "ana@exa mple.org",
])
def test_invalid_addresses_get_a_form_message_and_no_mail(client, address):
    response = client.post("/alertes/", {"email": address, "language": "fr", "rhythm": "daily", "query": "q=x"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="email-error"' in body and SCRIPT not in body
    assert not mail.outbox and not AlertSubscription.objects.exists()


@pytest.mark.parametrize("data", [
    {"language": "xx"}, {"rhythm": "hourly"}, {"rhythm": SCRIPT}, {"language": SCRIPT},
])
def test_invalid_choices_name_their_field(client, data):
    response = client.post("/alertes/", {"email": "ana@example.org", "language": "fr", "rhythm": "daily", **data})
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="{next(iter(data))}-error"' in body and SCRIPT not in body
    assert not mail.outbox


def test_hostile_search_strings_are_saved_cleaned_and_shown_escaped(client):
    hostile = f"q={SCRIPT}&region=%0D%0ABcc:x&status={SCRIPT}&evil=1&theme=..%2F..%2Fetc"
    assert client.get("/alertes/?" + hostile).status_code == 200
    for nul in ("q=%00", "theme=%00&funder=%00&programme=%00"):
        assert client.get("/alertes/?" + nul).status_code == 200
        query = nul.replace("%00", "\x00")
        refused = client.post("/alertes/", {"email": "ana@example.org", "language": "fr", "query": query})
        assert refused.status_code == 400 and "Recherche enregistrée" in refused.content.decode()
    page = client.get("/", {"q": SCRIPT}).content.decode()
    assert SCRIPT not in page and "&lt;script&gt;" in page  # the hidden query of the alert form too
    subscribe(client, query=hostile)
    subscription = AlertSubscription.objects.get()
    assert subscription.query.startswith("q=%3Cscript%3E")  # the text searched; invalid filters left out
    assert "region" not in subscription.query and "evil" not in subscription.query
    assert SCRIPT not in mail.outbox[0].alternatives[0][0]
    assert "\n" not in mail.outbox[0].subject


def test_a_hostile_call_title_is_escaped_in_the_html_and_kept_on_one_line_in_the_subject(client):
    with clock(D0):
        call = published_call(title=f"Vecteurs {SCRIPT}\r\nBcc: victim@example.org", closes_on=D0 + 10 * DAY)
        client.post(f"/alertes/rappel/{call.slug}/", {"email": "bo@example.org", "language": "fr"})
        assert "\n" not in mail.outbox[-1].subject and "\r" not in mail.outbox[-1].subject
        client.post(link_to(mail.outbox[-1], "/confirmer/"))
        assert send_alerts() == 1
    html = mail.outbox[-1].alternatives[0][0]
    assert SCRIPT not in html and "&lt;script&gt;" in html
    assert "\n" not in mail.outbox[-1].subject
    assert mail.outbox[-1].message()["Bcc"] is None


def forged_tokens(subscription):
    manage = services.make_token(subscription, purpose="manage")
    confirm = services.make_token(subscription, purpose="confirm")
    return {
        "random": "nothing-signed-here",
        "altered signature": manage[:-2] + ("AA" if not manage.endswith("AA") else "BB"),
        "other purpose": confirm,  # a confirmation token does not manage
        "not a pair": signing.dumps({"id": subscription.pk}, salt=services.SALTS["manage"]),
        "script": SCRIPT.replace("/", ""),
    }


def test_forged_links_get_a_clear_message_never_an_error(client):
    subscription = subscribe_and_confirm(client)
    provider = Client(enforce_csrf_checks=True)
    for name, token in forged_tokens(subscription).items():
        for method, path in [
            ("get", f"/alertes/gerer/{token}/"), ("post", f"/alertes/gerer/{token}/"),
            ("get", f"/alertes/desabonner/{token}/"), ("post", f"/alertes/desabonner/{token}/"),
            ("post", f"/alertes/oublier/{token}/"),
        ]:
            response = getattr(provider if "desabonner" in path else client, method)(path, {"rhythm": "weekly"})
            assert response.status_code == 400, (name, method, path, response.status_code)
            body = response.content.decode()
            assert ("Ce lien n'est pas valide" in unescape(body) or "Cette alerte n'existe plus" in unescape(body))
            assert SCRIPT not in body, (name, path)
        response = client.post("/alertes/recherche/", {"token": token, "query": "q=x"})
        assert response.status_code == 400, name
    for name, token in forged_tokens(subscription).items():
        if name != "other purpose":
            assert client.post(f"/alertes/confirmer/{token}/").status_code == 400, name
    subscription.refresh_from_db()
    assert subscription.rhythm == "daily" and subscription.query == "q=vecteurs"


def test_links_of_a_deleted_alert_say_it_no_longer_exists(client):
    """Signed right (only the site can sign) but naming an alert deleted since, or another one's secret."""
    subscription = subscribe_and_confirm(client)
    for token in (signing.dumps([subscription.pk, "old-secret"], salt=services.SALTS["manage"]),
                  signing.dumps([subscription.pk + 1, subscription.secret], salt=services.SALTS["manage"])):
        response = client.get(f"/alertes/gerer/{token}/")
        assert response.status_code == 400 and "Cette alerte n'existe plus" in unescape(response.content.decode())
        unsubscribed = Client(enforce_csrf_checks=True).post(f"/alertes/desabonner/{token}/")
        assert unsubscribed.status_code == 200 and "déjà supprimée" in unsubscribed.content.decode()
    assert AlertSubscription.objects.filter(pk=subscription.pk).exists()


def test_an_expired_confirmation_link_says_so(client):
    with clock(D0, 10):
        subscribe(client)
        confirm = link_to(mail.outbox[-1], "/confirmer/")
    with clock(D0 + 2 * DAY):
        assert client.get(confirm).status_code == 200
    with clock(D0 + 3 * DAY, 11):
        response = client.post(confirm)
    assert response.status_code == 400
    assert "Ce lien de confirmation a expiré" in response.content.decode()
    assert not AlertSubscription.objects.filter(confirmed_at__isnull=False).exists()


def test_confirmation_requests_are_limited_per_email_per_day(client):
    with clock(D0, 10):
        for _ in range(3):
            subscribe(client)
        response = client.post("/alertes/", {"email": "ana@example.org", "language": "fr", "rhythm": "daily"})
        assert response.status_code == 429
        assert "déjà été envoyée plusieurs fois" in response.content.decode()
        assert len(mail.outbox) == 3
    with clock(D0 + DAY, 11):
        subscribe(client)
        assert len(mail.outbox) == 4


@override_settings(ALERTS_SUBSCRIPTIONS_PER_ADDRESS_PER_HOUR=5)
def test_subscriptions_are_limited_per_client_address(client):
    with clock(D0, 10):
        for n in range(5):
            subscribe(client, address=f"person{n}@example.org")
        response = client.post("/alertes/", {"email": "more@example.org", "language": "fr", "rhythm": "daily"})
        assert response.status_code == 429
        other_network = Client(REMOTE_ADDR="192.0.2.7")
        subscribe(other_network, address="more@example.org")
    assert len(mail.outbox) == 6


@override_settings(ALERTS_MAX_PER_EMAIL=2, ALERTS_CONFIRMATIONS_PER_EMAIL_PER_DAY=10)
def test_an_address_has_a_bounded_number_of_alerts(client):
    subscribe(client, query="q=a")
    subscribe(client, query="q=b")
    response = client.post("/alertes/", {"email": "ana@example.org", "language": "fr", "query": "q=c",
                                         "rhythm": "daily"})
    assert response.status_code == 400 and 'id="email-error"' in response.content.decode()
    assert AlertSubscription.objects.count() == 2


def test_the_same_search_twice_is_one_alert(client):
    subscribe(client, query="q=vecteurs&beneficiary=startup&beneficiary=sme")
    subscribe(client, query="beneficiary=sme&q=vecteurs&beneficiary=startup&page=2")
    assert AlertSubscription.objects.count() == 1
    assert len(mail.outbox) == 2


def test_a_mail_server_down_gives_a_message_and_keeps_nothing(client):
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                           EMAIL_PORT=free_port(), EMAIL_TIMEOUT=2):
        response = client.post("/alertes/", {"email": "ana@example.org", "language": "fr", "rhythm": "daily"})
    assert response.status_code == 503
    assert "n'a pas pu être envoyé" in unescape(response.content.decode())
    assert not AlertSubscription.objects.exists()


# --- Pages ---------------------------------------------------------------------------------------

def test_the_search_page_offers_the_alert_for_its_own_filters(client):
    page = client.get("/", {"q": "vecteurs", "region": "11"}).content.decode()
    assert "Recevoir les nouveaux appels par e-mail" in page
    assert re.search(r'name="query" value="q=vecteurs&amp;region=11"', page)
    assert 'action="/alertes/"' in page
    english = client.get("/en/", {"q": "vectors"}).content.decode()
    assert "Receive new calls by email" in english and 'value="en" selected' in english


def test_the_subscribe_page_describes_the_search(client):
    page = client.get("/alertes/", {"q": "vecteurs", "region": "11", "status": "open"}).content.decode()
    assert "Île-de-France" in page and "vecteurs" in page and "Ouvert" in page


# --- The admin -----------------------------------------------------------------------------------

ADMIN = "/en/admin/alerts/alertsubscription/"


def test_curators_see_alerts_without_addresses_and_cannot_export_or_delete(curator_client):
    AlertSubscription.objects.create(email="secret@example.org", language="fr", query="q=vecteurs")
    page = curator_client.get(ADMIN)
    assert page.status_code == 200
    body = page.content.decode()
    assert "secret@example.org" not in body and "q=vecteurs" in body and "export_for_data_protection" not in body
    assert "secret@example.org" not in curator_client.get(ADMIN + "?q=secret%40example.org").content.decode()
    pk = AlertSubscription.objects.get().pk
    detail = curator_client.get(f"{ADMIN}{pk}/change/").content.decode()
    assert "secret@example.org" not in detail
    curator_client.post(ADMIN, {"action": "delete_selected", "_selected_action": [pk], "post": "yes"})
    assert AlertSubscription.objects.exists()


def test_staff_with_the_permission_find_an_address_and_export_its_data(client):
    officer = UserFactory(username="dpo", is_staff=True)
    officer.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_alertsubscription", "view_subscriber_email", "delete_alertsubscription"]
    ))
    client.force_login(officer)
    subscribe_and_confirm(client, address="ana@example.org")
    with clock(D0 + DAY):
        call = published_call(title="Vecteurs exportés", published_on=D0 + DAY)
    with clock(D0 + 2 * DAY):
        send_alerts()
    AlertSubscription.objects.create(email="other@example.org", language="en")
    found = client.get(ADMIN, {"q": "ana@example.org"}).content.decode()
    assert "ana@example.org" in found and "other@example.org" not in found
    pk = AlertSubscription.objects.get(email="ana@example.org").pk
    response = client.post(ADMIN, {"action": "export_for_data_protection", "_selected_action": [pk]})
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    [exported] = data["subscriptions"]
    assert exported["email"] == "ana@example.org" and exported["saved_search"] == "q=vecteurs"
    assert exported["sent"] == [{"call": call.slug, "reason": "new", "sent_at": exported["sent"][0]["sent_at"]}]
    client.post(ADMIN, {"action": "delete_selected", "_selected_action": [pk], "post": "yes"})
    assert not AlertSubscription.objects.filter(email="ana@example.org").exists()


def test_no_one_adds_or_edits_alerts_in_the_admin(admin_client):
    subscription = AlertSubscription.objects.create(email="ana@example.org", language="fr")
    assert admin_client.get(ADMIN + "add/").status_code == 403
    admin_client.post(f"{ADMIN}{subscription.pk}/change/", {"email": "mallory@example.org"})
    subscription.refresh_from_db()
    assert subscription.email == "ana@example.org"


# --- Mail settings and a real SMTP server --------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("smtp://user%40x:p%40ss@mail.example.org:587?tls=true",
     {"EMAIL_HOST": "mail.example.org", "EMAIL_PORT": 587, "EMAIL_HOST_USER": "user@x",
      "EMAIL_HOST_PASSWORD": "p@ss", "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False}),
    ("smtps://mail.example.org", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False}),
    ("smtp://localhost", {"EMAIL_PORT": 25, "EMAIL_USE_TLS": False, "EMAIL_HOST_USER": ""}),
    ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
])
def test_mail_settings_come_from_email_url(url, expected):
    config = email_settings({"EMAIL_URL": url})
    assert {key: config[key] for key in expected} == expected


def test_mail_settings_from_the_usual_variables_and_a_bad_url():
    config = email_settings({"EMAIL_HOST": "relay", "EMAIL_PORT": "2525", "EMAIL_USE_TLS": "true"})
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"], config["EMAIL_USE_TLS"]) == ("relay", 2525, True)
    with pytest.raises(ValueError, match="EMAIL_URL"):
        email_settings({"EMAIL_URL": "http://mail"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self):
        self.messages = []
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self.received.set()
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                               EMAIL_HOST="127.0.0.1", EMAIL_PORT=controller.port, EMAIL_USE_TLS=False,
                               EMAIL_TIMEOUT=10):
            yield inbox
    finally:
        controller.stop()


def test_a_digest_through_a_real_smtp_server(client, smtp_server):
    def received(n):
        mail_from, recipients, raw = smtp_server.messages[n]
        assert recipients == ["ana@example.org"]
        return email.message_from_bytes(raw, policy=email.policy.default)

    with clock(D0, 10):
        subscribe(client)
        confirmation = received(0)
        assert str(confirmation["Subject"]).strip() == "Confirmez votre alerte sur les nouveaux appels à financement"
        text = confirmation.get_body(preferencelist=("plain",)).get_content()
        confirm = re.search(r"https?://\S+/alertes/confirmer/\S+/", text).group(0)
        assert confirm in confirmation.get_body(preferencelist=("html",)).get_content()
        client.post(urlsplit(confirm).path)
    with clock(D0 + DAY):
        call = published_call(title="Vecteurs par SMTP", published_on=D0 + DAY, closes_on=D0 + 10 * DAY)
    with clock(D0 + 2 * DAY):
        call_command("send_alerts", stdout=open("/dev/null", "w"))
    assert len(smtp_server.messages) == 2  # the confirmation, then the digest
    message = received(1)

    unsubscribe = re.fullmatch(r"<(https?://[^>]+)>", str(message["List-Unsubscribe"]).strip()).group(1)
    assert unsubscribe.startswith(settings.SITE_URL + "/alertes/desabonner/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["To"] == "ana@example.org" and message["Auto-Submitted"] == "auto-generated"
    assert str(message["Subject"]).strip() == "1 appel à financement pour votre alerte"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "Vecteurs par SMTP" in body
        assert settings.SITE_URL + f"/appels/{call.slug}/" in body
        assert unsubscribe in body and "/alertes/gerer/" in body
    # No tracking pixel, no external resource: no image, stylesheet, script or frame; links only to the site.
    assert not re.search(r"<(img|link|script|iframe|object|embed)\b|\bsrc=|url\(", html, re.IGNORECASE)
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert len(hrefs) >= 4 and all(href.startswith(settings.SITE_URL + "/") for href in hrefs), hrefs
    # The unsubscribe link works as RFC 8058 says, and the address is gone.
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(urlsplit(unsubscribe).path, "List-Unsubscribe=One-Click",
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert not AlertSubscription.objects.exists() and Call.objects.filter(pk=call.pk).exists()


# --- Crashes and scale ---------------------------------------------------------------------------

class FailingBackend:
    """A mail server that accepts the connection, then refuses the first message."""

    sent = []
    failures = 1

    def __init__(self, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        import smtplib

        if FailingBackend.failures:
            FailingBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("connection lost")
        FailingBackend.sent.extend(messages)
        return len(messages)


def test_a_failed_run_records_nothing_and_the_next_one_sends_once(client):
    subscribe_and_confirm(client)
    with clock(D0 + DAY):
        published_call(title="Vecteurs après la panne", published_on=D0 + DAY)
    FailingBackend.sent, FailingBackend.failures = [], 1
    with clock(D0 + 2 * DAY), override_settings(EMAIL_BACKEND="tests.alerts.test_alerts.FailingBackend"):
        with pytest.raises(CommandError, match="tried again"):
            call_command("send_alerts", stdout=open("/dev/null", "w"))
        assert not SentAlert.objects.exists()
        assert AlertSubscription.objects.get().last_sent_at is None
        call_command("send_alerts", stdout=open("/dev/null", "w"))
        call_command("send_alerts", stdout=open("/dev/null", "w"))
    assert len(FailingBackend.sent) == 1 and "Vecteurs après la panne" in FailingBackend.sent[0].body


def test_dry_run_lists_without_sending_or_recording(client):
    subscribe_and_confirm(client)
    with clock(D0 + DAY):
        call = published_call(title="Vecteurs à lister", published_on=D0 + DAY)
    with clock(D0 + 2 * DAY):
        out = io.StringIO()
        call_command("send_alerts", "--dry-run", stdout=out)
        assert f"{call.slug} (new)" in out.getvalue()
        assert not SentAlert.objects.exists() and send_alerts() == 1


@pytest.mark.parametrize("calls", [2, pytest.param(12, marks=pytest.mark.slow)])  # (many calls: the slow tier)
def test_sending_reads_a_bounded_number_of_queries_per_alert(client, django_assert_max_num_queries, calls):
    for n in range(3):
        subscribe_and_confirm(client, address=f"person{n}@example.org")
    with clock(D0 + DAY):
        for n in range(calls):
            call = published_call(title=f"Vecteurs {n}", published_on=D0 + DAY, closes_on=D0 + 10 * DAY)
            CallFunderFactory(call=call)
            CeilingFactory(call=call)
    # Measured: 56 for three alerts, with 2 calls as with 12 (about 18 per alert, none per call).
    with clock(D0 + 2 * DAY), django_assert_max_num_queries(60):
        assert send_alerts() == 3


# --- What a stranger can make the registry send ------------------------------------------------

STRANGER_TEXT = "Gagnez 10000 EUR sur arnaque point example"


def test_the_confirmation_names_the_search_by_its_filters_and_never_quotes_the_words(client):
    from urllib.parse import quote_plus

    funder = FunderFactory(name="Bpifrance")
    with clock(D0, 10):
        subscribe(client, query=f"q={quote_plus(STRANGER_TEXT)}&status=open&funder={funder.slug}&region=11")
    [confirmation] = mail.outbox
    html = confirmation.alternatives[0][0]
    for text in (confirmation.subject, confirmation.body, html):
        assert "Gagnez" not in text and "arnaque" not in text and "10000" not in text
    for link in links(confirmation):  # no link carrying the words either
        assert "Gagnez" not in link and "arnaque" not in link
    # The filters are named by their labels and the registry's own values.
    assert "Bpifrance" in confirmation.body and "Île-de-France" in confirmation.body and "Ouvert" in confirmation.body
    assert "les mots recherchés (affichés une fois l’alerte confirmée)" in confirmation.body
    # Once confirmed, the address has asked for it: its pages and digests show the words.
    confirm = link_to(confirmation, "/confirmer/")
    assert "arnaque" not in client.get(confirm).content.decode()
    with clock(D0, 10):
        manage = client.post(confirm)
    assert STRANGER_TEXT in client.get(manage["Location"]).content.decode()


def test_the_per_address_limit_counts_the_mailbox_without_its_tag(client):
    with clock(D0, 10):
        for n in range(3):
            subscribe(client, address=f"ana+{n}@example.org", query=f"q=mot{n}")
        response = client.post("/alertes/", {"email": "Ana+autre@Example.org", "language": "fr", "rhythm": "daily",
                                             "query": "q=autre"})
        assert response.status_code == 429 and "déjà été envoyée plusieurs fois" in response.content.decode()
        assert len(mail.outbox) == 3
        subscribe(client, address="bea@example.org")  # another mailbox


@pytest.mark.parametrize("address", [
    "ana@localhost", "ana@LOCALHOST", "ana@intranet", "ana@[127.0.0.1]", "ana@[IPv6:::1]", "ana@1.2.3.44",
    "ana@printer.local", "ana@box.lan", "ana@svc.internal", "ana@nas.home.arpa", "ana@mail.test",
    "ana@foo.localhost",
])
def test_local_ip_literal_and_dotless_domains_are_a_form_error(client, address):
    response = client.post("/alertes/", {"email": address, "language": "fr", "rhythm": "daily", "query": "q=x"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="email-error"' in body and "domaine de messagerie public" in body
    assert not mail.outbox and not AlertSubscription.objects.exists()


def test_the_alerts_admin_address_from_before_their_app_leads_to_their_new_one(admin_client):
    response = admin_client.get("/en/admin/calls/alertsubscription/?q=ana")
    assert (response.status_code, response["Location"]) == (301, "/en/admin/alerts/alertsubscription/?q=ana")


def test_make_run_points_the_links_of_alert_messages_to_the_address_it_serves():
    """`make run PORT=8123` gives runserver SITE_URL=http://127.0.0.1:8123, and the messages'
    links are built on that setting (a SITE_URL given by the environment is kept)."""
    import os
    import subprocess
    import sys

    environment = {name: value for name, value in os.environ.items()
                   if name not in ("SITE_URL", "DJANGO_SETTINGS_MODULE", "MAKEFLAGS", "MAKELEVEL")}
    dry_run = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=settings.BASE_DIR, env=environment,
                             capture_output=True, text=True, check=True).stdout
    [line] = [line for line in dry_run.splitlines() if "runserver" in line]
    assert line == "SITE_URL=http://127.0.0.1:8123 .venv/bin/python manage.py runserver 127.0.0.1:8123"
    given = subprocess.run(["make", "-n", "run"], cwd=settings.BASE_DIR, capture_output=True, text=True,
                           env={**environment, "SITE_URL": "https://registry.example.org"}, check=True).stdout
    assert "SITE_URL=https://registry.example.org .venv/bin/python manage.py runserver 127.0.0.1:8000" in given
    # What runserver's settings then give the messages' links (the local settings, as `make run`).
    link = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c",
         "from calls.alerts.messages import site_url; print(site_url('/alertes/gerer/x/'))"],
        cwd=settings.BASE_DIR, capture_output=True, text=True, check=True,
        env={**environment, "SITE_URL": "http://127.0.0.1:8123"},
    ).stdout.strip()
    assert link == "http://127.0.0.1:8123/alertes/gerer/x/"
