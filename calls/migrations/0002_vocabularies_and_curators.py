"""Seed the controlled vocabularies (regions, beneficiary types, aid forms) and the curators group."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

from calls.choices import REGIONS, AidForm, Beneficiary

CURATOR_MODELS = [
    "call", "callfunder", "round", "ceiling", "source", "laureate", "funder", "programme", "theme", "document",
]
READ_ONLY_MODELS = ["region", "beneficiarytype", "aidformtype"]


def seed(apps, schema_editor):
    db = schema_editor.connection.alias
    Region = apps.get_model("calls", "Region")
    for code, name in REGIONS.items():
        Region.objects.using(db).update_or_create(code=code, defaults={"name": name})
    for model_name, choices in (("BeneficiaryType", Beneficiary), ("AidFormType", AidForm)):
        model = apps.get_model("calls", model_name)
        for code in choices.values:
            model.objects.using(db).get_or_create(code=code)

    # Permissions are normally created after migrations; the group needs them now.
    app_config = apps.get_app_config("calls")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, using=db)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    curators, _created = Group.objects.using(db).get_or_create(name="curators")
    codenames = [f"{action}_{model}" for model in CURATOR_MODELS for action in ("add", "change", "view")]
    codenames += [f"view_{model}" for model in READ_ONLY_MODELS]
    codenames += [f"view_historical{model}" for model in CURATOR_MODELS]
    curators.permissions.set(
        Permission.objects.using(db).filter(content_type__app_label="calls", codename__in=codenames)
    )


def unseed(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name="curators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
