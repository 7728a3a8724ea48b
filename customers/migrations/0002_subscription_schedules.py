"""Beat schedules for subscription state changes (visible under Periodic tasks in the admin)."""

from django.db import migrations

SCHEDULES = [
    ("Activate due subscriptions", "customers.activate_due_subscriptions"),
    ("Terminate ended subscriptions", "customers.terminate_ended_subscriptions"),
]


def create_schedules(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5_minutes, _ = interval_model.objects.get_or_create(every=300, period="seconds")
    for name, task in SCHEDULES:
        task_model.objects.get_or_create(
            name=name, defaults={"task": task, "interval": every_5_minutes}
        )


def remove_schedules(apps, schema_editor):
    names = [name for name, _ in SCHEDULES]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
