"""A `partners` group whose members may submit calls through the API (stored as drafts)."""
from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_group(apps, schema_editor):
    app_config = apps.get_app_config("calls")
    app_config.models_module = True
    db = schema_editor.connection.alias
    create_permissions(app_config, verbosity=0, using=db)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    partners, _created = Group.objects.using(db).get_or_create(name="partners")
    partners.permissions.set(
        Permission.objects.using(db).filter(content_type__app_label="calls", codename="submit_call")
    )


def drop_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name="partners").delete()


class Migration(migrations.Migration):
    dependencies = [("calls", "0006_call_published_at")]
    operations = [migrations.RunPython(create_group, drop_group)]
