"""Sources that say what they cover: a source's `covers` is ticked among the call's figures, by
their labels; an unknown word is refused with a message; a figure no source covers is named, with
what to tick to cover it."""
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from calls.importing.loading import load_registry
from calls.models import Call
from tests.admin_forms import ADMIN, call_form, change_form_data, inline_management
from tests.factories import CallFactory, SourceFactory

pytestmark = pytest.mark.django_db


def test_a_sources_covers_are_boxes_labelled_with_the_calls_figures(curator_client):
    form = curator_client.get(f"{ADMIN}add/").context["inline_admin_formsets"][-2].formset.forms[0]
    assert [str(label) for _word, label in form.fields["covers"].choices] == [
        "opening date", "closing date", "rounds", "total budget (EUR)", "ceilings", "floor per project (EUR)",
        "funding rate", "duration", "TRL", "laureates", "recurrence", "edition year",
        "stopped, according to its page",
    ]
    content = curator_client.get(f"{ADMIN}add/").content.decode()
    assert 'type="checkbox" name="sources-0-covers" value="floor_eur"' in content
    french = curator_client.get("/admin/calls/call/add/").content.decode()
    assert "plancher par projet (EUR)" in french


def test_ticked_boxes_are_what_the_source_covers(curator_client):
    response = curator_client.post(f"{ADMIN}add/", call_form(**{
        "floor_eur": "200000", "publication_state": "published",
        **inline_management("sources", 1), "sources-0-title": "Cahier des charges",
        "sources-0-url": "https://example.org/cdc.pdf", "sources-0-covers": ["opens_on", "closes_on", "floor_eur"],
    }))
    assert response.status_code == 302, response.context["errors"]
    source = Call.objects.get(slug="aap-bioproduction-2027").sources.get()
    assert source.covers == "opens_on, closes_on, floor_eur"

    # Left as it is, the change page posts the same boxes back.
    data = change_form_data(curator_client.get(f"{ADMIN}{source.call_id}/change/"))
    assert data["sources-0-covers"] == ["opens_on", "closes_on", "floor_eur"]


def test_an_unknown_word_in_covers_is_refused_with_a_message(curator_client):
    response = curator_client.post(f"{ADMIN}add/", call_form(**{
        **inline_management("sources", 1), "sources-0-title": "Cahier des charges",
        "sources-0-covers": ["opens_on", "budget"],
    }))
    assert response.status_code == 200
    source_form = response.context["inline_admin_formsets"][-2].formset.forms[0]
    assert source_form.errors["covers"] == [
        "“budget” is not something a source covers: tick those it supports among the boxes."]
    assert not Call.objects.exists()


def test_the_loader_refuses_an_unknown_word_in_covers_naming_the_known_ones():
    entry = {"slug": "aap-mot", "title": "AAP", "call_type": "call_for_projects",
             "sources": [{"title": "Page", "covers": ["closes_on", "budget"]}]}
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        load_registry(data={"calls": [entry]})
    [message] = refused.value.message_dict["sources"]
    assert message.startswith("#1 covers: Not something a source covers: “budget”. It covers some of: opens_on "
                              "(opening date), closes_on (closing date), rounds (rounds),")
    assert not Call.objects.exists()


def test_a_programmes_source_covers_the_programmes_dates_and_budget_only():
    from calls.models import Source
    from tests.factories import ProgrammeFactory

    source = Source(programme=ProgrammeFactory(), title="Page", covers="budget_eur, ceilings")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        source.full_clean()
    assert refused.value.message_dict["covers"] == [
        "Not something a source covers: “ceilings”. It covers some of: budget_eur (budget (EUR)), starts_on (start), "
        "ends_on (end)."]


def test_an_uncovered_figure_is_named_with_what_to_tick_to_cover_it(curator_client):
    call = CallFactory()
    SourceFactory(call=call, covers="opens_on, closes_on")
    data = change_form_data(curator_client.get(f"{ADMIN}{call.pk}/change/"))
    data["floor_eur"] = "200000"
    response = curator_client.post(f"{ADMIN}{call.pk}/change/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["publication_state"] == [
        "No source covers: floor per project (EUR) (200,000 €). Tick “floor per project (EUR)” in the “covers” of "
        "the source that gives each figure (or add that source), or acknowledge that they are published without one."
    ]

    data["sources-0-covers"] = ["opens_on", "closes_on", "floor_eur"]
    assert curator_client.post(f"{ADMIN}{call.pk}/change/", data).status_code == 302
    call.refresh_from_db()
    assert call.floor_eur == 200_000
