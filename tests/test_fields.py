"""The call's fields are declared once (`calls.fields`), and each surface shows what it declares."""
import csv
import io

import pytest

from calls import fields
from calls.models import Call

from .factories import CallFactory

pytestmark = pytest.mark.django_db

# Columns of a call no surface shows or takes: who submitted it, bookkeeping, the read model.
INTERNAL = {"id", "submitted_by", "published_at", "index", "provenance", "next_edition_id"}


def test_every_field_of_the_call_model_is_declared_or_known_to_be_internal():
    """A field added to the model must be declared (or named internal) before any surface shows it."""
    model_fields = {
        field.name for field in Call._meta.get_fields()
        if (field.concrete or field.many_to_many) and not field.auto_created
    }
    declared = {field.name for field in fields.CALL_FIELDS}
    assert model_fields - declared - INTERNAL == set()


def test_no_field_is_declared_twice():
    names = [field.name for field in fields.CALL_FIELDS]
    assert len(names) == len(set(names))


def test_the_api_csv_export_has_the_declared_columns_in_order(client):
    CallFactory(closes_on=None, opens_on=None)
    response = client.get("/api/v1/exports/calls.csv", {"status": "dates_unknown"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(body)))
    assert header == [
        "slug", "url", "title", "status", "call_type", "programme", "funders", "opens_on", "closes_on",
        "is_rolling", "next_deadline", "total_budget_eur", "max_ceiling_eur", "floor_eur",
        "funding_rate_min_pct", "funding_rate_max_pct", "aid_forms", "beneficiaries", "scope", "regions",
        "themes", "trl_min", "trl_max", "consortium_required", "apply_url", "publication_state",
        "last_verified_on", "updated_at",
    ]
    assert header == fields.names(csv=True)


def test_a_new_edition_copies_what_recurs_and_nothing_that_belongs_to_one_edition():
    assert set(fields.names(recurs=True, kind="value")) >= {"summary", "eligibility", "trl_min", "floor_eur"}
    assert not set(fields.names(recurs=True)) & {"opens_on", "closes_on", "rounds", "laureates", "last_verified_on",
                                                  "title", "slug", "publication_state"}
