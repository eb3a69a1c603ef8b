"""The stored document of a call: what the read model keeps of a call's API representation.

It must be what the API's declared fields (`CallSerializer`, which the schema describes) give for
the call, field by field, whatever the language of the request that built it.
"""
import ast
import datetime
import json
from pathlib import Path

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation

from calls.api.documents import CALL_ROWS, call_document, document_fields
from calls.models import Call

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def declared_fields_give(call) -> dict:
    """What DRF gives for `call` from `CallSerializer`'s declared fields, field by field (DRF's own
    `to_representation`, as the API served it before the document was built by the read side),
    less today's status and the editions: the stored document's reference. `url` is the path (no
    request)."""
    from rest_framework import serializers

    from calls.api.queries import calls_for_api
    from calls.api.serializers import CallSerializer

    live = calls_for_api().get(pk=call.pk)
    data = serializers.ModelSerializer.to_representation(CallSerializer(), live)
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return {name: data[name] for name in document_fields()}


def stored_document(call) -> dict:
    """The document of `call`, built from the call read as the read model reads it."""
    return call_document(Call.objects.select_related("programme").prefetch_related(*CALL_ROWS).get(pk=call.pk))


def without_bookkeeping(document) -> dict:
    return {name: value for name, value in document.items() if not name.startswith("_")}


@pytest.mark.usefixtures("bundled_registry")
def test_every_bundled_calls_document_is_what_the_api_serializers_fields_give():
    calls = list(Call.objects.order_by("pk"))
    assert len(calls) > 100  # the bundled registry, drafts and archived calls too
    compared = 0
    for call in calls:
        document = stored_document(call)
        expected = declared_fields_give(call)
        assert list(without_bookkeeping(document)) == list(expected), call.slug  # same keys, same order
        assert without_bookkeeping(document) == expected, call.slug
        compared += 1
    assert compared == len(calls)
