"""Create the staff groups `finance` and `ops`; billing_site/core/roles.py says what each may do."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from billing_site.core.roles import ROLES, sync_role_permissions


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrate; create the ones that exist so far now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    sync_role_permissions(apps=apps, using=schema_editor.connection.alias)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
