"""Beat schedules of payments: dunning retries hourly, reconciliation nightly."""

from django.db import migrations


def create_schedules(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    crontab_model = apps.get_model("django_celery_beat", "CrontabSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = interval_model.objects.get_or_create(every=3600, period="seconds")
    task_model.objects.get_or_create(
        name="Retry failed payments (dunning)",
        defaults={"task": "payments.retry_due", "interval": hourly},
    )
    nightly, _ = crontab_model.objects.get_or_create(
        minute="40", hour="2", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    task_model.objects.get_or_create(
        name="Reconcile payments with Stripe",
        defaults={"task": "payments.reconcile", "crontab": nightly},
    )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task__in=["payments.retry_due", "payments.reconcile"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
