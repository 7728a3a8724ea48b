"""pytest: tasks run inline, fast password hashing, a throwaway media folder."""

from billing_site.settings.dev import *  # noqa: F403
from billing_site.settings.dev import env

DEBUG = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]
LOGGING["root"]["level"] = env.str("LOG_LEVEL", default="WARNING")  # noqa: F405
USAGE_FOLLOWUP_DELAY_SECONDS = 0  # bill at once in tests (tasks run eagerly)
ALERTS_PROCESS_DELAY_SECONDS = 0  # evaluate usage alerts at once in tests
DASHBOARD_CACHE_SECONDS = 0  # figures computed afresh in each test
