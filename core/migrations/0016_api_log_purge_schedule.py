"""Daily beat schedule deleting API logs past API_LOG_RETENTION_DAYS."""

from django.db import migrations

NAME = "Delete API logs past their retention"


def create_schedule(apps, schema_editor):
    crontab_model = apps.get_model("django_celery_beat", "CrontabSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = crontab_model.objects.get_or_create(
        minute="41", hour="3", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    task_model.objects.get_or_create(
        name=NAME, defaults={"task": "core.purge_api_logs", "crontab": daily}
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0015_api_log"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
