"""The alerts' models now belong to the `calls.alerts` app (label `alerts`), which keeps their
tables: state only, nothing is written to the database."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('calls', '0026_discontinued_and_next_edition_evidence'),
        ('alerts', '0001_initial'),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=[
        migrations.RemoveField(
            model_name='sentalert',
            name='subscription',
        ),
        migrations.RemoveField(
            model_name='sentalert',
            name='call',
        ),
        migrations.DeleteModel(
            name='AlertSubscription',
        ),
        migrations.DeleteModel(
            name='SentAlert',
        ),
    ])]
