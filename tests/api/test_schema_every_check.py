"""The schema is the contract: every schemathesis check, valid and invalid data, 100 examples per
operation (marked `slow`; `make test-quick` leaves it out). The schema is a fixture, loaded when
the test runs: collecting builds no case."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import ChecksConfig, OperationConfig

from tests.schema_support import (  # noqa: F401 (fixtures)
    load_schema,
    naming_registry_funders,
    partner_headers,
    registry_sample,
    unthrottled,
    wsgi_in_test_transaction,
)

pytestmark = pytest.mark.django_db


# What `positive_data_acceptance` takes as accepting a schema-valid request (schemathesis 4:
# `POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES`): 2xx, 3xx, 401, 403, 404 (an unknown slug), 409 (a
# taken slug), 429, 5xx (left to `not_a_server_error`). Not 400, nor any other documented 4xx.
ACCEPTANCE = ChecksConfig().positive_data_acceptance.expected_statuses
# A submission's fields may each be valid and still break a rule joining them, which no OpenAPI
# schema states (a closing before the opening, a ceiling below the floor, a funder named twice:
# `calls.api.submissions.CROSS_FIELD_RULES`): the API answers 422 naming the field, and documents
# the rules in that response. Schemathesis' own advice for such rules (`schemathesis explain ST202`)
# is to allow 422 for the operation; a 400 still fails the check, so everything the schema states
# must hold. A funder slug naming no funder is a 400 (documented: the partner names such a funder
# by its `name`), so generated submissions name the registry's funders (`naming_registry_funders`).
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


@pytest.fixture
def every_check_schema():
    return load_strict_schema()


# Loaded when the test runs (its operations are the test's subtests), not when tests are collected.
strict_schema = schemathesis.pytest.from_fixture("every_check_schema")


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
def test_api_holds_to_its_schema_under_every_check(
        case, wsgi_in_test_transaction, registry_sample, unthrottled, partner_headers):  # noqa: F811 (fixtures)
    """Anonymous reads (the schema says a token is optional for them), submissions with a
    partner's token; every schemathesis check, positive data accepted (a submission may be a 422,
    see `CROSS_FIELD_OPERATIONS`), 100 examples per operation."""
    headers = partner_headers if case.method == "POST" else None
    naming_registry_funders(case).call_and_validate(headers=headers, checks=all_checks())
