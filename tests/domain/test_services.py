"""The write path's rules (calls.services, calls.rules): what every writer of a call obeys."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from calls import services
from calls.models import Call, Ceiling, Round, Source
from calls.rules import CallRows
from tests.factories import CallFactory, CeilingFactory, RoundFactory, SourceFactory
from tests.helpers import reindex

pytestmark = pytest.mark.django_db


def test_a_new_edition_takes_the_next_year_in_its_title_and_slug():
    call = CallFactory(title="AAP Bioproduction 2026", slug="aap-bioproduction-2026")
    edition = services.create_new_edition(call=call)
    assert edition.title == "AAP Bioproduction 2027"
    assert edition.slug == "aap-bioproduction-2027"


def test_a_new_edition_of_a_title_without_a_year_is_named_after_the_year_following_its_opening():
    call = CallFactory(title="i-Nov", slug="i-nov", opens_on=datetime.date(2026, 5, 1))
    edition = services.create_new_edition(call=call)
    assert (edition.title, edition.slug) == ("i-Nov 2027", "i-nov-2027")
    assert "nouvelle-edition" not in edition.slug


def test_a_new_edition_whose_slug_is_taken_gets_a_free_one():
    CallFactory(slug="aap-2027", title="Autre")
    edition = services.create_new_edition(call=CallFactory(title="AAP 2026", slug="aap-2026"))
    assert edition.slug == "aap-2027-2"


def test_copied_figures_are_to_confirm_and_block_publication_naming_them():
    call = CallFactory(title="AAP 2026", slug="aap-2026")
    CeilingFactory(call=call, amount_eur=600_000)
    SourceFactory(call=call, document=None, title="Cahier des charges 2026", covers="ceilings")
    edition = services.create_new_edition(call=call)
    assert all(c.to_confirm for c in edition.ceilings.all()) and all(s.to_confirm for s in edition.sources.all())

    with pytest.raises(ValidationError) as refused:
        services.set_publication_state(call=edition, state="published", unsourced_acknowledged=True)
    message = " ".join(refused.value.message_dict["publication_state"])
    assert "600" in message and "Cahier des charges 2026" in message
    assert Call.objects.get(pk=edition.pk).publication_state == "draft"

    assert services.confirm_copied_figures(call=edition) == 2
    edition.refresh_from_db()
    assert services.set_publication_state(call=edition, state="published", unsourced_acknowledged=True)


def test_a_replaced_copied_ceiling_lets_the_edition_publish():
    call = CallFactory(title="AAP 2026", slug="aap-2026", opens_on=None, closes_on=None)
    CeilingFactory(call=call, amount_eur=600_000)
    edition = services.create_new_edition(call=call)
    edition.ceilings.all().delete()
    reindex(call=edition)
    Ceiling.objects.create(call=edition, amount_eur=700_000)
    SourceFactory(call=edition, covers="ceilings")
    edition.sources.filter(to_confirm=True).delete()
    assert services.set_publication_state(call=edition, state="published")


def test_publishing_figures_no_source_covers_is_refused_unless_acknowledged():
    call = CallFactory(publication_state="draft", total_budget_eur=5_000_000)
    SourceFactory(call=call, covers="opens_on, closes_on")
    with pytest.raises(ValidationError) as refused, translation.override("fr"):
        services.set_publication_state(call=call, state="published")
    assert "budget total (EUR) (5\u00a0000\u00a0000 €)" in " ".join(refused.value.messages)  # French by default
    call.refresh_from_db()
    assert services.set_publication_state(call=call, state="published", unsourced_acknowledged=True)


def test_a_published_call_saved_with_a_new_unsourced_figure_is_refused_but_old_ones_do_not_block():
    call = CallFactory()  # published, dates without a source (entered before the rule)
    services.mark_verified(call=call, on=datetime.date(2026, 11, 30))  # nothing new: saved
    call.total_budget_eur = 1_000_000
    with pytest.raises(ValidationError):
        services.save_call(call=call)
    assert services.save_call(call=call, unsourced_acknowledged=True).total_budget_eur == 1_000_000


def test_the_window_of_a_call_is_widened_to_its_rounds():
    call = CallFactory(publication_state="draft", opens_on=datetime.date(2027, 1, 10),
                       closes_on=datetime.date(2027, 3, 31))
    RoundFactory(call=call, name="Étape 2", opens_on=None, closes_on=datetime.date(2027, 9, 30),
                 closes_on_precision="month")
    services.save_call(call=call)
    call.refresh_from_db()
    assert (call.opens_on, call.closes_on, call.closes_on_precision) == (
        datetime.date(2027, 1, 10), datetime.date(2027, 9, 30), "month",
    )


def test_rows_about_to_be_written_are_what_the_window_and_checks_read():
    call = Call(title="AAP", slug="aap", call_type="call_for_projects", publication_state="published",
                closes_on=datetime.date(2027, 3, 1))
    rows = CallRows(rounds=[Round(name="Vague 1", opens_on=datetime.date(2027, 1, 5),
                                  closes_on=datetime.date(2027, 4, 1))],
                    sources=[Source(title="Règlement", covers="rounds")])
    services.save_call(call=call, rows=rows)
    assert (call.opens_on, call.closes_on) == (datetime.date(2027, 1, 5), datetime.date(2027, 4, 1))


def test_an_opening_after_the_closing_is_still_refused():
    call = CallFactory(publication_state="draft")
    call.opens_on, call.closes_on = datetime.date(2027, 5, 1), datetime.date(2027, 1, 1)
    with pytest.raises(ValidationError) as refused:
        services.save_call(call=call)
    assert "closes_on" in refused.value.message_dict
