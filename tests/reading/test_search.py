"""The text search (`q`) as applicants use it: what it finds a call by, its synonyms, its ranking.

Through the search page and the API, on SQLite and on PostgreSQL alike.
"""
import datetime
import re

import pytest

from calls.choices import CallType
from calls.models import Call, CallIndex
from calls.querysets import today
from tests.factories import CallFactory, CallFunderFactory, FunderFactory, LaureateFactory, ProgrammeFactory
from tests.helpers import reindex

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
NEUTRAL = {"title": "Soutien aux biothérapies", "summary": "Financer la production.", "call_type": CallType.OPEN_SCHEME}


def make(slug, **fields):
    """A published call open today (the search's default statuses use the real today), whose
    texts say nothing a test searches for unless given."""
    fields = {**NEUTRAL, "opens_on": today() - 10 * DAY, "closes_on": today() + 30 * DAY, **fields}
    return CallFactory(slug=slug, **fields)


def api_slugs(client, text, **params):
    response = client.get("/api/v1/calls/", {"q": text, **params})
    assert response.status_code == 200, response.content
    return [call["slug"] for call in response.json()["results"]]


def page_slugs(client, text, **params):
    """The calls the search page lists, in its order."""
    response = client.get("/", {"q": text, **params})
    assert response.status_code == 200
    return list(dict.fromkeys(re.findall(r'href="/appels/([\w-]+)/"', response.content.decode())))


def found(client, text):
    """What the API finds for `text`; the search page finds the same calls."""
    slugs = api_slugs(client, text)
    assert set(page_slugs(client, text)) == set(slugs), text
    return set(slugs)


def test_a_funders_name_or_acronym_finds_its_calls_though_their_texts_dont_name_it(client):
    agency = FunderFactory(name="Agence de l'innovation en santé", acronym="AIS")
    CallFunderFactory(call=make("funded"), funder=agency)
    CallFunderFactory(call=make("by-bpi"), funder=FunderFactory(name="Bpifrance", acronym=""))
    make("other")
    assert found(client, "AIS") == {"funded"}
    assert found(client, "agence innovation santé") == {"funded"}
    assert found(client, "Bpifrance") == {"by-bpi"}
    assert found(client, "BPI") == {"by-bpi"}  # a synonym


def test_a_parent_programmes_name_finds_the_calls_of_its_sub_programmes(client):
    france_2030 = ProgrammeFactory(name="France 2030")
    grand_defi = ProgrammeFactory(name="Grand Défi Biomédicaments", parent=france_2030)
    make("child", programme=grand_defi)
    make("other", programme=ProgrammeFactory(name="CPER Île-de-France"))
    assert found(client, "France 2030") == {"child"}
    assert found(client, "grand défi") == {"child"}


def test_a_laureates_organisation_or_project_finds_the_call(client):
    LaureateFactory(call=make("won"), organisation="Yposkesi", project="Usine de vecteurs viraux")
    make("other")
    assert found(client, "yposkesi") == {"won"}
    assert found(client, "vecteurs viraux") == {"won"}


def test_eligibility_and_description_are_searched(client):
    make("eligible", eligibility="Ouvert aux CDMO établies en France.", description="Pour les bioréacteurs.")
    make("other")
    assert found(client, "CDMO") == {"eligible"}
    assert found(client, "bioréacteur") == {"eligible"}


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("AAP", "Les appels à projets de la région."),
        ("appel à projets", "Un AAP régional."),
        ("appels à projets", "Un AAP régional."),
        ("AMI", "Un appel à manifestation d'intérêt pour les usines."),
        ("appel à manifestation d'intérêt", "Un AMI pour les usines."),
        ("startup", "Pour les start-up du secteur."),
        ("startup", "Pour les jeunes pousses du secteur."),
        ("start-up", "Pour les startups du secteur."),
        ("start-up", "Pour les jeunes pousses du secteur."),
        ("jeune pousse", "Pour les start-ups du secteur."),
        ("jeunes pousses", "Pour une startup du secteur."),
        ("PME", "Pour les petites et moyennes entreprises."),
        ("petites et moyennes entreprises", "Pour les PME."),
        ("ETI", "Pour les entreprises de taille intermédiaire."),
    ],
)
def test_synonyms_find_each_other(client, typed, written):
    make("says-it", summary=written)
    make("other", summary="Pour les laboratoires académiques.")
    assert found(client, typed) == {"says-it"}


def test_aap_and_ami_find_the_calls_of_that_type_whatever_their_texts_say(client):
    make("projects", call_type=CallType.CALL_FOR_PROJECTS)
    make("interest", call_type=CallType.EXPRESSION_OF_INTEREST)
    make("scheme", call_type=CallType.OPEN_SCHEME)
    assert found(client, "AAP") == {"projects"}
    assert found(client, "appel à manifestation d'intérêt") == {"interest"}


def test_words_in_quotes_are_taken_literally(client):
    make("startup", summary="Pour les startups.")
    make("jeune-pousse", summary="Pour les jeunes pousses.")
    assert found(client, '"jeune pousse"') == {"jeune-pousse"}
    assert found(client, "« jeune pousse »") == {"jeune-pousse"}


def test_minus_leaves_out_and_or_joins(client):
    make("aap-vaccins", summary="Un AAP sur les vaccins.")
    make("aap-anticorps", summary="Un appel à projets sur les anticorps.")
    make("ami", summary="Un AMI sur les anticorps.")
    assert found(client, "AAP -vaccins") == {"aap-anticorps"}
    assert found(client, "anticorps -AAP") == {"ami"}
    assert found(client, "vaccins ou AMI") == {"aap-vaccins", "ami"}
    assert found(client, "anticorps vaccins") == set()  # every word is required


def test_innov_up_finds_innov_up_not_a_text_with_innovation_and_up_apart(client):
    make("innov-up", title="Innov'up (Région Île-de-France)")
    make("integrateurs", title="Intégrateurs biothérapies",
         summary="Des innovations portées par la plupart des start-up du groupe.")
    assert found(client, "innov'up") == {"innov-up"}
    assert found(client, "Innov’up") == {"innov-up"}  # typographic apostrophe
    assert found(client, "\"innov up\"") == {"innov-up"}


def test_a_short_word_is_no_prefix_of_longer_ones(client):
    make("ami", summary="Un AMI régional.")
    make("amines", summary="Production d'acides aminés.")
    assert found(client, "AMI") == {"ami"}


def test_the_title_ranks_first(client):
    make("a-in-summary", summary="Production de vaccins à ARN.")
    make("b-in-description", description="Vaccins et anticorps.")
    LaureateFactory(call=make("c-laureate"), project="Vaccins thermostables")
    make("z-in-title", title="Zone vaccins")
    slugs = api_slugs(client, "vaccins", ordering="relevance")
    assert slugs[0] == "z-in-title"
    assert set(slugs) == {"a-in-summary", "b-in-description", "c-laureate", "z-in-title"}
    assert page_slugs(client, "vaccins")[0] == "z-in-title"  # relevance is the default with a search


@pytest.mark.postgres
def test_on_postgresql_the_weights_rank_summary_then_description_then_laureates(client):
    make("a-laureate")
    LaureateFactory(call=Call.objects.get(slug="a-laureate"), project="Vaccins thermostables")
    make("b-description", description="Vaccins et anticorps.")
    make("c-summary", summary="Production de vaccins.")
    make("d-title", title="Vaccins")
    assert api_slugs(client, "vaccins", ordering="relevance") == ["d-title", "c-summary", "b-description", "a-laureate"]


def test_a_search_of_nothing_but_stop_words_or_signs_finds_nothing_without_error(client):
    make("one", summary="La thérapie et le vaccin.")
    for text in ("la", "le et de", "l'", "-", '""', "ou"):
        assert found(client, text) == set(), text


def test_accents_case_and_ligatures_are_ignored(client):
    make("coeur", summary="Thérapies géniques du cœur.")
    assert found(client, "THERAPIE GENIQUE coeur") == {"coeur"}
    assert found(client, "Cœur") == {"coeur"}


def test_the_search_reads_the_stored_document(client):
    call = make("stored", summary="Vecteurs viraux.")
    Call.objects.filter(pk=call.pk).update(summary="Anticorps.")  # behind the write path's back
    assert found(client, "vecteurs") == {"stored"}
    assert found(client, "anticorps") == set()


@pytest.mark.postgres
def test_on_postgresql_the_search_uses_the_gin_index_of_the_stored_vector():
    from django.db import connection, transaction

    make("genique", title="Thérapies géniques")
    assert CallIndex.objects.filter(search_vector__isnull=False).count() == 1
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
        plan = Call.objects.search("AAP thérapie").only("pk").explain()
    assert "Bitmap Index Scan on calls_callindex_search_gin" in plan
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'calls_call_search_gin'")
        assert cursor.fetchone()[0] == 0  # the old index on the calls' own texts is gone


# -- The sector's words (calls.reading.thesaurus) -------------------------------------------------------

@pytest.mark.parametrize("typed", ["CAR-T", "CAR-NK", "TIL", "cell therapy", "thérapie cellulaire"])
def test_a_kind_of_cell_therapy_finds_the_cell_therapy_calls_and_not_the_french_word_car(client, typed):
    make("cellular", summary="Produire des thérapies cellulaires.")
    make("car-t", summary="Industrialiser des cellules CAR-T autologues.")
    make("because", summary="Un appel ouvert car la demande est forte.")
    assert found(client, typed) == {"cellular", "car-t"}


@pytest.mark.parametrize("typed,written", [
    ("AAV", "Des vecteurs viraux pour la thérapie génique."),
    ("gene therapy", "Une plateforme de lentivirus."),
    ("mRNA", "Des vaccins à ARN messager."),
    ("anticorps monoclonaux", "Produire des mAbs en continu."),
    ("CDMO", "Pour les façonniers pharmaceutiques."),
    ("façonnier", "Open to contract manufacturing organisations."),
    ("ATMP", "Des médicaments de thérapie innovante."),
    ("bioprocess", "Les bioprocédés de demain."),
    ("usine", "Construire un site de production."),
])
def test_the_sectors_words_find_each_other(client, typed, written):
    make("says-it", summary=written)
    make("other", summary="Pour les laboratoires académiques.")
    assert found(client, typed) == {"says-it"}


def test_a_theme_and_a_vocabulary_label_find_their_calls_in_both_languages(client):
    from calls.models import BeneficiaryType
    from tests.factories import ThemeFactory

    theme = ThemeFactory(name="Procédés continus", name_en="Continuous manufacturing")
    themed = make("themed")
    themed.themes.add(theme)
    for_midcaps = make("midcaps")
    for_midcaps.beneficiaries.add(BeneficiaryType.objects.get(code="midcap"))
    make("plain")

    reindex(call=themed)
    reindex(call=for_midcaps)
    assert found(client, "procédés continus") == {"themed"}
    assert found(client, "continuous manufacturing") == {"themed"}
    assert found(client, "ETI") == {"midcaps"}
    assert found(client, "mid-cap") == {"midcaps"}


