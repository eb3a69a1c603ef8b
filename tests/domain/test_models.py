import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from calls import services
from calls.choices import DatePrecision, Status
from calls.dates import format_partial_date, parse_partial_date
from calls.models import Call
from calls.querysets import status_condition
from calls.services import create_new_edition
from tests.factories import (
    TODAY,
    CallFactory,
    CallFunderFactory,
    CeilingFactory,
    LaureateFactory,
    RoundFactory,
    SourceFactory,
    ThemeFactory,
)
from tests.helpers import reindex

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def status_both_ways(call, on=TODAY):
    """The queryset annotation and the instance property must agree."""
    annotated = Call.objects.with_status(on).get(pk=call.pk).current_status
    computed = Call.objects.get(pk=call.pk).status_on(on)
    assert annotated == computed
    # The filter conditions (used by the search and its facets) say the same.
    matching = {s for s in Status.values if Call.objects.filter(status_condition([s], on), pk=call.pk).exists()}
    assert matching == {annotated}
    default = Call.objects.filter(status_condition([Status.OPEN, Status.UPCOMING], on), pk=call.pk).exists()
    assert default == (annotated in (Status.OPEN, Status.UPCOMING))
    with_unknown = [Status.OPEN, Status.UPCOMING, Status.DATES_UNKNOWN]
    assert Call.objects.filter(status_condition(with_unknown, on), pk=call.pk).exists() == (
        annotated != Status.CLOSED
    )
    return annotated


@pytest.mark.parametrize(
    ("opens_on", "closes_on", "is_rolling", "expected"),
    [
        (TODAY, TODAY + 30 * DAY, False, Status.OPEN),  # opens today
        (TODAY - 30 * DAY, TODAY, False, Status.OPEN),  # closes today
        (TODAY - 30 * DAY, TODAY - DAY, False, Status.CLOSED),  # closed yesterday
        (TODAY + DAY, TODAY + 30 * DAY, False, Status.UPCOMING),  # opens tomorrow
        (None, TODAY + DAY, False, Status.OPEN),  # opening date unknown, deadline ahead
        (None, None, True, Status.OPEN),  # rolling scheme
        (TODAY + DAY, None, True, Status.UPCOMING),  # rolling scheme not open yet
        (None, TODAY - DAY, True, Status.CLOSED),  # rolling scheme that ended
        (TODAY - 30 * DAY, None, False, Status.CLOSED),  # no known deadline: not said open
        (None, None, False, Status.DATES_UNKNOWN),  # the sources give no dates: not "closed"
    ],
)
def test_status_is_derived_from_dates_at_the_boundaries(opens_on, closes_on, is_rolling, expected):
    call = CallFactory(opens_on=opens_on, closes_on=closes_on, is_rolling=is_rolling)
    assert status_both_ways(call) == expected


@pytest.mark.parametrize(
    ("call_fields", "rounds", "expected"),
    [
        # Rounds named without any date say nothing: the dates are still unknown.
        ({}, [(None, None)], Status.DATES_UNKNOWN),
        # A round with a date decides, even when the call itself has none.
        ({}, [(TODAY - 30 * DAY, TODAY - DAY)], Status.CLOSED),
        ({}, [(None, TODAY)], Status.OPEN),
        # A rolling call whose rounds are past is still open by its own window, not "past".
        ({"is_rolling": True}, [(TODAY - 60 * DAY, TODAY - 30 * DAY)], Status.OPEN),
        ({"is_rolling": True, "closes_on": TODAY - DAY}, [(TODAY - 60 * DAY, TODAY - 30 * DAY)], Status.CLOSED),
        ({"is_rolling": True, "opens_on": TODAY + DAY}, [(TODAY - 60 * DAY, TODAY - 30 * DAY)], Status.UPCOMING),
        # A round that gives no opening date opens with its call: not before (a two-stage call
        # whose second stage has no date yet is not open while the call has still to open).
        ({"opens_on": TODAY + 10 * DAY}, [(TODAY + 10 * DAY, TODAY + 60 * DAY), (None, TODAY + 200 * DAY)],
         Status.UPCOMING),
        ({"opens_on": TODAY}, [(None, TODAY + 200 * DAY)], Status.OPEN),
        ({"opens_on": TODAY - 90 * DAY}, [(TODAY - 90 * DAY, TODAY - 30 * DAY), (None, TODAY + 200 * DAY)],
         Status.OPEN),
    ],
)
def test_status_with_rounds_at_the_boundaries(call_fields, rounds, expected):
    call = CallFactory(**{"opens_on": None, "closes_on": None, **call_fields})
    for opens_on, closes_on in rounds:
        RoundFactory(call=call, opens_on=opens_on, closes_on=closes_on)
    assert status_both_ways(call) == expected


def test_a_call_with_rounds_is_open_while_any_round_is_open():
    call = CallFactory(opens_on=None, closes_on=None)
    RoundFactory(call=call, opens_on=TODAY - 60 * DAY, closes_on=TODAY - 30 * DAY)
    RoundFactory(call=call, opens_on=TODAY - 10 * DAY, closes_on=TODAY + 20 * DAY)
    RoundFactory(call=call, opens_on=TODAY + 40 * DAY, closes_on=TODAY + 70 * DAY)
    assert status_both_ways(call) == Status.OPEN
    annotated = Call.objects.with_status(TODAY).get(pk=call.pk)
    assert annotated.next_deadline == TODAY + 20 * DAY


def test_between_rounds_a_call_is_upcoming_and_after_the_last_closed():
    call = CallFactory(opens_on=None, closes_on=None)
    RoundFactory(call=call, opens_on=TODAY - 60 * DAY, closes_on=TODAY - 30 * DAY)
    RoundFactory(call=call, opens_on=TODAY + 10 * DAY, closes_on=TODAY + 40 * DAY)
    assert status_both_ways(call) == Status.UPCOMING
    assert Call.objects.with_status(TODAY).get(pk=call.pk).next_deadline == TODAY + 40 * DAY
    assert status_both_ways(call, on=TODAY + 41 * DAY) == Status.CLOSED


def test_next_deadline_is_the_calls_closing_date_when_it_has_no_rounds():
    open_call = CallFactory(closes_on=TODAY + 5 * DAY)
    closed_call = CallFactory(opens_on=None, closes_on=TODAY - 5 * DAY)
    annotated = {c.pk: c.next_deadline for c in Call.objects.with_status(TODAY)}
    assert annotated[open_call.pk] == TODAY + 5 * DAY
    assert annotated[closed_call.pk] is None


def test_status_querysets_select_by_derived_status():
    open_call = CallFactory()
    upcoming = CallFactory(opens_on=TODAY + DAY, closes_on=TODAY + 9 * DAY)
    closed = CallFactory(opens_on=None, closes_on=TODAY - DAY)
    assert list(Call.objects.open(TODAY)) == [open_call]
    assert list(Call.objects.upcoming(TODAY)) == [upcoming]
    assert list(Call.objects.closed(TODAY)) == [closed]


def test_published_excludes_drafts_and_archived_calls():
    published = CallFactory()
    CallFactory(publication_state="draft")
    CallFactory(publication_state="archived")
    assert list(Call.objects.published()) == [published]


def test_a_year_only_closing_date_reads_as_closed_after_that_year_and_shows_as_given():
    closes_on, precision = parse_partial_date("2022", end=True)
    assert (closes_on, precision) == (datetime.date(2022, 12, 31), DatePrecision.YEAR)
    call = CallFactory(opens_on=None, closes_on=closes_on, closes_on_precision=precision)
    assert status_both_ways(call, on=datetime.date(2022, 12, 31)) == Status.OPEN
    assert status_both_ways(call, on=datetime.date(2023, 1, 1)) == Status.CLOSED
    assert call.closes_on_display == "2022"


def test_partial_dates_parse_to_the_start_or_end_of_their_period():
    assert parse_partial_date("2024-02", end=True) == (datetime.date(2024, 2, 29), DatePrecision.MONTH)
    assert parse_partial_date("2024-02", end=False) == (datetime.date(2024, 2, 1), DatePrecision.MONTH)
    assert parse_partial_date("2024-02-10", end=True) == (datetime.date(2024, 2, 10), DatePrecision.DAY)
    assert format_partial_date(datetime.date(2024, 2, 1), DatePrecision.MONTH).endswith("2024")


@pytest.mark.parametrize(
    "fields",
    [
        {"opens_on": datetime.date(2026, 5, 2), "closes_on": datetime.date(2026, 5, 1)},
        {"total_budget_eur": -1},
        {"floor_eur": -5},
        {"trl_min": 0},
        {"trl_max": 10},
        {"trl_min": 6, "trl_max": 3},
        {"funding_rate_min_pct": 80, "funding_rate_max_pct": 50},
        {"funding_rate_max_pct": 101},
    ],
)
def test_database_constraints_reject_bad_calls(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        CallFactory(**fields)


def test_slugs_are_unique():
    CallFactory(slug="aap-bioprod")
    with pytest.raises(IntegrityError), transaction.atomic():
        CallFactory(slug="aap-bioprod")


def test_ceilings_must_be_positive_at_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        CeilingFactory(amount_eur=0)


def test_model_validation_explains_each_bad_field():
    call = CallFactory.build(
        opens_on=datetime.date(2026, 5, 2), closes_on=datetime.date(2026, 5, 1), trl_min=7, trl_max=2,
    )
    with pytest.raises(ValidationError) as error:
        call.full_clean()
    assert "closes_on" in error.value.message_dict
    assert "trl_max" in error.value.message_dict


def test_a_ceiling_below_the_floor_is_refused_with_a_message():
    call = CallFactory(floor_eur=100_000)
    ceiling = CeilingFactory.build(call=call, amount_eur=50_000)
    with pytest.raises(ValidationError) as error:
        services.validate_call(call=call, rows=services.CallRows(ceilings=[ceiling]))
    assert "50" in error.value.message_dict["floor_eur"][0]


def test_a_new_edition_copies_the_call_as_a_linked_draft_without_dates_or_laureates():
    theme = ThemeFactory(slug="bioproduction")
    call = CallFactory(slug="aap-integrateurs", total_budget_eur=None)
    call.themes.add(theme)
    reindex(call=call)
    CallFunderFactory(call=call)
    CeilingFactory(call=call, amount_eur=2_000_000, condition="plateformes labellisées")
    SourceFactory(call=call, covers="ceilings")
    LaureateFactory(call=call)
    RoundFactory(call=call)

    edition = create_new_edition(call=call)

    assert edition.previous_edition == call
    assert call.next_edition == edition
    assert edition.publication_state == "draft"
    assert edition.opens_on is None and edition.closes_on is None
    assert edition.rounds.count() == 0 and edition.laureates.count() == 0
    assert list(edition.themes.all()) == [theme]
    assert [(c.amount_eur, c.condition) for c in edition.ceilings.all()] == [(2_000_000, "plateformes labellisées")]
    assert edition.sources.get().covered_fields == {"ceilings"}
    assert edition.funder_roles.count() == 1


def test_every_change_is_kept_in_history():
    call = CallFactory(title="Avant")
    call.title = "Après"
    call.save()
    reindex(call=call)
    titles = [record.title for record in call.history.order_by("history_date")]
    assert titles == ["Avant", "Après"]
