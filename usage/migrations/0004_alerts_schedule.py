"""Beat schedule evaluating usage alerts of flagged subscriptions and wallets every minute."""

from django.db import migrations

NAME = "Evaluate usage alerts (flagged subscriptions and wallets)"


def create_schedule(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = interval_model.objects.get_or_create(every=60, period="seconds")
    task_model.objects.get_or_create(
        name=NAME, defaults={"task": "usage.process_alerts", "interval": every}
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0003_usage_rollup"),
        ("customers", "0010_usage_alerts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
