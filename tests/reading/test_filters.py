import datetime

import pytest
from django.http import QueryDict

from calls.choices import Scope, Status
from calls.models import BeneficiaryType, Call, Region
from calls.querysets import today
from calls.reading.filters import CallFilterSet
from tests.factories import (
    CallFunderFactory,
    CeilingFactory,
    FunderFactory,
    ProgrammeFactory,
    RoundFactory,
    ThemeFactory,
)
from tests.helpers import make, reindex

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def search(query: str = ""):
    filterset = CallFilterSet(QueryDict(query))
    assert filterset.is_valid(), filterset.errors
    return filterset


def slugs(query: str = ""):
    return {call.slug for call in search(query).qs}


@pytest.fixture
def now():
    return today()


@pytest.fixture
def calls(now):
    """Open, upcoming and closed calls around the real today (the filters use it)."""
    return {
        "open": make(slug="open", opens_on=now - 10 * DAY, closes_on=now + 10 * DAY),
        "upcoming": make(slug="upcoming", opens_on=now + 10 * DAY, closes_on=now + 40 * DAY),
        "closed": make(slug="closed", opens_on=now - 40 * DAY, closes_on=now - 10 * DAY),
    }


def test_default_status_is_open_and_upcoming(calls):
    assert slugs() == {"open", "upcoming"}


def test_status_is_repeatable(calls):
    assert slugs("status=closed") == {"closed"}
    assert slugs("status=closed&status=open") == {"closed", "open"}


def test_drafts_are_never_listed(calls):
    make(slug="draft", publication_state="draft")
    assert "draft" not in slugs("status=open&status=upcoming&status=closed")


def test_region_keeps_national_calls_and_regional_calls_of_that_region(calls):
    idf = make(slug="idf", scope=Scope.REGIONAL)
    idf.regions.add(Region.objects.get(code="11"))
    reindex(call=idf)
    aura = make(slug="aura", scope=Scope.REGIONAL)
    aura.regions.add(Region.objects.get(code="84"))
    reindex(call=aura)
    make(slug="europe", scope=Scope.EUROPEAN)
    make(slug="belgian-reference", scope=Scope.NATIONAL, country="BE")
    assert slugs("region=11") == {"open", "upcoming", "idf", "europe"}
    assert slugs("region=84") == {"open", "upcoming", "aura", "europe"}


def test_amount_keeps_calls_with_a_high_enough_ceiling_or_none_stated(calls):
    small = make(slug="small")
    CeilingFactory(call=small, amount_eur=200_000)
    big = make(slug="big")
    CeilingFactory(call=big, amount_eur=100_000, condition="new platforms")
    CeilingFactory(call=big, amount_eur=2_000_000, condition="labelled platforms")
    result = slugs("amount=500000")
    assert "big" in result and "open" in result  # 'open' states no ceiling
    assert "small" not in result


def test_trl_keeps_calls_whose_range_includes_it_or_states_none(calls):
    make(slug="early", trl_min=1, trl_max=3)
    make(slug="late", trl_min=5, trl_max=9)
    assert slugs("trl=4") == {"open", "upcoming"}
    assert slugs("trl=6") == {"open", "upcoming", "late"}


def test_beneficiary_keeps_calls_for_that_type_or_stating_none(calls):
    for_startups = make(slug="startups")
    for_startups.beneficiaries.add(BeneficiaryType.objects.get(code="startup"))
    reindex(call=for_startups)
    for_labs = make(slug="labs")
    for_labs.beneficiaries.add(BeneficiaryType.objects.get(code="academic_lab"))
    reindex(call=for_labs)
    assert slugs("beneficiary=startup") == {"open", "upcoming", "startups"}


def test_funder_theme_programme_and_type(calls):
    bpi = FunderFactory(slug="bpifrance", kind="public_bank")
    CallFunderFactory(call=calls["open"], funder=bpi)
    theme = ThemeFactory(slug="therapie-genique")
    calls["upcoming"].themes.add(theme)
    reindex(call=calls["upcoming"])
    parent = ProgrammeFactory(slug="france-2030")
    child = ProgrammeFactory(slug="sabb", parent=parent)
    make(slug="in-child", programme=child)
    make(slug="prize", call_type="prize")
    assert slugs("funder=bpifrance") == {"open"}
    assert slugs("funder_kind=public_bank") == {"open"}
    assert slugs("theme=therapie-genique") == {"upcoming"}
    assert slugs("programme=france-2030") == {"in-child"}  # includes sub-programmes
    assert slugs("call_type=prize") == {"prize"}


def test_deadline_filters(calls, now):
    with_rounds = make(slug="rounds", opens_on=None, closes_on=None)
    RoundFactory(call=with_rounds, opens_on=now - DAY, closes_on=now + 5 * DAY)
    assert slugs("closing_within=7") == {"rounds"}
    assert slugs(f"closes_after={now + 20 * DAY}") == {"upcoming"}
    assert slugs(f"closes_before={now + 7 * DAY}&status=closed&status=open") == {"rounds", "closed"}


def test_consortium(calls):
    make(slug="consortium", consortium_required=True)
    assert slugs("consortium=true") == {"consortium"}
    assert "consortium" not in slugs("consortium=false")


def test_combined_filters_and_default_ordering_by_deadline(calls, now):
    soon = make(slug="soon", closes_on=now + 2 * DAY)
    later = make(slug="later", closes_on=now + 90 * DAY)
    CeilingFactory(call=soon, amount_eur=1_000_000)
    CeilingFactory(call=later, amount_eur=3_000_000)
    ordered = [c.slug for c in search("amount=900000&status=open").qs]
    assert ordered == ["soon", "open", "later"]
    assert [c.slug for c in search("amount=900000&status=open&ordering=ceiling").qs][:2] == ["later", "soon"]


def test_facet_counts_count_each_value_under_the_other_filters(calls):
    bpi = FunderFactory(slug="bpifrance")
    CallFunderFactory(call=calls["open"], funder=bpi)
    CallFunderFactory(call=calls["closed"], funder=bpi)
    facets = search("funder=bpifrance").facet_counts()
    assert facets["status"] == {Status.OPEN: 1, Status.CLOSED: 1}
    assert facets["funder"] == {"bpifrance": 1}  # under the default status filter


def test_facet_counts_take_a_bounded_number_of_queries(calls, django_assert_max_num_queries):
    for n in range(30):
        calls["open"].themes.add(ThemeFactory(slug=f"t{n}"))
    reindex(call=calls["open"])
    filterset = search("region=11")
    with django_assert_max_num_queries(12):
        filterset.facet_counts()


def test_text_search_is_accent_and_case_insensitive_and_stemmed():
    make(slug="genique", title="Thérapie génique et bioproduction")
    make(slug="regionaux", title="Fonds régionaux pour l'innovation")
    make(slug="other", title="Vaccins")
    assert slugs("q=therapies+geniques") == {"genique"}
    assert slugs("q=regional") == {"regionaux"}
    assert slugs("q=THERAPIE") == {"genique"}


def test_text_search_ranks_title_matches_first():
    make(slug="in-summary", title="Appel générique", summary="Production de vaccins à ARN")
    make(slug="in-title", title="Vaccins et anticorps", summary="Bioproduction")
    assert [c.slug for c in search("q=vaccins").qs] == ["in-title", "in-summary"]


def test_facet_counts_are_cached_until_a_call_changes(calls, django_assert_max_num_queries):
    from django.core.cache import cache

    cache.clear()
    first = search("region=11").facet_counts()
    with django_assert_max_num_queries(1):  # the registry's version only
        assert search("region=11").facet_counts() == first
    calls["closed"].closes_on = today() + 5 * DAY  # reopened by a curator
    calls["closed"].save()
    reindex(call=calls["closed"])
    assert search("region=11").facet_counts()["status"] == {Status.OPEN: 2, Status.UPCOMING: 1}


def test_facet_counts_with_a_text_search(calls):
    make(slug="genique", title="Thérapie génique")
    facets = search("q=therapie+genique").facet_counts()
    assert facets["status"] == {Status.OPEN: 1}


def test_a_call_with_two_funders_of_a_kind_counts_once_in_that_facet(calls):
    for slug in ("region-idf", "region-aura"):
        CallFunderFactory(call=calls["open"], funder=FunderFactory(slug=slug, kind="regional_authority"))
    facets = search().facet_counts()
    assert facets["funder_kind"] == {"regional_authority": 1}
    assert facets["funder"] == {"region-idf": 1, "region-aura": 1}


@pytest.mark.postgres
def test_french_search_uses_its_unaccenting_configuration_and_gin_index():
    from django.db import connection

    make(slug="genique", title="Thérapies géniques")
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_tsvector('french_unaccent', 'Thérapies géniques régionaux')::text")
        assert cursor.fetchone()[0] == "'geniqu':2 'regional':3 'therap':1"  # unaccented, then stemmed
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    plan = Call.objects.search("therapie genique").only("pk").explain()
    assert "Bitmap Index Scan on calls_callindex_search_gin" in plan  # the stored vector's index


# -- Who may apply, and when, in an applicant's terms --------------------------------------------

def _naming(slug, *codes):
    call = make(slug=slug)
    call.beneficiaries.add(*BeneficiaryType.objects.filter(code__in=codes))
    reindex(call=call)
    return call


def test_a_start_up_finds_the_calls_open_to_smes_and_not_those_for_large_companies_only(client):
    _naming("smes", "sme")
    _naming("startups", "startup")
    _naming("large", "large_company")
    _naming("labs", "academic_lab")
    assert slugs("beneficiary=startup") == {"smes", "startups"}
    assert slugs("beneficiary=sme") == {"smes"}  # an SME is not always a start-up
    # The count shown next to "Start-up" is the number of results its link gives.
    filterset = search("beneficiary=large_company")
    assert filterset.facet_counts()["beneficiary"]["startup"] == 2
    # "Why it matches" says why in the same words.
    page = client.get("/", {"beneficiary": "startup"}).content.decode()
    assert "PME (Start-up compris)" in page
    english = client.get("/en/", {"beneficiary": "startup"}).content.decode()
    assert "SME (Start-up included)" in english


def test_a_deadline_range_keeps_calls_with_one_deadline_inside_it(now):
    apart = make(slug="apart", opens_on=None, closes_on=None)
    RoundFactory(call=apart, opens_on=now - DAY, closes_on=now + 5 * DAY)
    RoundFactory(call=apart, opens_on=now + 80 * DAY, closes_on=now + 100 * DAY)
    make(slug="inside", opens_on=now - DAY, closes_on=now + 45 * DAY)
    make(slug="rolling", opens_on=now - DAY, closes_on=None, is_rolling=True)  # no deadline at all
    query = f"closes_after={now + 30 * DAY}&closes_before={now + 60 * DAY}"
    assert slugs(query) == {"inside"}  # "apart" has deadlines before and after the range, none in it
    assert slugs(f"closes_after={now + 90 * DAY}") == {"apart"}
    assert slugs(f"closes_before={now + 6 * DAY}") == {"apart"}
    # Counts equal results: the status facet sums to the number of calls the range gives.
    filterset = search(query)
    assert sum(filterset.facet_counts()["status"].values()) == 1 == filterset.result_count()


def test_opens_between_keeps_calls_with_one_opening_inside_it(now):
    make(slug="soon", opens_on=now + 20 * DAY, closes_on=now + 50 * DAY)
    waves = make(slug="waves", opens_on=None, closes_on=None)
    RoundFactory(call=waves, opens_on=now - 20 * DAY, closes_on=now - 5 * DAY)
    RoundFactory(call=waves, opens_on=now + 40 * DAY, closes_on=now + 70 * DAY)
    make(slug="later", opens_on=now + 200 * DAY, closes_on=now + 230 * DAY)
    assert slugs(f"opens_after={now + 10 * DAY}&opens_before={now + 60 * DAY}") == {"soon", "waves"}
    assert slugs(f"opens_after={now + 100 * DAY}") == {"later"}
    assert slugs(f"opens_before={now - 10 * DAY}&status=closed&status=open&status=upcoming") == {"waves"}


def test_the_amount_takes_any_whole_number_and_a_range(client):
    small = make(slug="small", floor_eur=None)
    CeilingFactory(call=small, amount_eur=150_000)
    big = make(slug="big", floor_eur=1_000_000)
    CeilingFactory(call=big, amount_eur=5_000_000)
    assert slugs("amount=123457") == {"small", "big"}  # any whole number of euros, no step
    assert slugs("amount=123457&amount_max=500000") == {"small"}  # big's floor is above what I need
    assert slugs("amount_max=2000000") == {"small", "big"}
    response = client.get("/api/v1/calls/", {"amount": "12.5"})
    assert response.status_code == 400 and "amount" in response.json()
    page = client.get("/").content.decode()
    assert 'name="amount"' in page and 'step="1000"' not in page
