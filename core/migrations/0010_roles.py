"""The staff roles (Finance viewer, Billing operator, Billing admin) as groups with their
permissions. Permissions are normally created after all migrations ran; they are created
here first so that a fresh database gets complete groups."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from core.roles import sync_roles

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps)


def remove_roles(apps, schema_editor):
    from core.roles import ADMIN, OPERATOR, VIEWER

    apps.get_model("auth", "Group").objects.filter(name__in=[VIEWER, OPERATOR, ADMIN]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0009_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("customers", "0007_permissions"),
        ("plans", "0004_permissions"),
        ("usage", "0003_usage_rollup"),
        ("invoices", "0010_permissions"),
        ("payments", "0003_permissions"),
        ("taxes", "0002_load_rules"),
        ("webhooks", "0002_retry_schedule"),
        ("portal", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
