"""The alerts' models moved from the `calls` app to their own (`alerts`) with their tables: a
registry migrated before the move keeps its subscriptions and the permissions given on them."""
import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("calls", "0026_discontinued_and_next_edition_evidence"), ("alerts", None)]


@pytest.mark.slow  # migrates a database back and forth
@pytest.mark.django_db(transaction=True)
def test_a_registry_migrated_before_the_move_keeps_its_alerts_and_their_permissions():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    # As it was: the table under `calls`, its content type and a permission given on it.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO calls_alertsubscription (email, language, rhythm, query, secret, created_at) "
            "VALUES ('ana@example.org', 'fr', 'daily', 'q=CAR-T', 'abc', CURRENT_TIMESTAMP)"
        )
    old_type, _created = ContentType.objects.get_or_create(app_label="calls", model="alertsubscription")
    seeing, _created = Permission.objects.get_or_create(
        content_type=old_type, codename="view_subscriber_email", defaults={"name": "Can see subscribers' addresses"},
    )
    officers = Group.objects.create(name="data-protection")
    officers.permissions.add(seeing)

    call_command("migrate", verbosity=0)

    from calls.alerts.models import AlertSubscription

    assert list(AlertSubscription.objects.values_list("email", "query")) == [("ana@example.org", "q=CAR-T")]
    moved = ContentType.objects.get_for_model(AlertSubscription)
    assert (moved.pk, moved.app_label) == (old_type.pk, "alerts")
    assert list(officers.permissions.values_list("content_type__app_label", "codename")) == [
        ("alerts", "view_subscriber_email")]
    assert not ContentType.objects.filter(app_label="calls", model="alertsubscription").exists()
