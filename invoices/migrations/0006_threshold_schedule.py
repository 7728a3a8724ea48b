"""Beat schedule for progressive billing (usage thresholds)."""

from django.db import migrations


def create_schedule(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = interval_model.objects.get_or_create(every=300, period="seconds")
    task_model.objects.get_or_create(
        name="Check usage thresholds (progressive billing)",
        defaults={"task": "invoices.check_usage_thresholds", "interval": every},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="Check usage thresholds (progressive billing)"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0005_credit_notes_thresholds"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
