"""PostgreSQL: a French text search configuration that also unaccents, and a GIN index.

`french_unaccent` is copied from `french` with the `unaccent` dictionary before `french_stem`,
so "therapies geniques" finds "thérapie génique". Nothing to do on SQLite.
"""
from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

INDEX_NAME = "calls_call_search_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.contrib.postgres.search import SearchVector

    # The expression searched at the time (written out here: calls.reading.search no longer has it);
    # migration 0016 drops this index, the search reading the read model's stored vector.
    search_vector = (
        SearchVector("title", weight="A", config="french_unaccent")
        + SearchVector("summary", weight="B", config="french_unaccent")
        + SearchVector("description", weight="C", config="french_unaccent")
    )
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    schema_editor.execute(
        "DO $$ BEGIN "
        "IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'french_unaccent') THEN "
        "CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = french); "
        "ALTER TEXT SEARCH CONFIGURATION french_unaccent "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem; "
        "END IF; END $$"
    )
    Call = apps.get_model("calls", "Call")
    schema_editor.add_index(Call, GinIndex(search_vector, name=INDEX_NAME))


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [("calls", "0002_vocabularies_and_curators")]
    operations = [migrations.RunPython(create, drop)]
