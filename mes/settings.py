"""Settings, read from the environment (12-factor).

The defaults are the embedded mode: SQLite next to the code, Celery tasks run eagerly in the
web process, DEBUG off. Setting ``DATABASE_URL`` switches to PostgreSQL and ``CELERY_BROKER_URL``
to a real broker (Redis) served by ``celery worker`` processes. ``MES_DEPLOYMENT=production``
makes ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DATABASE_URL`` mandatory and turns on the HTTPS
hardening that ``manage.py check --deploy`` asks for.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

PRODUCTION = env("MES_DEPLOYMENT", default="embedded") == "production"
DEBUG = env.bool("DEBUG", default=False)

if PRODUCTION:
    SECRET_KEY = env("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    SECRET_KEY = env("SECRET_KEY", default="embedded-only-key-change-me-in-production-0123456789abcdef")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
    DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}

DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A busy timeout keeps concurrent writers of the embedded mode waiting instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
elif DATABASES["default"]["ENGINE"].endswith("postgresql") and env.bool("DB_SERVER_SIDE_BINDING", default=True):
    # Parameters bound by the server, and a statement prepared once a connection has run its text
    # DB_PREPARE_THRESHOLD times: PostgreSQL then skips parsing and planning the statements a
    # production report repeats. Turn it off behind a pooler in transaction mode (pgbouncer).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("server_side_binding", True)
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", env.int("DB_PREPARE_THRESHOLD", default=2))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "simple_history",
    "mes",
    "inventory",
    "orders",
    "quality",
    "performance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mes.api.request_id.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "mes.api.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "mes.urls"
WSGI_APPLICATION = "mes.wsgi.application"

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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Request size limits: a bulk import of 1,000 records fits, a runaway upload does not.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "mes.api.tokens.RoleTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["mes.api.permissions.HasRole"],
    "DEFAULT_PAGINATION_CLASS": "mes.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "mes.api.errors.problem_exception_handler",
    "DEFAULT_METADATA_CLASS": "mes.api.metadata.ActionAwareMetadata",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="60/minute"),
        "user": env("THROTTLE_USER", default="100000/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}


SPECTACULAR_SETTINGS = {
    "TITLE": "Open MES API",
    "DESCRIPTION": (
        "Manufacturing execution: items, stock ledger, genealogy, work orders, shop-floor "
        "execution, quality and scheduling. Authenticate with `Authorization: Token <token>` "
        "from `POST /api/v1/auth/token/`. Every state-changing request accepts an "
        "`Idempotency-Key` header. Errors are `application/problem+json` (RFC 9457)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Choice sets that several fields share, or whose field name ("status", "disposition",
    # "from_status"…) other choice sets use too, get one stable component name each.
    "ENUM_NAME_OVERRIDES": {
        "WorkOrderStatusEnum": "orders.models.WorkOrderStatus",
        "OperationStatusEnum": "orders.models.OperationStatus",
        "RevisionStatusEnum": "orders.models.RevisionStatus",
        "ScheduleRunStatusEnum": "orders.models.ScheduleRunStatus",
        "MaterialStatusEnum": "inventory.models.Lot.Status",  # lots and serial numbers alike
        "HoldStatusEnum": "inventory.models.Hold.Status",
        "RecallJobStatusEnum": "inventory.models.RecallJob.Status",
        "InspectionStatusEnum": "quality.models.InspectionStatus",
        "InspectionDispositionEnum": "quality.models.InspectionDisposition",
        "NonconformanceStatusEnum": "quality.models.NonconformanceStatus",  # status, from_status, to_status
        "DispositionEnum": "quality.models.Disposition",
        "WebhookDeliveryStatusEnum": "mes.models.WebhookDelivery.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mes.api.schema.add_platform_headers",
    ],
}

# Celery: no broker configured means eager mode, so the embedded default needs no other process.
# Throttling and the signature lockout count in the cache: shared by every process when
# CACHE_URL points at Redis (redis://host:6379/2), per process in the embedded default.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
# A job not acknowledged this long (seconds) goes to another worker: the time after which the job
# of a worker that died is delivered again. Longer than the longest job (time limit: 20 min).
# CELERY_BROKER_TRANSPORT_OPTIONS (JSON) overrides it or adds transport options.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, **env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={})}
# Tests only: where long jobs' pause points wait (mes/pause.py). Never in production.
MES_PAUSE_DIR = "" if PRODUCTION else env("MES_PAUSE_DIR", default="")

# Shop-floor rules that a factory tunes.
MES_OVER_REPORT_TOLERANCE_PERCENT = env.float("MES_OVER_REPORT_TOLERANCE_PERCENT", default=0.0)
MES_IDEMPOTENCY_TTL_HOURS = env.int("MES_IDEMPOTENCY_TTL_HOURS", default=72)
# Electronic signatures: after this many wrong passwords a user cannot sign for this long.
MES_SIGNATURE_MAX_FAILURES = env.int("MES_SIGNATURE_MAX_FAILURES", default=5)
MES_SIGNATURE_LOCKOUT_MINUTES = env.int("MES_SIGNATURE_LOCKOUT_MINUTES", default=15)
# Performance: shifts rolled up this long after they end, this many days back.
MES_OEE_SETTLE_MINUTES = env.int("MES_OEE_SETTLE_MINUTES", default=10)
MES_OEE_ROLLUP_DAYS = env.int("MES_OEE_ROLLUP_DAYS", default=35)

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "mes.api.request_id.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
