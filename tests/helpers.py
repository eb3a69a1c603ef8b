"""Helpers shared by test modules (test modules never import from one another)."""
import datetime
import json

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework import serializers

from calls.api.queries import calls_for_api
from calls.api.serializers import CallSerializer
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
from calls.reading.documents import CALL_ROWS, call_document, document_fields
from tests.factories import CallFactory, refresh_read_model

DAY = datetime.timedelta(days=1)


def reindex(*, call):
    """After a test wrote a call's rows with factories, behind the services' back: bring the read
    model up to date as `services.save_call` does for every writer (at the end of the block, inside
    `factories.one_refresh()`)."""
    refresh_read_model(call_id=call.pk)


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


def declared_fields_give(call) -> dict:
    """What DRF gives for `call` from `CallSerializer`'s declared fields, field by field (DRF's own
    `to_representation`, as the API served it before the document was built by the read side),
    less today's status and the editions: the stored document's reference. `url` is the path (no
    request)."""
    live = calls_for_api().get(pk=call.pk)
    data = serializers.ModelSerializer.to_representation(CallSerializer(), live)
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return {name: data[name] for name in document_fields()}


def stored_document(call) -> dict:
    """The document of `call`, built from the call read as the read model reads it."""
    return call_document(Call.objects.select_related("programme").prefetch_related(*CALL_ROWS).get(pk=call.pk))


def without_bookkeeping(document) -> dict:
    return {name: value for name, value in document.items() if not name.startswith("_")}
