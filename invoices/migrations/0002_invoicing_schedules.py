"""Beat schedules of invoicing, visible and adjustable under Periodic tasks in the admin."""

from django.db import migrations

INTERVALS = [
    ("Bill due subscriptions", "invoices.bill_due_subscriptions", 300),
    ("Finalize drafts after their grace period", "invoices.finalize_due_drafts", 600),
    ("Mark overdue invoices", "invoices.mark_overdue", 3600),
]


def create_schedules(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds in INTERVALS:
        every, _ = interval_model.objects.get_or_create(every=seconds, period="seconds")
        task_model.objects.get_or_create(name=name, defaults={"task": task, "interval": every})


def remove_schedules(apps, schema_editor):
    names = [name for name, _, _ in INTERVALS]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
