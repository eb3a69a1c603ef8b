"""What the schema fuzzing tests share (`tests/api/test_schema.py`, `tests/api/test_schema_every_check.py`):
the schema as the API serves it, and a small registry to read."""
import datetime
import json
import re

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core import signals
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from calls.api.serializers import SLUG
from calls.choices import PublicationState
from calls.models import Region
from calls.querysets import today
from registry.wsgi import application
from tests.factories import (
    CallFactory,
    CallFunderFactory,
    CeilingFactory,
    FunderFactory,
    LaureateFactory,
    ProgrammeFactory,
    RoundFactory,
    SourceFactory,
    ThemeFactory,
    UserFactory,
)

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests sent straight to the WSGI app must not close the test's database connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def registry_sample():
    """A few calls of every kind, so reads return full representations (and removals in syncs)."""
    day = datetime.timedelta(days=1)
    programme = ProgrammeFactory(slug="france-2030")
    funder = FunderFactory(slug="bpifrance", kind="public_bank")
    FunderFactory(slug="region-idf", kind="regional_authority", region=Region.objects.get(code="11"))
    theme = ThemeFactory(slug="bioproduction")
    for i, (opens, closes) in enumerate([(-10, 20), (5, 40), (-60, -5), (None, None)]):
        call = CallFactory(
            slug=f"call-{i}", programme=programme, is_rolling=closes is None,
            opens_on=today() + opens * day if opens is not None else None,
            closes_on=today() + closes * day if closes is not None else None,
            previous_edition=None, trl_min=3, trl_max=6, total_budget_eur=1_000_000,
        )
        CallFunderFactory(call=call, funder=funder)
        CeilingFactory(call=call)
        SourceFactory(call=call)
        LaureateFactory(call=call, region=Region.objects.get(code="11"), amount_eur=10_000)
        call.themes.add(theme)
        call.beneficiaries.add("sme")
        call.regions.add("11")
        call.aid_forms.add("grant")
    RoundFactory(call=CallFactory(slug="with-rounds", opens_on=None, closes_on=None),
                 opens_on=today() - 3 * day, closes_on=today() + 3 * day)
    archived = CallFactory(slug="archived")
    archived.publication_state = PublicationState.ARCHIVED
    archived.save()


# registry_sample's funders: what a generated submission's `funders[].funder` slugs become.
REGISTRY_FUNDERS = ["bpifrance", "region-idf"]


def naming_registry_funders(case):
    """`case` with each schema-valid `funders[].funder` slug of a submission made one of the
    registry's. A schema states what a slug looks like, not which funders exist; a slug naming none
    is a 400 (the partner names such a funder by its `name`), which `positive_data_acceptance`
    rightly counts as refusing valid data. A value breaking the schema (negative data) is kept."""
    body = case.body
    if case.method == "POST" and isinstance(body, dict) and isinstance(body.get("funders"), list):
        rows = [row for row in body["funders"] if isinstance(row, dict)
                and isinstance(row.get("funder"), str) and re.fullmatch(SLUG, row["funder"])]
        for position, row in enumerate(rows):
            row["funder"] = REGISTRY_FUNDERS[position % len(REGISTRY_FUNDERS)]
    return case


@pytest.fixture
def partner_headers():
    user = UserFactory(username="schemathesis-partner")
    user.user_permissions.add(Permission.objects.get(codename="submit_call", content_type__app_label="calls"))
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


def load_schema():
    """The schema the API serves at /api/schema/ (in English), built without a request or database."""
    from django.utils import translation
    from drf_spectacular.generators import SchemaGenerator

    with translation.override("en"):
        document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, cls=DjangoJSONEncoder)))
    loaded.app = application
    return loaded


@pytest.fixture
def unthrottled(settings):
    # The fuzzer is one client sending many requests: it must not be throttled.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000000/minute", "partner": "1000000/minute"},
    }
    cache.clear()
