"""PostgreSQL: keep the read model's rows narrow (the date facts, flags and ceiling a search
filters and sorts on), with its long values (search texts, vector, document) stored out of line.

A row of `calls_callindex` held its search text and document inline (compressed): 2.5 KB a row,
so a search that reads a few thousand rows to filter and count read megabytes it did not need.
With `toast_tuple_target` at its minimum, long values move to the TOAST table as soon as a row
passes 128 bytes, and are read only for the rows that need them (a page's 20 documents).

The rows already there are rewritten at once (`VACUUM FULL`, outside a transaction: seconds at
100 000 calls, nothing on the registry's few hundred). Nothing to do on SQLite.
"""
from django.db import migrations


def narrow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE calls_callindex SET (toast_tuple_target = 128)")
        schema_editor.execute("VACUUM FULL calls_callindex")


def widen(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE calls_callindex RESET (toast_tuple_target)")


class Migration(migrations.Migration):
    atomic = False  # VACUUM cannot run in a transaction
    dependencies = [("calls", "0017_laureate_order_stable")]
    operations = [migrations.RunPython(narrow, widen, atomic=False)]
