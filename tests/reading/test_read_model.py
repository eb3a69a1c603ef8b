"""The read model: stored date facts give the same statuses in SQL as in Python, the write path
keeps it equal to a rebuild, and the rebuild command finds drift."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls import services
from calls.choices import PublicationState, Recurrence, Status
from calls.models import (
    AidFormType,
    BeneficiaryType,
    Call,
    CallFunder,
    CallIndex,
    CallPeriod,
    Ceiling,
    Laureate,
    Region,
    Round,
)
from calls.querysets import status_conditions, today
from calls.reading import read_model
from tests import factories
from tests.factories import CallFactory, FunderFactory, RoundFactory, ThemeFactory
from tests.helpers import reindex

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 1, 1)
EVERY_STATUS = [status.value for status in Status]
# Days around the generated dates: before, inside and after every window, and the next year's
# first day (an edition named by 2026 is over then).
DAYS = [START + datetime.timedelta(days=n) for n in range(-3, 70, 4)] + [datetime.date(2027, 1, 1)]

day = st.integers(min_value=0, max_value=60).map(lambda n: START + datetime.timedelta(days=n))
maybe_day = st.none() | day


@st.composite
def window(draw):
    opens, closes = draw(maybe_day), draw(maybe_day)
    if opens and closes and closes < opens:
        opens, closes = closes, opens
    return opens, closes


# What a call's time rests on besides its dates: a recurrence, laureates, an edition year, a page
# saying it stopped.
evidence = st.tuples(
    st.sampled_from(["", Recurrence.ONE_OFF, Recurrence.RECURRING, Recurrence.PERMANENT]),
    st.booleans(), st.none() | st.sampled_from([2025, 2026, 2027]), st.booleans(),
)
call_dates = st.tuples(window(), st.booleans(), st.lists(window(), max_size=3))


def _write_call(n, dates, time_evidence=("", False, None, False)):
    (opens, closes), rolling, rounds = dates
    recurrence, laureates, edition_year, discontinued = time_evidence
    call = Call(
        title=f"Appel {n}", slug=f"appel-genere-{n}", call_type="call_for_projects", opens_on=opens,
        closes_on=closes, is_rolling=rolling, publication_state=PublicationState.DRAFT,
        recurrence=recurrence, edition_year=edition_year, discontinued=discontinued,
    )
    rows = services.CallRows(
        rounds=[Round(name=f"Vague {i}", opens_on=o, closes_on=c) for i, (o, c) in enumerate(rounds)],
        laureates=[Laureate(organisation=f"Lauréat {n}", year=2025)] if laureates else [],
    )
    try:
        with transaction.atomic():
            services.save_call(call=call, rows=rows)
    except ValidationError:
        return None  # rounds that would open the call after it closes: refused, as in the admin
    return call


GENERATED_CALLS = st.lists(st.tuples(call_dates, evidence), min_size=1, max_size=6)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(GENERATED_CALLS)
def test_the_status_in_sql_equals_the_python_rule_on_a_few_generated_registries(db, generated):
    """The quick tier's run of the property below (a few examples, every commit)."""
    _check_sql_equals_python(generated)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(GENERATED_CALLS)
def test_the_status_and_next_deadline_in_sql_equal_the_python_rules_on_every_day(db, generated):
    _check_sql_equals_python(generated)


def _check_sql_equals_python(generated):
    with transaction.atomic():
        calls = [call for n, (dates, ev) in enumerate(generated) if (call := _write_call(n, dates, ev))]
        for on in DAYS:
            annotated = {c.pk: (c.current_status, c.next_deadline) for c in Call.objects.with_status(on)}
            filtered = {
                pk: status for status, condition in status_conditions(on).items()
                for pk in Call.objects.filter(condition).values_list("pk", flat=True)
            }
            for call in calls:
                call = Call.objects.get(pk=call.pk)
                expected = (call.status_on(on), _python_next_deadline(call, on))
                assert annotated[call.pk] == expected, (on, call.pk)
                assert filtered[call.pk] == expected[0], (on, call.pk)
        transaction.set_rollback(True)


def _python_next_deadline(call, on):
    """The nearest closing date not past: of the rounds that give one, else of the call (the
    rule as the registry states it to applicants, written here apart from the code)."""
    open_ended = call.is_rolling or call.recurrence == Recurrence.PERMANENT
    candidates = [call.closes_on] if open_ended and call.closes_on and call.closes_on >= on else []
    dated = [r for r in call.rounds.all() if r.opens_on or r.closes_on]
    if dated:
        candidates += [r.closes_on for r in dated if r.closes_on and r.closes_on >= on]
    elif call.closes_on and call.closes_on >= on:
        candidates.append(call.closes_on)
    return min(candidates, default=None)


def test_statuses_on_examples_an_applicant_reads():
    """Examples written out by hand: what an applicant must read on 2026-06-15."""
    on = datetime.date(2026, 6, 15)
    open_call = CallFactory(opens_on=datetime.date(2026, 5, 1), closes_on=datetime.date(2026, 7, 31))
    upcoming = CallFactory(opens_on=datetime.date(2026, 9, 1), closes_on=datetime.date(2026, 10, 31))
    closed = CallFactory(opens_on=datetime.date(2026, 1, 1), closes_on=datetime.date(2026, 3, 31))
    unknown = CallFactory(opens_on=None, closes_on=None)
    between_rounds = RoundFactory(opens_on=datetime.date(2026, 1, 1), closes_on=datetime.date(2026, 2, 1)).call
    RoundFactory(call=between_rounds, opens_on=datetime.date(2026, 9, 1), closes_on=datetime.date(2026, 10, 1))
    rounds_closed = RoundFactory(opens_on=datetime.date(2026, 1, 1), closes_on=datetime.date(2026, 2, 1)).call
    # The call's own closing date, later than its only round's, doesn't make it open.
    Call.objects.filter(pk=rounds_closed.pk).update(closes_on=datetime.date(2026, 12, 31))
    reindex(call=rounds_closed)

    rows = {c.slug: (c.current_status, c.next_deadline) for c in Call.objects.with_status(on)}
    assert rows[open_call.slug] == (Status.OPEN, datetime.date(2026, 7, 31))
    assert rows[upcoming.slug] == (Status.UPCOMING, datetime.date(2026, 10, 31))
    assert rows[closed.slug] == (Status.CLOSED, None)
    assert rows[unknown.slug] == (Status.DATES_UNKNOWN, None)
    assert rows[between_rounds.slug] == (Status.UPCOMING, datetime.date(2026, 10, 1))
    assert rows[rounds_closed.slug] == (Status.CLOSED, None)


def test_what_a_calls_time_rests_on_besides_its_dates():
    """Examples written out by hand, on 2026-06-15: a standing scheme is open until an end date
    closes it; an undated edition is closed once its laureates are known or its year has passed."""
    on = datetime.date(2026, 6, 15)
    permanent = CallFactory(opens_on=None, closes_on=None, recurrence=Recurrence.PERMANENT)
    stopped = CallFactory(opens_on=None, closes_on=datetime.date(2025, 12, 31), recurrence=Recurrence.PERMANENT)
    with_laureates = CallFactory(opens_on=None, closes_on=None)
    Laureate.objects.create(call=with_laureates, organisation="Start-up lauréate", year=2024)
    reindex(call=with_laureates)
    past_edition = CallFactory(opens_on=None, closes_on=None, edition_year=2021)
    this_year = CallFactory(opens_on=None, closes_on=None, edition_year=2026)
    recurring = CallFactory(opens_on=None, closes_on=None, recurrence=Recurrence.RECURRING)

    rows = {c.slug: (c.current_status, c.next_deadline) for c in Call.objects.with_status(on)}
    assert rows[permanent.slug] == (Status.OPEN, None)
    assert rows[stopped.slug] == (Status.CLOSED, None)
    assert rows[with_laureates.slug] == (Status.CLOSED, None)
    assert rows[past_edition.slug] == (Status.CLOSED, None)
    assert rows[this_year.slug] == (Status.DATES_UNKNOWN, None)
    assert rows[recurring.slug] == (Status.DATES_UNKNOWN, None)
    assert Call.objects.with_status(datetime.date(2027, 1, 1)).get(pk=this_year.pk).current_status == Status.CLOSED
    assert [c.slug for c in Call.objects.open(on)] == [permanent.slug]


def test_a_page_saying_a_scheme_stopped_and_a_next_edition_having_opened_close_an_undated_call():
    """On 2026-06-15: a standing scheme whose page says it stopped is closed; an undated edition
    is closed once its published next edition has opened (by its first opening date, else its
    first closing date), not before, and not by a draft."""
    on = datetime.date(2026, 6, 15)
    stopped = CallFactory(opens_on=None, closes_on=None, recurrence=Recurrence.PERMANENT, discontinued=True)
    undated_stopped = CallFactory(opens_on=None, closes_on=None, discontinued=True)
    first = CallFactory(opens_on=None, closes_on=None)
    CallFactory(previous_edition=first, opens_on=datetime.date(2026, 3, 1), closes_on=datetime.date(2026, 9, 30))
    before_next = CallFactory(opens_on=None, closes_on=None)
    CallFactory(previous_edition=before_next, opens_on=datetime.date(2026, 9, 1), closes_on=None)
    only_a_deadline = CallFactory(opens_on=None, closes_on=None)
    CallFactory(previous_edition=only_a_deadline, opens_on=None, closes_on=datetime.date(2026, 5, 31))
    draft_next = CallFactory(opens_on=None, closes_on=None)
    CallFactory(previous_edition=draft_next, opens_on=datetime.date(2025, 1, 1), closes_on=datetime.date(2025, 3, 1),
                publication_state=PublicationState.DRAFT)

    statuses = {c.slug: c.current_status for c in Call.objects.with_status(on)}
    assert statuses[stopped.slug] == Status.CLOSED
    assert statuses[undated_stopped.slug] == Status.CLOSED
    assert statuses[first.slug] == Status.CLOSED
    assert statuses[before_next.slug] == Status.DATES_UNKNOWN
    assert statuses[only_a_deadline.slug] == Status.CLOSED
    assert statuses[draft_next.slug] == Status.DATES_UNKNOWN
    assert Call.objects.with_status(datetime.date(2026, 9, 1)).get(pk=before_next.pk).current_status == Status.CLOSED
    assert read_model.rebuild() == []


def test_moving_a_next_edition_to_another_series_reopens_the_question_for_the_first(db):
    on = datetime.date(2026, 6, 15)
    first, other = CallFactory(opens_on=None, closes_on=None), CallFactory(opens_on=None, closes_on=None)
    following = CallFactory(previous_edition=first, opens_on=datetime.date(2026, 3, 1))
    assert Call.objects.with_status(on).get(pk=first.pk).current_status == Status.CLOSED
    following.previous_edition = other
    services.save_call(call=following)
    statuses = {c.pk: c.current_status for c in Call.objects.with_status(on)}
    assert (statuses[first.pk], statuses[other.pk]) == (Status.DATES_UNKNOWN, Status.CLOSED)
    assert read_model.rebuild() == []


# -- Incremental maintenance equals a rebuild ----------------------------------------------------

EDITS = st.lists(st.tuples(st.sampled_from([
    "create", "dates", "add_round", "drop_round", "theme", "rename_funder", "archive", "publish", "edition",
    "ceiling",
]), st.integers(min_value=0, max_value=50), day), min_size=1, max_size=12)


def _apply(edit, n, when, state):
    calls = list(Call.objects.order_by("pk"))
    call = calls[n % len(calls)] if calls else None
    if edit == "create" or call is None:
        state["made"] += 1
        return _write_call(1000 + state["made"], ((when, when + datetime.timedelta(days=20)), False, []))
    if edit == "dates":
        call.opens_on, call.closes_on = None, when
        call.opens_on_precision = call.closes_on_precision = "day"
        services.save_call(call=call, unsourced_acknowledged=True)
    elif edit == "add_round":
        added = Round(name=f"Vague {n}", opens_on=when, closes_on=when + datetime.timedelta(days=9))
        _rows_written(call, rounds=[*call.rounds.all(), added])
    elif edit == "drop_round":
        _rows_written(call, rounds=list(call.rounds.all())[1:])
    elif edit == "theme":
        _rows_written(call, codes={"themes": [*call.themes.all(), state["theme"]]})
    elif edit == "rename_funder":
        funder = state["funder"]
        if not call.funder_roles.filter(funder=funder).exists():
            _rows_written(call, funders=[*call.funder_roles.all(), CallFunder(funder=funder, role="funder")])
        funder.name = f"Financeur renommé {n}"
        services.save_reference(instance=funder)
    elif edit == "archive":
        services.set_publication_state(call=call, state=PublicationState.ARCHIVED)
    elif edit == "publish":
        services.set_publication_state(call=call, state=PublicationState.PUBLISHED, unsourced_acknowledged=True)
    elif edit == "edition" and not hasattr(call, "next_edition"):
        services.create_new_edition(call=call)
    elif edit == "ceiling":
        _rows_written(call, ceilings=[*call.ceilings.all(), Ceiling(amount_eur=1000 * (n + 1))])
    return call


def _rows_written(call, **rows):
    """A curator changes the call's rows (and nothing else) through the services."""
    services.save_call(call=call, rows=services.CallRows(**rows), changed=False, unsourced_acknowledged=True)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(EDITS)
def test_the_read_model_kept_by_the_services_equals_a_rebuild_on_a_few_generated_edits(db, edits):
    """The quick tier's run of the property below (a few examples, every commit)."""
    _check_kept_equals_rebuild(edits)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(EDITS)
def test_the_read_model_kept_by_the_services_equals_a_rebuild(db, edits):
    _check_kept_equals_rebuild(edits)


def _check_kept_equals_rebuild(edits):
    with transaction.atomic():
        state = {"made": 0, "theme": ThemeFactory(slug="bioproduction"), "funder": FunderFactory(name="Bpifrance")}
        for edit, n, when in edits:
            try:
                with transaction.atomic():
                    _apply(edit, n, when, state)
            except ValidationError:
                pass  # a write the rules refuse (publishing unconfirmed figures…) leaves nothing behind
        assert read_model.rebuild() == []
        transaction.set_rollback(True)


def test_rebuild_command_reports_and_repairs_drift():
    call = CallFactory(closes_on=datetime.date(2026, 7, 31))
    CallIndex.objects.filter(pk=call.pk).update(open_until=datetime.date(2020, 1, 1))
    with pytest.raises(SystemExit) as exit_info:
        call_command("rebuild_read_model", "--check")
    assert exit_info.value.code == 1
    assert CallIndex.objects.get(pk=call.pk).open_until == datetime.date(2026, 7, 31)
    call_command("rebuild_read_model", "--check")  # repaired: no drift left


def test_every_write_through_the_services_moves_the_registry_version_in_its_transaction():
    call = CallFactory()
    before = read_model.current_version()
    call.title = "Nouveau titre"
    services.save_call(call=call)
    assert read_model.current_version() == before + 1
    with pytest.raises(RuntimeError), transaction.atomic():
        call.title = "Titre jamais enregistré"
        services.save_call(call=call)
        raise RuntimeError  # the write is rolled back: so is the version
    assert read_model.current_version() == before + 1


def test_renaming_a_funder_refreshes_the_search_of_its_calls(client):
    funder = FunderFactory(name="Agence régionale", acronym="ARX")
    call = CallFactory(title="Soutien aux plateformes")
    call.funder_roles.create(funder=funder)
    reindex(call=call)
    funder.name = "Agence Bioproduction Normandie"
    services.save_reference(instance=funder)
    found = client.get("/", {"q": "Normandie", "status": EVERY_STATUS}).context["page_obj"]
    assert [c.slug for c in found] == [call.slug]


def test_the_default_search_reads_dates_from_the_read_model_in_a_bounded_number_of_queries(client):
    for _ in range(5):
        RoundFactory()
    ThemeFactory()
    with CaptureQueriesContext(connection) as first:
        client.get("/", {"q": "appel"})
    with factories.one_refresh():
        for _ in range(20):
            RoundFactory()
    with CaptureQueriesContext(connection) as second:
        client.get("/", {"q": "appel"})
    assert len(second) == len(first)
    rounds_table = Round._meta.db_table
    assert not any(rounds_table in q["sql"] for q in second.captured_queries if "COUNT" in q["sql"]), (
        "the search's counts read the rounds table instead of the stored date facts"
    )


def test_a_registry_upgraded_from_before_the_read_model_gets_it_on_start(client):
    """Calls written before the read model existed have no row: the start-up step builds them,
    and the public search finds them again."""
    call = CallFactory(title="Appel d'avant la mise à jour")
    CallIndex.objects.filter(pk=call.pk).delete()  # as a registry migrated from before 0015
    search = {"q": "avant", "status": EVERY_STATUS}
    assert client.get("/", search).context["paginator"].count == 0
    call_command("rebuild_read_model", "--missing")
    assert [c.slug for c in client.get("/", search).context["page_obj"]] == [call.slug]


def _a_call_with_every_kind_of_row(n, programme):
    call = CallFactory(programme=programme, title=f"Appel complet {n}", closes_on=datetime.date(2026, 9, 30))
    RoundFactory(call=call, opens_on=datetime.date(2026, 5, 1), closes_on=datetime.date(2026, 5, 31))
    RoundFactory(call=call, opens_on=datetime.date(2026, 9, 1), closes_on=datetime.date(2026, 9, 30))
    factories.CeilingFactory(call=call)
    factories.CallFunderFactory(call=call)
    factories.SourceFactory(call=call, document=factories.DocumentFactory())
    factories.LaureateFactory(call=call)
    call.themes.add(ThemeFactory())
    call.beneficiaries.set(BeneficiaryType.objects.filter(code="sme"))
    call.aid_forms.set(AidFormType.objects.filter(code="grant"))
    call.regions.set(Region.objects.filter(code="84"))
    reindex(call=call)


def _queries_of_a_rebuild():
    with CaptureQueriesContext(connection) as queries:
        assert read_model.rebuild() == []
    return len(queries)


def test_a_rebuild_runs_as_many_queries_for_12_calls_as_for_3():
    """Calls are computed and written by batches: one prefetching query set, every programme read
    once, bulk inserts, whatever the number of calls (and the depth of their programmes)."""
    parent = factories.ProgrammeFactory()
    programme = factories.ProgrammeFactory(parent=factories.ProgrammeFactory(parent=parent))
    with factories.one_refresh():
        for n in range(3):
            _a_call_with_every_kind_of_row(n, programme)
    few = _queries_of_a_rebuild()
    with factories.one_refresh():
        for n in range(3, 12):
            _a_call_with_every_kind_of_row(n, programme if n % 2 else parent)
    assert CallPeriod.objects.count() == 24  # two periods each: each call has rows of every kind
    assert _queries_of_a_rebuild() == few


# -- Open to applicants in France: one rule, stored, read by every list -------------------------

@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["FR", "BE", "CH", "US"]),
                          st.sampled_from(["national", "regional", "european", "international"])),
                min_size=1, max_size=8))
def test_open_to_applicants_in_france_in_sql_equals_the_python_rule(db, generated):
    with transaction.atomic():
        calls = [CallFactory(country=country, scope=scope) for country, scope in generated]
        in_sql = set(Call.objects.for_applicants_in_france().values_list("pk", flat=True))
        assert in_sql == {call.pk for call in calls if call.is_for_applicants_in_france}
        assert set(Call.objects.foreign_references().values_list("pk", flat=True)) == {
            call.pk for call in calls} - in_sql
        transaction.set_rollback(True)


def test_an_international_call_of_a_foreign_body_is_in_the_default_search_and_a_foreign_national_scheme_is_not(
        client):
    international = CallFactory(slug="international", country="US", scope="international",
                                opens_on=today() - datetime.timedelta(days=3),
                                closes_on=today() + datetime.timedelta(days=30))
    CallFactory(slug="belgian", country="BE", scope="national", opens_on=international.opens_on,
                closes_on=international.closes_on)
    listed = [call["slug"] for call in client.get("/api/v1/calls/").json()["results"]]
    assert listed == ["international"]
    assert [c["slug"] for c in client.get("/api/v1/calls/?foreign=only").json()["results"]] == ["belgian"]
    home = client.get("/").context["home_groups"]
    assert [call.slug for group in home for call in group["calls"]] == ["international"]
