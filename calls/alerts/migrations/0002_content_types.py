"""The alerts' content types follow them to the `alerts` app, so that their permissions (given to
curators and data-protection officers) and admin log entries stay theirs."""
from django.db import migrations

MODELS = ["alertsubscription", "sentalert"]


def follow(apps, schema_editor, *, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    for model in MODELS:
        moving = ContentType.objects.using(db).filter(app_label=old, model=model).first()
        if moving is None:
            continue  # a fresh database: created under the new label after migrating
        there = ContentType.objects.using(db).filter(app_label=new, model=model).first()
        if there is not None:  # already created there (an interrupted migration): keep the permissions
            for permission in Permission.objects.using(db).filter(content_type=moving):
                if not Permission.objects.using(db).filter(content_type=there, codename=permission.codename).exists():
                    permission.content_type = there
                    permission.save(update_fields=["content_type"])
            moving.delete()
            continue
        moving.app_label = new
        moving.save(update_fields=["app_label"])


def forwards(apps, schema_editor):
    follow(apps, schema_editor, old="calls", new="alerts")


def backwards(apps, schema_editor):
    follow(apps, schema_editor, old="alerts", new="calls")


class Migration(migrations.Migration):

    dependencies = [
        ("alerts", "0001_initial"),
        ("calls", "0027_alerts_move_to_their_app"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
