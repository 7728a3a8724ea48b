"""Settings shared by every environment, read from the process environment.

Every deployment knob is an environment variable (12-factor); nothing secret lives in the
repository. See README.md for the table of variables.
"""

from datetime import timedelta
from pathlib import Path

import environ
from import_export.formats.base_formats import CSV, XLSX

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "core.admin_apps.BillingAdminConfig",  # django.contrib.admin with our site (TOTP, dashboard)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "djmoney",
    "django_celery_beat",
    "axes",
    "import_export",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "core",
    "customers",
    "plans",
    "usage",
    "invoices",
    "webhooks",
    "taxes",
    "payments",
    "backoffice",  # top layer; before portal: core syncs roles after the last app
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.ApiLogMiddleware",
    "core.middleware.ApiJsonErrorsMiddleware",
    "core.middleware.HostileInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.middleware.PortalSecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "billing_site.urls"
WSGI_APPLICATION = "billing_site.wsgi.application"
ASGI_APPLICATION = "billing_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database_config() -> dict:
    """DATABASE_URL, or a SQLite file under var/ tuned so web, worker and beat can share it."""
    config = env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on the
            # busy timeout instead of failing with "database is locked" on lock upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
        config.setdefault("CONN_HEALTH_CHECKS", True)
    return config


DATABASES = {"default": _database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]  # the portal's catalogs (en source, fr, de)
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="billing@localhost")

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["core.api.json.OrjsonRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.json.OrjsonParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.LagoPagination",
    "EXCEPTION_HANDLER": "core.api.exceptions.lago_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_METADATA_CLASS": "core.api.metadata.LagoMetadata",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Billing back-office API",
    "DESCRIPTION": "Lago-compatible REST API v1 (Bearer API key).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
}

# --- Celery ---------------------------------------------------------------------------------


def _broker_transport_options(broker_url: str) -> dict:
    """Redis: how long a delivered, unacknowledged task waits before kombu gives it to another
    worker (a worker killed mid-task). It must exceed the longest countdown/ETA and the longest
    task, or a task still waiting or running is delivered twice (harmless, every task is
    idempotent, but wasted). Filesystem: absolute folders (control_folder defaults to relative)."""
    if broker_url.startswith(("redis://", "rediss://")):
        return {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
    if not broker_url.startswith("filesystem://"):
        return {}
    root = VAR_DIR / "broker"
    folders = {
        "data_folder_in": root / "queue",
        "data_folder_out": root / "queue",
        "processed_folder": root / "processed",
        "control_folder": root / "control",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {key: str(value) for key, value in folders.items()} | {"store_processed": False}


# The embedded broker: kombu's filesystem transport. Its URL names a host (which the transport
# ignores) because kombu logs "No hostname was supplied. Reverting to default 'localhost'" for
# a bare `filesystem://` each time it describes the connection; a bare one is completed.
EMBEDDED_BROKER_URL = "filesystem://localhost/"


def broker_url(url: str) -> str:
    return EMBEDDED_BROKER_URL if url.rstrip("/") == "filesystem:" else url


CELERY_BROKER_URL = broker_url(env.str("CELERY_BROKER_URL", default=EMBEDDED_BROKER_URL))
CELERY_BROKER_TRANSPORT_OPTIONS = _broker_transport_options(CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged when it ends, not when it starts: a worker killed mid-task (kill -9,
# OOM, a host lost) leaves it unacknowledged, and the broker delivers it again (at once when
# only the child process died, after the visibility timeout when the whole worker did). Safe
# because every task is idempotent (unique constraints and row locks; see docs/architecture.md).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True  # redelivered, not run twice
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Cache and rate limits ------------------------------------------------------------------


def _caches(cache_url: str, broker_url: str) -> dict:
    """The rate limit must count across every web worker: without a CACHE_URL, a Redis broker
    also holds the counters ("ratelimit" alias) instead of each process's local memory."""
    caches = {"default": environ.Env.cache_url_config(cache_url or "locmemcache://")}
    if not cache_url and broker_url.startswith(("redis://", "rediss://")):
        caches["ratelimit"] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": broker_url,
            "KEY_PREFIX": "billing",
        }
    return caches


CACHES = _caches(env.str("CACHE_URL", default=""), CELERY_BROKER_URL)
_SHARED_RATE_LIMIT_CACHE = "ratelimit" if "ratelimit" in CACHES else "default"
RATE_LIMIT_CACHE = env.str("RATE_LIMIT_CACHE", default=_SHARED_RATE_LIMIT_CACHE)
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=120_000)

# --- Documents and webhooks -------------------------------------------------------------------


def served_base_url(host: str, port: str) -> str:
    """The address `make run`'s gunicorn serves (WEB_HOST, WEB_PORT of the Procfile) as a link:
    a wildcard bind is reached on loopback, an IPv6 address goes in brackets."""
    host = host.strip().strip("[]") or "127.0.0.1"
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104 (a link, no bind)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port.strip() or '8000'}"


SERVED_BASE_URL = served_base_url(
    env.str("WEB_HOST", default="127.0.0.1"), env.str("WEB_PORT", default="8000")
)
# Links sent outside a request (e-mails, webhooks, portal_url, the demo's banner): the port
# actually served unless a public address is set.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="") or SERVED_BASE_URL
DOCUMENT_LINK_MAX_AGE_SECONDS = env.int("DOCUMENT_LINK_MAX_AGE_SECONDS", default=12 * 3600)
WEBHOOK_SIGNING_KEY = env.str("WEBHOOK_SIGNING_KEY", default="")
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=5)
# "jwt" webhooks (webhooks/keys.py): Lago's LAGO_RSA_PRIVATE_KEY (base64 of a PEM RSA private
# key); unset, dev and tests generate one under var/ (production refuses: WEBHOOK_RSA_DEV_KEY).
WEBHOOK_RSA_PRIVATE_KEY = env.str("LAGO_RSA_PRIVATE_KEY", default="")
WEBHOOK_RSA_KEY_FILE = VAR_DIR / "webhook_rsa_private.pem"
WEBHOOK_RSA_DEV_KEY = True
LAGO_API_URL = env.str("LAGO_API_URL", default=PUBLIC_BASE_URL)  # the JWT's `iss`, as Lago

# --- Payments (Stripe; off when no key is set) --------------------------------------------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")  # a URL: a Stripe-compatible server
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
PAYMENT_RETRY_DAYS = [int(d) for d in env.list("PAYMENT_RETRY_DAYS", default=["3", "5", "7"])]
FINANCE_EMAILS = env.list("FINANCE_EMAILS", default=[])

# --- Logins: staff (admin) and customers (portal) ------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses while a username/IP is locked out
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
AXES_VERBOSE = False
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Billing portal")
PORTAL_SESSION_SECONDS = env.int("PORTAL_SESSION_SECONDS", default=8 * 3600)
PORTAL_LINK_MAX_AGE_SECONDS = 12 * 3600  # portal_url, as Lago
PORTAL_INVITE_MAX_AGE_SECONDS = env.int("PORTAL_INVITE_MAX_AGE_SECONDS", default=3 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = PORTAL_INVITE_MAX_AGE_SECONDS
# Sites allowed to show the portal in a frame (portal_url is meant to be embedded), e.g.
# "https://app.example.com"; cross-site frames also need SESSION_COOKIE_SAMESITE=None (HTTPS).
PORTAL_WALLET_TOP_UP = env.bool("PORTAL_WALLET_TOP_UP", default=True)
PORTAL_FRAME_ANCESTORS = env.list("PORTAL_FRAME_ANCESTORS", default=[])
SESSION_COOKIE_SAMESITE = env.str("SESSION_COOKIE_SAMESITE", default="Lax")
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# --- Exports (django-import-export: from changelists, respecting their filters) ------------
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"  # who may see a list may export it
EXPORT_FORMATS = [CSV, XLSX]
IMPORT_EXPORT_SKIP_ADMIN_ACTION_EXPORT_UI = False

# --- Billing --------------------------------------------------------------------------------
# Billing operators issue credit notes up to this total (invoice's minor units); above, admins.
CREDIT_NOTE_OPERATOR_LIMIT_CENTS = env.int("CREDIT_NOTE_OPERATOR_LIMIT_CENTS", default=50_000)
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=60)
API_KEY_LAST_USED_RESOLUTION_SECONDS = 60

# --- Logging: one JSON object per line, secrets redacted -----------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "billing_site.logging.RedactSecretsFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": LOG_LEVEL},
    },
}

# --- Events ---------------------------------------------------------------------------------
EVENTS_MAX_FUTURE_SECONDS = env.int("EVENTS_MAX_FUTURE_SECONDS", default=24 * 3600)
# New usage schedules one follow-up run (in-advance charges, thresholds) per subscription per
# delay; the beat sweep re-runs those whose events were received within the sweep window.
USAGE_FOLLOWUP_DELAY_SECONDS = env.int("USAGE_FOLLOWUP_DELAY_SECONDS", default=10)
USAGE_FOLLOWUP_SWEEP_SECONDS = env.int("USAGE_FOLLOWUP_SWEEP_SECONDS", default=3600)
# Usage alerts: one evaluation run at most this often after ingestion (beat: every minute).
ALERTS_PROCESS_DELAY_SECONDS = env.int("ALERTS_PROCESS_DELAY_SECONDS", default=10)
INGEST_CACHE_SECONDS = env.float("INGEST_CACHE_SECONDS", default=5.0)
EVENTS_BATCH_MAX = env.int("EVENTS_BATCH_MAX", default=1000)
EVENTS_MAX_BODY_BYTES = env.int("EVENTS_MAX_BODY_BYTES", default=4 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = EVENTS_MAX_BODY_BYTES

# --- API request log (Lago's API logs): write requests to /api/v1, not /events -----------------
API_LOG_ENABLED = env.bool("API_LOG_ENABLED", default=True)
API_LOG_RETENTION_DAYS = env.int("API_LOG_RETENTION_DAYS", default=30)
API_LOG_MAX_BODY_CHARS = env.int("API_LOG_MAX_BODY_CHARS", default=16 * 1024)

# --- Hostile input: limits every API request is held to (docs/api.md, "Limits") ------------
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
API_UNAVAILABLE_RETRY_AFTER_SECONDS = env.int("API_UNAVAILABLE_RETRY_AFTER_SECONDS", default=5)
