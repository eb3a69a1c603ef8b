"""Helpers shared by test modules (test modules never import from one another)."""
import datetime

from calls.models import (
    Call,
    CallFunder,
    Ceiling,
    Document,
    Funder,
    Laureate,
    Programme,
    Round,
    Source,
    Theme,
)
from calls.querysets import today
from calls.reading import read_model
from tests.factories import CallFactory

DAY = datetime.timedelta(days=1)


def reindex(*, call):
    """After a test wrote a call's rows with factories, behind the services' back: bring the read
    model up to date as `services.save_call` does for every writer."""
    read_model.refresh(call_ids=[call.pk])


def make(**fields):
    """A published call open today (the filters use the real today)."""
    fields.setdefault("opens_on", today() - 10 * DAY)
    fields.setdefault("closes_on", today() + 30 * DAY)
    return CallFactory(**fields)


def empty_the_registry():
    Call.objects.update(previous_edition=None)
    for model in (Source, Laureate, Round, Ceiling, CallFunder, Call):
        model.objects.all().delete()
    Programme.objects.update(parent=None)
    for model in (Programme, Funder, Theme, Document):
        model.objects.all().delete()


def all_results(api, url):
    """Every result of a list, following `next` links."""
    results = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        results += body["results"]
        url = body["next"]
    return results
