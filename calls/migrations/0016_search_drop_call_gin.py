"""PostgreSQL: drop the GIN index of migration 0003 on the calls' own texts.

The search reads the read model's stored, weighted vector (`CallIndex.search_vector`, GIN-indexed
by migration 0015): the old index was no longer used, and every write to a call still paid for
it. Nothing to do on SQLite. Going back recreates it as migration 0003 made it.
"""
from django.db import migrations

INDEX_NAME = "calls_call_search_gin"


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


def recreate(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    search_vector = (
        SearchVector("title", weight="A", config="french_unaccent")
        + SearchVector("summary", weight="B", config="french_unaccent")
        + SearchVector("description", weight="C", config="french_unaccent")
    )
    schema_editor.add_index(apps.get_model("calls", "Call"), GinIndex(search_vector, name=INDEX_NAME))


class Migration(migrations.Migration):
    dependencies = [("calls", "0015_read_model")]
    operations = [migrations.RunPython(drop, recreate)]
