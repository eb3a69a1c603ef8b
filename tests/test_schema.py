"""Schemathesis against the API's own OpenAPI schema, through the WSGI application.

For every operation, a bounded number of generated requests (anonymous reads, and submissions
with a partner's token): no server error, and every response conforms to the schema (status
code, content type, body).
"""
import datetime
import json

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core import signals
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import ChecksConfig, OperationConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

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

pytestmark = pytest.mark.django_db
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


schema = load_schema()


@pytest.fixture
def unthrottled(settings):
    # The fuzzer is one client sending many requests: it must not be throttled.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000000/minute", "partner": "1000000/minute"},
    }
    cache.clear()


def test_the_served_schema_is_the_fuzzed_one(client):
    served = client.get("/api/schema/?format=json&lang=en").json()
    assert set(served["paths"]) == set(schema.raw_schema["paths"])


@schema.parametrize()
@settings(
    max_examples=20, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large],
)
def test_api_conforms_to_its_schema(case, wsgi_in_test_transaction, registry_sample, unthrottled, partner_headers):
    headers = partner_headers if case.method == "POST" else None
    case.call_and_validate(headers=headers, checks=CHECKS)


# -- The schema is the contract: every check, positive and negative data, 100 examples --------------

# What `positive_data_acceptance` takes as accepting a schema-valid request (schemathesis 4:
# `POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES`): 2xx, 3xx, 401, 403, 404 (an unknown slug), 409 (a
# taken slug), 429, 5xx (left to `not_a_server_error`). Not 400, nor any other documented 4xx.
ACCEPTANCE = ChecksConfig().positive_data_acceptance.expected_statuses
# A submission's fields may each be valid and still break a rule joining them, which no OpenAPI
# schema states (a closing before the opening, a ceiling below the floor, a funder named twice:
# `calls.api.submissions.CROSS_FIELD_RULES`): the API answers 422 naming the field, and documents
# the rules in that response. Schemathesis' own advice for such rules (`schemathesis explain ST202`)
# is to allow 422 for the operation; a 400 still fails the check, so everything the schema states
# must hold.
CROSS_FIELD_OPERATIONS = {"POST /api/v1/calls/"}


def load_strict_schema():
    """The same schema, fuzzed with valid and invalid data (schemathesis' negative mode)."""
    from schemathesis import GenerationMode

    loaded = load_schema()
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    loaded.config.operations.operations.extend(
        OperationConfig.from_dict({
            "include-name": name,
            "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTANCE, "422"]}},
        })
        for name in sorted(CROSS_FIELD_OPERATIONS)
    )
    return loaded


strict_schema = load_strict_schema()


def all_checks():
    import schemathesis.specs.openapi.checks  # noqa: F401 (registers the OpenAPI checks)
    from schemathesis.checks import CHECKS

    return CHECKS.get_all()


@pytest.mark.slow
@strict_schema.parametrize()
@settings(
    max_examples=100, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large],
)
def test_api_holds_to_its_schema_under_every_check(case, wsgi_in_test_transaction, registry_sample, unthrottled,
                                                  partner_headers):
    """Anonymous reads (the schema says a token is optional for them), submissions with a
    partner's token; every schemathesis check, positive data accepted (a submission may be a 422,
    see `CROSS_FIELD_OPERATIONS`), 100 examples per operation."""
    headers = partner_headers if case.method == "POST" else None
    case.call_and_validate(headers=headers, checks=all_checks())
