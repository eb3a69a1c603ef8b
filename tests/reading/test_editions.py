"""When the next edition of a series can be expected: the rule at its edges."""
import datetime

import pytest
from django.utils import translation

from calls.choices import PublicationState
from calls.reading.editions import Edition, expected_editions, expected_next_edition
from tests.factories import CallFactory
from tests.helpers import reindex

ON = datetime.date(2026, 11, 30)


def series(*openings, precision="day"):
    return [Edition(pk=n, opens_on=day, opens_on_precision=precision) for n, day in enumerate(openings)]


def test_a_yearly_series_is_expected_in_the_same_month_next_year():
    estimate = expected_next_edition(series(datetime.date(2024, 3, 4), datetime.date(2025, 3, 20),
                                            datetime.date(2026, 3, 2)), ON)
    assert estimate.month == datetime.date(2027, 3, 1)
    with translation.override("fr"):
        assert estimate.basis_text == "éditions passées ouvertes en mars en 2024, 2025 et 2026"
        assert estimate.month_text == "mars 2027"
    with translation.override("en"):
        assert estimate.basis_text == "past editions opened in March in 2024, 2025 and 2026"


def test_month_precision_is_enough_but_a_year_alone_is_not():
    assert expected_next_edition(series(datetime.date(2025, 3, 1), datetime.date(2026, 3, 1), precision="month"), ON)
    assert expected_next_edition(series(datetime.date(2025, 1, 1), datetime.date(2026, 1, 1), precision="year"),
                                 ON) is None


@pytest.mark.parametrize("openings", [
    (datetime.date(2026, 3, 1),),  # a single past edition tells no rhythm
    (datetime.date(2025, 3, 1), datetime.date(2026, 6, 1)),  # another month: irregular
    (datetime.date(2023, 3, 1), datetime.date(2026, 3, 1)),  # a gap of years: irregular
    (datetime.date(2024, 3, 1), None, datetime.date(2026, 3, 1)),  # an edition without a date
    (datetime.date(2023, 3, 1), datetime.date(2024, 3, 1)),  # March 2025 passed with no edition: stopped?
])
def test_no_estimate_for_an_irregular_or_too_short_series(openings):
    assert expected_next_edition(series(*openings), ON) is None


def test_the_expected_month_itself_still_counts():
    assert expected_next_edition(series(datetime.date(2024, 11, 5), datetime.date(2025, 11, 5)), ON).month == \
        datetime.date(2026, 11, 1)


def test_a_source_saying_the_series_is_yearly_is_a_basis_too():
    """One edition, or an irregular series, whose latest edition a source calls yearly."""
    single = [Edition(pk=1, opens_on=datetime.date(2026, 2, 10), editions_per_year=1)]
    estimate = expected_next_edition(single, ON)
    assert estimate.month == datetime.date(2027, 2, 1) and estimate.rhythm_per_source
    with translation.override("en"):
        assert estimate.basis_text == (
            "its sources say it comes back every year; the last edition in the registry opened in February 2026")
    # The month has come round without the registry knowing that edition: the next time it comes.
    older = [Edition(pk=1, opens_on=datetime.date(2024, 7, 1), editions_per_year=1)]
    assert expected_next_edition(older, ON).month == datetime.date(2027, 7, 1)
    # The rhythm a series' earlier edition states holds for its latest (which may not restate it).
    restated = [Edition(pk=1, opens_on=datetime.date(2025, 3, 1), editions_per_year=1),
                Edition(pk=2, opens_on=datetime.date(2025, 11, 2))]
    assert expected_next_edition(restated, ON).month == datetime.date(2026, 11, 1)
    # Known by its year only (an opening year, or an edition year): the next year, while it lasts.
    by_year = [Edition(pk=1, opens_on=None, edition_year=2026, editions_per_year=1)]
    assert expected_next_edition(by_year, ON).month_text == "2027"
    two_years_ago = [Edition(pk=1, opens_on=None, edition_year=2024, editions_per_year=1)]
    assert expected_next_edition(two_years_ago, ON).month_text == "2026"  # this year, not over yet
    old = [Edition(pk=1, opens_on=None, edition_year=2021, editions_per_year=1)]
    assert expected_next_edition(old, ON) is None  # five years without news: it may have stopped
    twice = [Edition(pk=1, opens_on=datetime.date(2026, 3, 10), editions_per_year=2)]
    assert expected_next_edition(twice, ON).month == datetime.date(2027, 3, 1)  # September passed: March next
    twice = [Edition(pk=1, opens_on=datetime.date(2026, 7, 9), editions_per_year=2)]
    assert expected_next_edition(twice, ON).month == datetime.date(2027, 1, 1)  # six months on
    with translation.override("en"):
        assert expected_next_edition(twice, ON).basis_text == (
            "its sources say it comes back 2 times a year; the last edition in the registry opened in July 2026")
    five = [Edition(pk=1, opens_on=datetime.date(2026, 7, 9), editions_per_year=5)]
    assert expected_next_edition(five, ON) is None  # five a year tells no month
    unstated = [Edition(pk=1, opens_on=datetime.date(2026, 2, 10))]
    assert expected_next_edition(unstated, ON) is None


@pytest.mark.django_db
def test_a_single_edition_called_yearly_by_its_source_is_estimated_on_the_site(client):
    call = CallFactory(title="Prix annuel", opens_on=datetime.date(2026, 2, 10), closes_on=datetime.date(2026, 3, 31),
                       recurrence="recurring", editions_per_year=1)
    assert set(expected_editions(ON)) == {call.pk}


@pytest.mark.django_db
def test_an_announced_edition_supersedes_the_estimate():
    first = CallFactory(opens_on=datetime.date(2025, 3, 1), closes_on=datetime.date(2025, 4, 1))
    second = CallFactory(opens_on=datetime.date(2026, 3, 1), closes_on=datetime.date(2026, 4, 1),
                         previous_edition=first)
    assert set(expected_editions(ON)) == {second.pk}
    third = CallFactory(opens_on=None, closes_on=None, previous_edition=second,
                        publication_state=PublicationState.PUBLISHED)
    assert expected_editions(ON) == {}  # the third is announced (no dates yet): no estimate
    third.publication_state = PublicationState.DRAFT
    third.save()
    reindex(call=third)
    assert set(expected_editions(ON)) == {second.pk}  # a curator's draft announces nothing


@pytest.mark.django_db
def test_a_pages_estimates_read_from_its_series_equal_the_whole_registrys(django_assert_max_num_queries):
    from django.core.cache import cache

    from calls.reading.editions import expected_editions_of

    def edition(year, month, previous=None, state=PublicationState.PUBLISHED, precision="day"):
        opens = datetime.date(year, month, 1)
        return CallFactory(opens_on=opens, opens_on_precision=precision, closes_on=opens + datetime.timedelta(days=30),
                           previous_edition=previous, publication_state=state)

    yearly = edition(2026, 3, edition(2025, 3, edition(2024, 3)))  # expected in March 2027
    irregular = edition(2026, 5, edition(2025, 2))
    with_archived = edition(2026, 9, edition(2025, 9, state=PublicationState.ARCHIVED))  # archived still counts
    superseded = edition(2026, 4, edition(2025, 4))
    edition(2027, 4, superseded, state=PublicationState.ARCHIVED)  # an announced next edition, archived since
    drafted = edition(2026, 6, edition(2025, 6))
    edition(2027, 6, drafted, state=PublicationState.DRAFT)  # a draft announces nothing
    alone = edition(2026, 2)
    pages = [[yearly.pk, irregular.pk], [with_archived.pk, superseded.pk, drafted.pk, alone.pk], [yearly.pk]]

    cache.clear()
    from_series = []
    for page in pages:
        # The version, the cache, then the page's series (one recursive query) and their next
        # editions: never a scan of the registry, whatever the length of the series.
        with django_assert_max_num_queries(4):
            from_series.append(expected_editions_of(page, ON))
    whole = expected_editions(ON)  # computed over every call, and cached
    assert set(whole) == {yearly.pk, with_archived.pk, drafted.pk}
    assert whole[yearly.pk].month == datetime.date(2027, 3, 1)
    assert from_series == [{pk: whole[pk] for pk in page if pk in whole} for page in pages]
    with django_assert_max_num_queries(2):  # once cached, a page's estimates are read from it
        assert expected_editions_of(pages[1], ON) == from_series[1]
