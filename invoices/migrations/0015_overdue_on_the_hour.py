"""The overdue marking runs on the hour (UTC), so invoices are flagged right after midnight of
the day after their due date, not up to an hour after an interval that started at deploy time."""

from django.db import migrations
from django.utils import timezone

NAME = "Mark overdue invoices"


def on_the_hour(apps, schema_editor):
    crontab_model = apps.get_model("django_celery_beat", "CrontabSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = crontab_model.objects.get_or_create(
        minute="0",
        hour="*",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    task_model.objects.update_or_create(
        name=NAME,
        defaults={"task": "invoices.mark_overdue", "crontab": hourly, "interval": None},
    )
    _tell_beat(apps)


def _tell_beat(apps):
    """A running beat (DatabaseScheduler) reloads its schedule when this stamp moves."""
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


def every_hour(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = interval_model.objects.get_or_create(every=3600, period="seconds")
    task_model.objects.filter(name=NAME).update(interval=every, crontab=None)
    _tell_beat(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0014_lifetime_usage"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(on_the_hour, every_hour)]
