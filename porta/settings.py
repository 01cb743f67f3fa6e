"""Porta settings: everything configurable comes from the environment, read here and only here.

With no environment at all Porta runs in the embedded default (SQLite, in-process cache, eager
Celery, secrets generated once into ``.porta/``), so ``make run`` works on a fresh machine.
``PORTA_ENV=production`` refuses to start without the secrets and services it needs.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ

from porta.core.config import Env, url_for_bind

BASE_DIR = Path(__file__).resolve().parent.parent

# Every variable is read through ``env``, whose methods hold the rules (porta/core/config.py): a bad
# value stops the start with one line naming it.
# The .env file and the data directory belong to the deployment, not to the code: both are found
# from the working directory (in a checkout that is the repository root, as `make run` runs), never
# next to an installed package in site-packages.
env = Env()
ENV_FILE = Path(os.environ.get("PORTA_ENV_FILE", ".env")).absolute()
if ENV_FILE.is_file():
    environ.Env.read_env(str(ENV_FILE))

PORTA_ENV = env.choice("PORTA_ENV", default="development", choices=("development", "production", "test"))
PRODUCTION = PORTA_ENV == "production"
DATA_DIR = Path(env.str("PORTA_DATA_DIR", default=".porta")).absolute()


def _generate_kek() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _local_secrets() -> dict[str, str]:
    """Secrets of the embedded default: made once per data directory (in a checkout .porta/, kept
    out of git)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {"secret_key": secrets.token_urlsafe(50), "key_encryption_key": _generate_kek()}
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


if PRODUCTION:
    env.require(
        ("PORTA_SECRET_KEY", "PORTA_KEY_ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL", "PORTA_PUBLIC_URL"),
        reason="with PORTA_ENV=production",
    )

# Django's own deployment check asks for 50 characters and 5 distinct ones.
_secret_key = env.secret("PORTA_SECRET_KEY", min_length=50)
_keks = env.keys("PORTA_KEY_ENCRYPTION_KEY")
_local = _local_secrets() if not (_secret_key and _keks) else {}
SECRET_KEY = _secret_key or _local["secret_key"]
PORTA_KEY_ENCRYPTION_KEYS = _keks or [_local["key_encryption_key"]]
# Pepper for keyed hashes of high-entropy secrets (refresh tokens, client secrets, API keys).
PORTA_TOKEN_PEPPER = env.secret("PORTA_TOKEN_PEPPER", min_length=32) or SECRET_KEY
# Peppers of issued API keys (issuedkeys.credentials): the first mints, the others still verify.
PORTA_API_KEY_PEPPERS = env.secret_list("PORTA_API_KEY_PEPPERS", min_length=32) or [PORTA_TOKEN_PEPPER]

DEBUG = env.bool("PORTA_DEBUG", default=False)
# Checked here at start; `porta_init` reads them as its defaults (and generates a password if none).
PORTA_ADMIN_EMAIL = env.email("PORTA_ADMIN_EMAIL", default="")
PORTA_ADMIN_PASSWORD = env.secret("PORTA_ADMIN_PASSWORD", min_length=8, min_unique=1)

# Where `porta serve` listens (and `make run`, which sets it from RUN_ADDR).
PORTA_BIND = env.bind("PORTA_BIND", default="127.0.0.1:8000")
PORTA_WORKERS = env.int("PORTA_WORKERS", default=2, min=1, max=256)
PORTA_THREADS = env.int("PORTA_THREADS", default=1, min=1, max=1024)
# After SIGTERM `porta serve` keeps serving this long with /health/ready at 503 (porta/server.py).
PORTA_SHUTDOWN_GRACE = env.seconds("PORTA_SHUTDOWN_GRACE", default=10, min=0)
PORTA_WORKER_MAX_RESTARTS = env.int("PORTA_WORKER_MAX_RESTARTS", default=5, min=0)
# Unless set, the public URL follows the bind address, so issuers and links are reachable wherever
# a development server listens (production requires it set).
PORTA_PUBLIC_URL = env.url(
    "PORTA_PUBLIC_URL", default=url_for_bind(PORTA_BIND), schemes=("http", "https"), path=False
).rstrip("/")
ALLOWED_HOSTS = sorted(
    {urlsplit(PORTA_PUBLIC_URL).hostname or "localhost", "localhost", "127.0.0.1"}
    | set(env.hosts("PORTA_ALLOWED_HOSTS"))
)
if PORTA_ENV == "test":
    ALLOWED_HOSTS.append("testserver")

INSTALLED_APPS = [
    # First: a management command of an earlier app wins, so Porta's createsuperuser replaces
    # django.contrib.auth's (which needs a UserManager.create_superuser Porta's users cannot have).
    "porta",
    "porta.admin_site.PortaAdminConfig",  # django.contrib.admin with Porta's site (porta/admin.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "audit",
    "organizations",
    "applications",
    "rbac",
    "keys",
    "oidc",
    "courier",
    "recovery",
    "apikeys",
    "invitations",
    "jobs",
    "bulk",
    "imports",
    "stats",
    "branding",
    "issuedkeys",
    "exports",
    "systemconfig",
]

MIDDLEWARE = [
    "porta.api.middleware.RequestContextMiddleware",
    "porta.core.metrics.MetricsMiddleware",
    "porta.api.middleware.ApiErrorMiddleware",
    "porta.api.middleware.RequestGuardMiddleware",
    "porta.api.throttling.WriteRateLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "porta.api.middleware.HeaderCredentialsCsrfMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "porta.urls"
WSGI_APPLICATION = "porta.wsgi.application"
APPEND_SLASH = False

# Page and e-mail templates: templates/ at the top of a checkout; the wheel carries the same folder
# inside the porta package (setup.py), where an installed porta finds it.
_PACKAGED_TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATES_DIR = _PACKAGED_TEMPLATES if _PACKAGED_TEMPLATES.is_dir() else BASE_DIR / "templates"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [TEMPLATES_DIR],
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

DATABASE_URL = env.database_url("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_MAX_AGE"] = env.seconds("PORTA_DB_CONN_MAX_AGE", default=60, min=0)
        # Server-side binding lets psycopg prepare the hot statements once per connection
        # (measured -19 % on a detail request). Turn it off behind PgBouncer in transaction mode
        # older than 1.21, which cannot keep prepared statements.
        if env.bool("PORTA_DB_PREPARED_STATEMENTS", default=True):
            DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
        # A health check is an extra SELECT 1 round trip on every request; off unless asked for.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("PORTA_DB_CONN_HEALTH_CHECKS", default=False)
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "porta.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.redis_url("REDIS_URL")
if PORTA_ENV == "test" and REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    # Parallel test workers share one Redis server; each gets its own database.
    REDIS_URL = f"{REDIS_URL.rsplit('/', 1)[0]}/{int(os.environ['PYTEST_XDIST_WORKER'][2:]) + 1}"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "porta",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                # A cache outage degrades to cache misses; it never turns a request into a 500.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "porta"}}

AUTH_USER_MODEL = "organizations.User"
# Django admin login first; then rbac's answers to has_perm/is_staff from the admin roles.
AUTHENTICATION_BACKENDS = [
    "organizations.auth_backends.PortaAdminBackend",
    "rbac.auth_backends.AdminRoleBackend",
]
# The first hashes new passwords (argon2id at OWASP's m=19 MiB, t=2, p=1; see porta/core/hashers.py);
# the rest verify imported or older hashes, which are rehashed with the first at the next login.
PASSWORD_HASHERS = [
    "porta.core.hashers.PortaArgon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if PORTA_ENV == "test":
    # Real argon2id, with a cost that keeps hundreds of logins in the suite fast.
    PASSWORD_HASHERS.insert(0, "testing.hashers.FastArgon2PasswordHasher")
    INSTALLED_APPS.append("testing.jobkinds.TestJobKindsConfig")  # job kinds the tests run
SILENCED_SYSTEM_CHECKS = [
    # Emails are unique per organization, not globally; the admin backend resolves the org.
    "auth.W004",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = env.str("PORTA_STATIC_ROOT", default=str(DATA_DIR / "static"))
# Outside production, serve the admin's and the API docs' assets straight from the packages.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request otherwise
WHITENOISE_AUTOREFRESH = DEBUG  # re-scanning for static files costs ~40 µs on every request

# Job files (exports' downloads) go through the ``jobs`` storage: local files under the data
# directory, or an S3-compatible bucket (django-storages, the ``s3`` extra) when a bucket is named,
# so every web node serves every download. Credentials come from the usual AWS variables.
PORTA_JOB_FILES_DIR = env.str("PORTA_JOB_FILES_DIR", default=str(DATA_DIR / "job-files"))
PORTA_JOB_FILES_S3_BUCKET = env.str("PORTA_JOB_FILES_S3_BUCKET", default="")
PORTA_JOB_FILES_S3_ENDPOINT_URL = env.str("PORTA_JOB_FILES_S3_ENDPOINT_URL", default="")
PORTA_JOB_FILES_S3_REGION = env.str("PORTA_JOB_FILES_S3_REGION", default="")
PORTA_JOB_FILE_RETENTION = env.seconds("PORTA_JOB_FILE_RETENTION", default=7 * 24 * 3600)
_job_files_storage = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": PORTA_JOB_FILES_S3_BUCKET,
            "endpoint_url": PORTA_JOB_FILES_S3_ENDPOINT_URL or None,
            "region_name": PORTA_JOB_FILES_S3_REGION or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
    if PORTA_JOB_FILES_S3_BUCKET
    else {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PORTA_JOB_FILES_DIR},
    }
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "jobs": _job_files_storage,
}

# Bulk jobs change this many rows per transaction (one UPDATE, one audit INSERT, one checkpoint).
PORTA_BULK_CHUNK_SIZE = env.int("PORTA_BULK_CHUNK_SIZE", default=1000, min=1, max=100_000)
# A streaming export (GET /api/admin/export/...) holds a worker for as long as it streams. One that
# the planner estimates above this many rows is run as a job instead (202 {jobId}, the file then
# downloads from the job), so no sync worker streams for minutes; 0 streams every export.
PORTA_EXPORT_STREAM_MAX_ROWS = env.int("PORTA_EXPORT_STREAM_MAX_ROWS", default=2_000_000, min=0)

# Contract §1: request bodies above 2 MiB are refused with 413.
PORTA_MAX_BODY_BYTES = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = PORTA_MAX_BODY_BYTES

PORTA_TRUSTED_PROXIES = env.networks("PORTA_TRUSTED_PROXIES")
PORTA_RATE_LIMIT_WRITES = env.int("PORTA_RATE_LIMIT_WRITES", default=60, min=1)
PORTA_RATE_LIMIT_WINDOW = env.seconds("PORTA_RATE_LIMIT_WINDOW", default=60)
# POST /import: a manifest of more items than this is imported by a job (202) rather than in the
# request (bench/imports.py measures the time an item takes).
PORTA_IMPORT_SYNC_MAX_ITEMS = env.int("PORTA_IMPORT_SYNC_MAX_ITEMS", default=100, min=0)
# POSTs that read and change nothing (verifying credentials): not counted as writes.
PORTA_RATE_LIMIT_READ_POSTS = ("/api/admin/api-keys/verify",)
PORTA_ACCESS_TOKEN_TTL = env.seconds("PORTA_ACCESS_TOKEN_TTL", default=900)
PORTA_REFRESH_TOKEN_TTL = env.seconds("PORTA_REFRESH_TOKEN_TTL", default=30 * 24 * 3600)
# How long a signing key signs before the scheduled rotation replaces it (a duration: 90d, 2160h…).
PORTA_KEY_ROTATION_PERIOD = env.duration("PORTA_KEY_ROTATION_PERIOD", default="90d")
# A login (session) lasts this long unless extended (Ory session.lifespan, default 24h).
PORTA_SESSION_LIFESPAN = env.seconds("PORTA_SESSION_LIFESPAN", default=24 * 3600)
PORTA_MAX_FAILED_LOGINS = env.int("PORTA_MAX_FAILED_LOGINS", default=5, min=1)
PORTA_AUTO_LOCKOUT = env.bool("PORTA_AUTO_LOCKOUT", default=True)
# Seeds of live settings (/api/admin/config overrides them at run time; porta/core/liveconfig.py).
PORTA_LOCKOUT_DURATION = env.seconds("PORTA_LOCKOUT_DURATION", default=900, min=0)
PORTA_AUDIT_RETENTION_DAYS = env.int("PORTA_AUDIT_RETENTION_DAYS", default=90, min=1, max=36_500)
# Each process checks for changed live settings this often: the bound on how long a change takes.
PORTA_CONFIG_CHECK_INTERVAL = env.float("PORTA_CONFIG_CHECK_INTERVAL", default=1.0, min=0, max=60)
PORTA_LOGIN_IP_LIMIT = env.int("PORTA_LOGIN_IP_LIMIT", default=30, min=1)
PORTA_LOGIN_ACCOUNT_LIMIT = env.int("PORTA_LOGIN_ACCOUNT_LIMIT", default=10, min=1)
PORTA_LOGIN_WINDOW = env.seconds("PORTA_LOGIN_WINDOW", default=900)
PORTA_CURSOR_SECRET = SECRET_KEY

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["authn.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["porta.api.permissions.AdminPermission"],
    "DEFAULT_RENDERER_CLASSES": ["porta.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["porta.api.renderers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_SCHEMA_CLASS": "porta.api.schema.PortaAutoSchema",
    "EXCEPTION_HANDLER": "porta.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_VERSIONING_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Porta Admin API",
    "DESCRIPTION": "Manage organizations, users, applications, clients, roles, keys and the audit log.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/admin",
    "COMPONENT_SPLIT_REQUEST": True,
    # Organizations' defaultLoginMethods and clients' loginMethods share one choice set.
    "ENUM_NAME_OVERRIDES": {"LoginMethodEnum": "organizations.models.LOGIN_METHODS"},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "porta.api.schema.finish_schema",
    ],
}

# Dev mode: courier message subjects and bodies are shown in the admin API (redacted otherwise).
PORTA_DEV = env.bool("PORTA_DEV", default=PORTA_ENV == "development")

# E-mail: the courier sends every message through Django's e-mail backend.
EMAIL_BACKEND = env.dotted_path(
    "EMAIL_BACKEND",
    default={
        "development": "django.core.mail.backends.console.EmailBackend",
        "test": "django.core.mail.backends.locmem.EmailBackend",
    }.get(PORTA_ENV, "django.core.mail.backends.smtp.EmailBackend"),
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(DATA_DIR / "mail"))  # file-based backend
EMAIL_HOST = env.host("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25, min=1, max=65535)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.seconds("EMAIL_TIMEOUT", default=30)
PORTA_EMAIL_FROM = env.email("PORTA_EMAIL_FROM", default="Porta <no-reply@porta.local>", display_name=True)
DEFAULT_FROM_EMAIL = PORTA_EMAIL_FROM
PORTA_COURIER_MAX_ATTEMPTS = env.int("PORTA_COURIER_MAX_ATTEMPTS", default=5, min=1)
PORTA_COURIER_BACKOFF = env.seconds("PORTA_COURIER_BACKOFF", default=30)

CELERY_BROKER_URL = REDIS_URL or "memory://"
# Tasks are acknowledged late, so a task whose worker dies stays in Redis unacknowledged and is
# redelivered once this many seconds have passed since it was handed out (kombu's default is one
# hour). It must exceed the longest task and every countdown (courier backoff is capped at half of
# it), or a task still running, or still waiting for its countdown, is delivered a second time.
PORTA_BROKER_VISIBILITY_TIMEOUT = env.seconds("PORTA_BROKER_VISIBILITY_TIMEOUT", default=600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": PORTA_BROKER_VISIBILITY_TIMEOUT,
    # Look for expired unacknowledged tasks this often (kombu's default sweep is every 100 s).
    "unacked_restore_interval": max(1, min(30, PORTA_BROKER_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
}
CELERY_RESULT_BACKEND = None
# Eager (in-process) without a broker; the test suite runs tasks eagerly too (it starts no worker).
CELERY_TASK_ALWAYS_EAGER = env.bool("PORTA_CELERY_EAGER", default=not REDIS_URL or PORTA_ENV == "test")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Periodic work, run by `celery -A porta beat` (or embedded by `porta serve --with-worker`).
CELERY_BEAT_SCHEDULE = {
    # Hourly check; rotates the signing key only once it is PORTA_KEY_ROTATION_PERIOD old.
    "rotate-signing-keys": {"task": "keys.tasks.rotate_signing_keys_if_due", "schedule": 3600.0},
    # Daily: delete login sessions expired for more than 7 days.
    "purge-expired-sessions": {"task": "oidc.tasks.purge_expired_sessions", "schedule": 24 * 3600.0},
    # Admin API key use is noted in Redis per request; this moves lastUsedAt to the database.
    "apikeys-flush-last-used": {"task": "apikeys.tasks.flush_api_key_last_used", "schedule": 60.0},
    # Issued API key use is noted in Redis per verification; this moves lastUsedAt to the database.
    "issuedkeys-flush-last-used": {"task": "issuedkeys.tasks.flush_issued_key_last_used", "schedule": 30.0},
    # Courier messages whose task the broker lost (a Redis flush or outage) are queued again.
    "courier-requeue-stranded": {"task": "courier.tasks.requeue_stranded_messages", "schedule": 300.0},
    # Jobs: hand on those whose task the broker lost; delete job files past their retention.
    "jobs-requeue-stranded": {"task": "jobs.tasks.requeue_stranded_jobs", "schedule": 300.0},
    "jobs-purge-expired-files": {"task": "jobs.tasks.purge_expired_job_files", "schedule": 3600.0},
    # The stats triggers append deltas; this folds them into the tallies /stats reads.
    "stats-compact-tallies": {"task": "stats.tasks.compact_tallies", "schedule": 60.0},
    # Daily: delete audit entries older than the live audit_retention_days.
    "audit-retention": {"task": "systemconfig.tasks.audit_retention_cleanup", "schedule": 24 * 3600.0},
}
PORTA_API_KEY_LAST_USED_RESOLUTION = env.float("PORTA_API_KEY_LAST_USED_RESOLUTION", default=5.0, min=0)
# Seconds a /stats report is cached per scope (0: computed on every request).
PORTA_STATS_CACHE_TTL = env.seconds("PORTA_STATS_CACHE_TTL", default=15, min=0)
# Issued API keys (issuedkeys.verification): the longest a process trusts its copy of a key should
# a revocation's stamp bump be lost; how often a key's use is noted; self-revocations per IP.
PORTA_ISSUED_KEY_CACHE_SECONDS = env.float("PORTA_ISSUED_KEY_CACHE_SECONDS", default=5.0, min=0, max=60)
PORTA_ISSUED_KEY_LAST_USED_RESOLUTION = env.float("PORTA_ISSUED_KEY_LAST_USED_RESOLUTION", default=5.0, min=0)
PORTA_PUBLIC_REVOKE_RATE_LIMIT = env.int("PORTA_PUBLIC_REVOKE_RATE_LIMIT", default=10, min=1)
PORTA_PUBLIC_REVOKE_RATE_WINDOW = env.seconds("PORTA_PUBLIC_REVOKE_RATE_WINDOW", default=60)

_log_level = env.choice(
    "PORTA_LOG_LEVEL", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), upper=True
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _log_level},
    "loggers": {"django.request": {"level": "ERROR"}, "django.server": {"level": "WARNING"}},
}

if PRODUCTION:
    SESSION_COOKIE_SECURE = env.bool("PORTA_SECURE_COOKIES", default=PORTA_PUBLIC_URL.startswith("https"))
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_TRUSTED_ORIGINS = [PORTA_PUBLIC_URL]
