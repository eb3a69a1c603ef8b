"""A curator's save is one write: the call, its inlines' rows and its vocabularies go through
`services.save_call` together, so the read model is refreshed once (the registry version, which
every refresh of a public call moves, moves by one) and the change is in the call's history."""
import pytest

from calls.models import Call, Laureate
from calls.reading import read_model
from tests.admin_forms import ADMIN, change_form_data, import_csv
from tests.factories import CallFactory, ThemeFactory

pytestmark = pytest.mark.django_db


def test_a_change_with_a_new_row_and_a_theme_is_one_write(curator_client):
    call = CallFactory(title="AAP Plateformes")
    theme = ThemeFactory(slug="bioproduction", name="Bioproduction")
    data = change_form_data(curator_client.get(f"{ADMIN}{call.pk}/change/"))
    data.update({
        "title": "AAP Plateformes de bioproduction", "themes": [str(theme.pk)],
        "laureates-TOTAL_FORMS": "1", "laureates-0-organisation": "Start-up lauréate", "laureates-0-year": "2026",
    })
    version, records = read_model.current_version(), call.history.count()

    response = curator_client.post(f"{ADMIN}{call.pk}/change/", data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    call = Call.objects.get(pk=call.pk)
    assert (call.title, [t.slug for t in call.themes.all()]) == ("AAP Plateformes de bioproduction", ["bioproduction"])
    assert list(Laureate.objects.filter(call=call).values_list("organisation", flat=True)) == ["Start-up lauréate"]
    assert read_model.current_version() == version + 1
    assert call.history.count() > records
    found = curator_client.get("/", {"q": "bioproduction", "status": ["open", "upcoming", "closed", "dates_unknown"]})
    assert call.slug in found.content.decode()


def test_a_csv_row_changing_a_call_and_its_themes_is_one_write(curator_client):
    call = CallFactory(slug="aap-csv", title="AAP CSV")
    ThemeFactory(slug="bioproduction", name="Bioproduction")
    csv_text = "slug,title,call_type,themes\naap-csv,AAP CSV renommé,call_for_projects,bioproduction\n"
    version, records = read_model.current_version(), call.history.count()

    assert curator_client.post(f"{ADMIN}process_import/", import_csv(curator_client, csv_text)).status_code == 302

    call = Call.objects.get(pk=call.pk)
    assert (call.title, [t.slug for t in call.themes.all()]) == ("AAP CSV renommé", ["bioproduction"])
    assert read_model.current_version() == version + 1
    assert call.history.count() > records
