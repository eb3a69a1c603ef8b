"""Schemathesis against the API's own OpenAPI schema, through the WSGI application.

For every operation, a bounded number of generated requests (anonymous reads, and submissions
with a partner's token): no server error, and every response conforms to the schema (status
code, content type, body). Every check with 100 examples is `tests/api/test_schema_every_check.py`.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.schema_support import (  # noqa: F401 (fixtures)
    CHECKS,
    load_schema,
    naming_registry_funders,
    partner_headers,
    registry_sample,
    unthrottled,
    wsgi_in_test_transaction,
)

pytestmark = pytest.mark.django_db


def load_quick_schema():
    """The schema as the quick run fuzzes it: generated requests only (the coverage phase, which
    builds every case the schema defines when the tests are collected, is the slow run's)."""
    loaded = load_schema()
    loaded.config.phases.update(phases=["examples", "fuzzing"])
    return loaded


@pytest.fixture
def quick_schema():
    return load_quick_schema()


# Loaded when the test runs, not when the tests are collected: collecting stays quick, and the
# operations run as the test's subtests.
schema = schemathesis.pytest.from_fixture("quick_schema")


def test_the_served_schema_is_the_fuzzed_one(client, quick_schema):
    served = client.get("/api/schema/?format=json&lang=en").json()
    assert set(served["paths"]) == set(quick_schema.raw_schema["paths"])


@schema.parametrize()
@settings(
    max_examples=5, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large],
)
def test_api_conforms_to_its_schema(
        case, wsgi_in_test_transaction, registry_sample, unthrottled, partner_headers):  # noqa: F811 (fixtures)
    headers = partner_headers if case.method == "POST" else None
    naming_registry_funders(case).call_and_validate(headers=headers, checks=CHECKS)


