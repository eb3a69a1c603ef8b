"""The iCalendar export (`calls.reading.calendar`) through the client: its events are the read model's
date facts, the days the status and the next deadline follow, named from the stored documents."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls.models import Call
from tests.factories import CallFactory, RoundFactory

pytestmark = pytest.mark.django_db

EVERY_STATUS = "status=open&status=upcoming&status=closed&status=dates_unknown"
D = datetime.date


def events(client, query=""):
    """The export's events as {UID without the host: {property: value}} (lines unfolded)."""
    response = client.get(f"/export/echeances.ics?{EVERY_STATUS}&{query}")
    assert response.status_code == 200
    body = response.content.decode().replace("\r\n ", "")
    found = {}
    for block in body.split("BEGIN:VEVENT\r\n")[1:]:
        lines = block.split("END:VEVENT")[0].split("\r\n")
        properties = dict(line.split(":", 1) for line in lines if line and not line.startswith(" "))
        properties["alarm"] = "BEGIN:VALARM" in block
        found[properties.pop("UID").split("@")[0]] = properties
    return found


def days(found, *, alarm):
    """{UID: first day} of the deadlines (alarm=True) or of the openings."""
    return {uid: event["DTSTART;VALUE=DATE"] for uid, event in found.items() if event["alarm"] is alarm}


def next_deadline(call, on):
    return Call.objects.with_status(on=on).get(pk=call.pk).next_deadline


def test_rolling_call_with_rounds_shows_its_own_window_too(client):
    call = CallFactory(title="Appel permanent", slug="permanent", is_rolling=True,
                       opens_on=D(2026, 1, 15), closes_on=D(2026, 12, 31))
    first = RoundFactory(call=call, name="Vague 1", opens_on=D(2026, 2, 2), closes_on=D(2026, 3, 31))
    second = RoundFactory(call=call, name="Vague 2", opens_on=D(2026, 6, 1), closes_on=D(2026, 7, 31),
                          closes_on_precision="month")
    found = events(client)
    assert days(found, alarm=True) == {
        f"permanent-round-{first.pk}": "20260331",
        f"permanent-round-{second.pk}": "20260731",
        "permanent-close": "20261231",  # the rolling window's end: the rounds alone left it out
    }
    assert days(found, alarm=False) == {
        "permanent-open": "20260115",  # idem
        f"permanent-round-{first.pk}-open": "20260202",
        f"permanent-round-{second.pk}-open": "20260601",
    }
    assert found["permanent-close"]["SUMMARY"] == "Clôture : Appel permanent"
    assert found[f"permanent-round-{first.pk}"]["SUMMARY"] == "Clôture (Vague 1) : Appel permanent"
    # The round's precision, from the stored document: one day, said approximate.
    assert found[f"permanent-round-{second.pk}"]["SUMMARY"] == (
        "Clôture (Vague 2) : Appel permanent (date approximative : juillet 2026)"
    )
    assert found[f"permanent-round-{second.pk}"]["DTEND;VALUE=DATE"] == "20260801"
    assert found["permanent-open"]["SUMMARY"] == "Ouverture : Appel permanent"
    # The status knows the same day: after the rounds, the call is still open until its own end.
    assert next_deadline(call, D(2026, 8, 1)) == D(2026, 12, 31)


def test_call_with_rounds_and_its_own_later_closing_date_shows_only_the_rounds_deadlines(client):
    call = CallFactory(title="Appel en sessions", slug="sessions", opens_on=D(2026, 3, 1), closes_on=D(2026, 11, 30))
    session = RoundFactory(call=call, name="Session unique", opens_on=D(2026, 3, 1), closes_on=D(2026, 5, 15))
    found = events(client)
    assert days(found, alarm=True) == {f"sessions-round-{session.pk}": "20260515"}
    assert days(found, alarm=False) == {f"sessions-round-{session.pk}-open": "20260301"}
    # No deadline the status doesn't know: once the session closed, the call is closed, with none.
    assert next_deadline(call, D(2026, 6, 1)) is None
    assert Call.objects.with_status(on=D(2026, 6, 1)).get(pk=call.pk).current_status == "closed"


def test_round_without_closing_date_gives_no_deadline_and_the_last_opening(client):
    call = CallFactory(title="Appel en préparation", slug="preparation", opens_on=D(2026, 2, 1),
                       closes_on=D(2026, 9, 30))
    registration = RoundFactory(call=call, name="Pré-inscription", opens_on=D(2026, 4, 1), closes_on=None)
    found = events(client)
    # Before, the call's own closing date stood in for the round's: a deadline of a call the status
    # says is closed from its last opening on.
    assert days(found, alarm=True) == {}
    assert days(found, alarm=False) == {f"preparation-round-{registration.pk}-open": "20260401"}
    assert found[f"preparation-round-{registration.pk}-open"]["SUMMARY"] == (
        "Ouverture (Pré-inscription) : Appel en préparation"
    )
    assert next_deadline(call, D(2026, 5, 1)) is None
    assert Call.objects.with_status(on=D(2026, 5, 1)).get(pk=call.pk).current_status == "closed"


def test_rounds_closing_the_same_day_are_one_deadline_named_after_the_first(client):
    call = CallFactory(title="Appel à deux volets", slug="volets", opens_on=None, closes_on=None)
    first = RoundFactory(call=call, name="Volet A", opens_on=D(2026, 4, 1), closes_on=D(2026, 6, 30))
    second = RoundFactory(call=call, name="Volet B", opens_on=D(2026, 5, 1), closes_on=D(2026, 6, 30))
    found = events(client)
    assert days(found, alarm=True) == {f"volets-round-{first.pk}": "20260630"}
    assert days(found, alarm=False) == {f"volets-round-{first.pk}-open": "20260401",
                                        f"volets-round-{second.pk}-open": "20260501"}
    assert found[f"volets-round-{first.pk}"]["SUMMARY"] == "Clôture (Volet A) : Appel à deux volets"


def test_call_without_rounds_keeps_its_own_uids_and_reminder(client):
    CallFactory(title="Appel simple", slug="simple", opens_on=D(2026, 5, 1), closes_on=D(2026, 7, 31))
    found = events(client)
    assert days(found, alarm=True) == {"simple-close": "20260731"}
    assert days(found, alarm=False) == {"simple-open": "20260501"}
    assert found["simple-close"]["TRIGGER"] == "-P7D"
    assert found["simple-close"]["URL"] == "http://testserver/appels/simple/"


def rolling_with_rounds(n):
    call = CallFactory(slug=f"vagues-{n}", is_rolling=True, opens_on=D(2026, 1, 1), closes_on=D(2026, 12, 31))
    RoundFactory(call=call, opens_on=D(2026, 2, 1), closes_on=D(2026, 3, 31))
    RoundFactory(call=call, opens_on=D(2026, 5, 1), closes_on=D(2026, 6, 30))


def test_export_reads_the_same_number_of_queries_whatever_the_number_of_calls(client):
    for n in range(2):
        rolling_with_rounds(n)
    events(client)  # what a first request reads once (sessions, caches) is left out
    with CaptureQueriesContext(connection) as two:
        assert len(days(events(client), alarm=True)) == 2 * 3
    for n in range(2, 6):
        rolling_with_rounds(n)
    events(client)  # the registry's expected editions, computed once per version
    with CaptureQueriesContext(connection) as six:
        assert len(days(events(client), alarm=True)) == 6 * 3
    assert len(six.captured_queries) == len(two.captured_queries)
    # The dates are the read model's: the rounds are read once, for their keys only.
    round_queries = [q["sql"] for q in six.captured_queries if 'FROM "calls_round"' in q["sql"]]
    assert len(round_queries) == 1


def test_a_subscription_to_what_lies_ahead_holds_no_past_event_and_the_expected_editions(client):
    import time_machine

    with time_machine.travel(datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC), tick=False):
        first = CallFactory(slug="prix-2025", title="Prix 2025", opens_on=D(2025, 3, 3), closes_on=D(2025, 4, 30))
        CallFactory(slug="prix-2026", title="Prix 2026", opens_on=D(2026, 3, 2), closes_on=D(2026, 4, 30),
                    previous_edition=first)
        CallFactory(slug="ouvert", opens_on=D(2026, 5, 1), closes_on=D(2026, 7, 31))
        response = client.get("/export/echeances.ics")  # the default search: open and upcoming
        body = response.content.decode().replace("\r\n ", "")
        uids = {line.split(":", 1)[1].split("@")[0] for line in body.split("\r\n") if line.startswith("UID:")}
        # The open call's opening (1 May) is past: only its deadline is ahead; the series' next
        # edition is a tentative event in March 2027, said to be an estimate.
        assert uids == {"ouvert-close", "prix-2026-expected-202703"}
        expected = body.split("UID:prix-2026-expected-202703")[1].split("END:VEVENT")[0]
        assert "DTSTART;VALUE=DATE:20270301" in expected and "STATUS:TENTATIVE" in expected
        assert "(estimation)" in expected and "mars 2027" in expected
        # Asking for past calls gives their past dates too.
        assert "prix-2025-close" in client.get(f"/export/echeances.ics?{EVERY_STATUS}").content.decode()
