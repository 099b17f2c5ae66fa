"""Settings for the Creator Consent Portal, read from the environment.

Every default runs as it is on one machine with no server installed (the *embedded default*):
SQLite in WAL mode, Celery over kombu's filesystem transport, emails written to ``var/mail``.
Production sets ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``REDIS_URL``, the SMTP variables,
``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DEBUG=0``. ``.env.example`` lists every variable.

This module imports no app of the project.
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def require(name: str) -> str:
    value = env(name)
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is off (see .env.example and the README)."
        )
    return value


DEBUG = env_bool("DEBUG", True)
VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# The address every link names: emails, signal headers, tdmrep.json, exports. `make run` sets
# it from the host and port it serves (scripts/site_url.sh) unless it is set already.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = "Creator Consent Portal"
# Where a person who is stuck (no verification email, a reset that does not arrive) can write.
SUPPORT_EMAIL = env("SUPPORT_EMAIL", "support@portal.example")

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", "insecure-embedded-default-key-do-not-use-in-production")
    # The loopback names, and the host SITE_URL names (so SITE_URL alone makes it reachable).
    ALLOWED_HOSTS = env_list(
        "ALLOWED_HOSTS",
        ",".join(
            ["127.0.0.1", "localhost", "[::1]", "testserver", urlsplit(SITE_URL).hostname or ""]
        ),
    )
else:
    SECRET_KEY = require("SECRET_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or [require("ALLOWED_HOSTS")]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_htmx",
    "csp",
    "ninja",  # the API framework: its docs page's template and vendored Swagger UI files
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "notices",
    "works",
    "consent",
    "removals",
    "works_registry",
    "disclosures",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # /api/: the address's rate limit and the key check first, JSON 404/405/500, no-store.
    "portal.middleware.APIMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # The file store did not answer: a 503 that says so, not a 500 (accounts/storage.py).
    "portal.middleware.StorageUnavailableMiddleware",
    # The public work page for anonymous readers, from a cache that cannot go stale, and the
    # AI-signal header fields the page's template computed (docs/signals.md).
    "consent.middleware.PublicWorkPageCacheMiddleware",
    "consent.middleware.AISignalHeadersMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "csp.context_processors.nonce",
                "portal.context_processors.roles",
                "portal.context_processors.support",
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------------------------
# Embedded default: one SQLite file shared by gunicorn, the worker and beat. WAL lets readers
# and a writer work side by side; IMMEDIATE transactions take the write lock up front (no
# "database is locked" on lock upgrade); the busy timeout makes writers queue instead of fail.
SQLITE_PATH = Path(env("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")))
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    import dj_database_url

    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # a sqlite:// URL
        DATABASES["default"]["ENGINE"] = "portal.sqlite3"  # see below
    elif env_bool("DB_SERVER_SIDE_BINDING", True):
        # PostgreSQL binds the parameters, so psycopg prepares a statement after
        # DB_PREPARE_THRESHOLD runs on a connection and it is not planned again ("off": never,
        # for a pooler in transaction mode). docs/operations.md, "Database".
        threshold = env("DB_PREPARE_THRESHOLD", "5").strip().lower()
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True,
            prepare_threshold=None if threshold in ("", "off", "none") else int(threshold),
        )
else:
    DATABASES = {
        "default": {
            # Django's SQLite backend, whose flush leaves the ledger's triggers be (as TRUNCATE).
            "ENGINE": "portal.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
                ),
            },
            # A file, not ":memory:", so a real worker process can share the test database;
            # one per test run, so two runs on one machine never share it.
            "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"portal-test-{os.getpid()}.db")},
            # Kept open between requests (as with DATABASE_URL): opening one, with its PRAGMAs,
            # for every request costs more than many pages' queries.
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared by every process (allauth's rate limits and the worker heartbeat live here)
# Redis fails open (accounts/cache.py): down or hung, it costs one request at most
# CACHE_SOCKET_TIMEOUT, then it is skipped for CACHE_FAIL_OPEN_PAUSE seconds, limits off.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "accounts.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "portal"),
            "OPTIONS": {
                "socket_connect_timeout": env_float("CACHE_SOCKET_TIMEOUT", 0.5),
                "socket_timeout": env_float("CACHE_SOCKET_TIMEOUT", 0.5),
                "fail_open_pause": env_float("CACHE_FAIL_OPEN_PAUSE", 10.0),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
        }
    }
# Public work pages for anonymous readers, per process: keyed by a version of everything the
# page shows, so it never serves a stale page and needs no shared invalidation.
CACHES["public_pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "public-pages",
    "OPTIONS": {"MAX_ENTRIES": env_int("PUBLIC_PAGE_CACHE_ENTRIES", 2000)},
    "TIMEOUT": 3600,
}
PUBLIC_PAGE_CACHE = env_bool("PUBLIC_PAGE_CACHE", True)

# --- Auth and django-allauth --------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "portal:home"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # mail scanners pre-fetch links: confirming takes a POST
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("ACCOUNT_REAUTHENTICATION_TIMEOUT", 300)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Creator Consent Portal] "
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_RATE_LIMITS_ENABLED = env_bool("ACCOUNT_RATE_LIMITS_ENABLED", True)
if not ACCOUNT_RATE_LIMITS_ENABLED:
    ACCOUNT_RATE_LIMITS = False
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
REGISTRY_CONTACT_CONFIRM_MAX_AGE = env_int("REGISTRY_CONTACT_CONFIRM_MAX_AGE", 7 * 24 * 3600)

# --- Email --------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Creator Consent Portal <no-reply@portal.example>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_HOST = env("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
# Emails to people are rows first (accounts.mail, docs/operations.md): a worker's claim on one
# (keep ≥ 4 × EMAIL_TIMEOUT), the retry back-off (doubled each time, capped), how long retries
# go on before it is "failed", the sweep's grace for a just-queued one, the ids per broker
# message, and how long sent and failed ones are kept.
EMAIL_OUTBOX_LEASE_SECONDS = env_float("EMAIL_OUTBOX_LEASE_SECONDS", 120.0)
EMAIL_OUTBOX_RETRY_BASE = env_float("EMAIL_OUTBOX_RETRY_BASE", 60.0)
EMAIL_OUTBOX_RETRY_MAX_DELAY = env_float("EMAIL_OUTBOX_RETRY_MAX_DELAY", 3600.0)
EMAIL_OUTBOX_RETRY_LIMIT = env_float("EMAIL_OUTBOX_RETRY_LIMIT", 2 * 24 * 3600.0)
EMAIL_OUTBOX_SWEEP_GRACE = env_float("EMAIL_OUTBOX_SWEEP_GRACE", 30.0)
EMAIL_OUTBOX_BATCH_SIZE = env_int("EMAIL_OUTBOX_BATCH_SIZE", 50)
EMAIL_OUTBOX_KEEP_DAYS = env_int("EMAIL_OUTBOX_KEEP_DAYS", 30)

# --- Celery -------------------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport (a folder is the queue). The broker only wakes
# workers; anything that must not be lost lives in the database first.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_FOLDER = Path(env("CELERY_BROKER_FOLDER", str(VAR_DIR / "broker")))
    CELERY_BROKER_FOLDER.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "portal")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that lost the broker reconnects for as long as it takes (Celery's default gives up
# after 100 tries, about 45 minutes, and the worker exits).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECTION_TIMEOUT", 2.0)
# Requests publish through accounts.broker.publish: about a second at most, then this process
# skips the broker for BROKER_PUBLISH_PAUSE seconds (the sweeps deliver meanwhile).
BROKER_PUBLISH_PAUSE = env_float("BROKER_PUBLISH_PAUSE", 30.0)
# Enqueuing must never hang a web request while the broker is down: bounded publish retries.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env_int("CELERY_PUBLISH_MAX_RETRIES", 2),
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# No task runs forever: a pool process still in one task after this many seconds is killed (every
# task is safe to run again; leases and sweeps take up what it left). A warm shutdown waits for the
# running tasks, so this bounds it too (docs/operations.md). Some tasks set limits of their own.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 900)
HEARTBEAT_PERIOD = env_float("HEARTBEAT_PERIOD", 60.0)
HEARTBEAT_MAX_AGE = env_float("HEARTBEAT_MAX_AGE", 180.0)
# /healthz runs its checks at once and reports any still running after this long as "timeout".
HEALTHZ_TIMEOUT = env_float("HEALTHZ_TIMEOUT", 2.0)
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "portal.tasks.heartbeat", "schedule": HEARTBEAT_PERIOD},
    # Emails to people: due and expired-lease ones back to the queue; old ones pruned.
    "accounts-emails-sweep": {
        "task": "accounts.tasks.emails_sweep",
        "schedule": env_float("EMAIL_OUTBOX_SWEEP_PERIOD", 60.0),
    },
    "works-files-sweep": {
        "task": "works.tasks.work_files_sweep",
        "schedule": env_float("WORKS_SWEEP_PERIOD", 120.0),
    },
    "works-imports-sweep": {"task": "works.tasks.import_jobs_sweep", "schedule": 60.0},
    # A consent-ledger entry when a licence grant's period starts or ends.
    "consent-grant-periods": {"task": "consent.tasks.grant_periods_record", "schedule": 3600.0},
    # Notices: re-queue due and expired-lease deliveries; reminders and overdue notices.
    "notices-deliveries-sweep": {
        "task": "notices.tasks.deliveries_sweep",
        "schedule": env_float("NOTICES_SWEEP_PERIOD", 30.0),
    },
    # Consent digests to AI developers (daily/weekly per organisation; each period once).
    "consent-digests": {
        "task": "consent.tasks.digests_send",
        "schedule": env_float("CONSENT_DIGEST_SWEEP", 3600.0),
    },
    # The works registry's exports: rebuilt daily once asked for; lost builds woken again.
    "works-registry-exports": {
        "task": "works_registry.tasks.registry_exports_sweep",
        "schedule": 3600.0,
    },
    # Emails to creators about their removal requests whose minute has passed and whose
    # wake-up was lost (removals/updates.py).
    "removals-updates-sweep": {
        "task": "removals.tasks.creator_updates_sweep",
        "schedule": env_float("REMOVALS_UPDATES_SWEEP_PERIOD", 30.0),
    },
    # Developers' "complied" whose time to contest passed: settled, the request closes.
    "removals-contest-windows": {
        "task": "removals.tasks.contest_windows_sweep",
        "schedule": 3600.0,
    },
    # Removal notices acknowledged but not complied with nor disputed by their deadline.
    "removals-acknowledged-overdue": {
        "task": "removals.tasks.acknowledged_overdue_run",
        "schedule": 3600.0,
    },
    "notices-deadlines": {
        "task": "notices.tasks.deadlines_run",
        "schedule": env_float("NOTICES_DEADLINE_SWEEP", 300.0),
    },
    # Stored notice attachments no notice holds (a caller's transaction rolled back).
    "notices-attachment-orphans": {
        "task": "notices.tasks.attachment_orphans_delete",
        "schedule": 86400.0,
    },
    # Creators' sites: the monthly re-checks, and checks whose broker message was lost.
    "works-registry-sites-recheck": {
        "task": "works_registry.tasks.sites_recheck",
        "schedule": env_float("SITES_SWEEP_PERIOD", 600.0),
    },
    # Disclosures whose broker message was lost or whose worker died; manifests past their time.
    "disclosures-sweep": {
        "task": "disclosures.tasks.disclosures_sweep",
        "schedule": env_float("DISCLOSURE_SWEEP_PERIOD", 60.0),
    },
    "disclosures-manifests-expire": {
        "task": "disclosures.tasks.disclosure_manifests_expire",
        "schedule": 24 * 3600.0,
    },
}

# --- Static files and uploads -------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served publicly: originals go through access-checked views
# Every file the portal keeps (originals, thumbnails, evidence, imports, notice attachments,
# registry exports) goes through the default storage (docs/storage.md). Unset: a folder,
# MEDIA_ROOT. MEDIA_STORAGE=s3: a private S3-compatible bucket. The bucket's options are read
# even while the folder is in use: ``manage.py media_to_bucket`` copies the folder there first.
MEDIA_STORAGE = env("MEDIA_STORAGE", "folder").lower()
if MEDIA_STORAGE not in {"folder", "s3"}:
    raise ImproperlyConfigured("MEDIA_STORAGE is 'folder' (the default) or 's3'.")
MEDIA_BUCKET_OPTIONS = {
    "bucket_name": env("MEDIA_BUCKET"),
    "endpoint_url": env("MEDIA_BUCKET_ENDPOINT_URL") or None,  # unset: AWS itself
    "region_name": env("MEDIA_BUCKET_REGION") or None,
    "access_key": env("MEDIA_BUCKET_ACCESS_KEY_ID") or None,  # unset: boto3's own lookup
    "secret_key": env("MEDIA_BUCKET_SECRET_ACCESS_KEY") or None,
    "location": env("MEDIA_BUCKET_PREFIX").strip("/"),
    # Browser downloads redirect to a signed link that lasts this long (seconds).
    "querystring_expire": env_int("MEDIA_BUCKET_LINK_SECONDS", 300),
    # Each request to the bucket: connect within, answer within (seconds), tries in all.
    "connect_timeout": env_float("MEDIA_BUCKET_CONNECT_TIMEOUT", 5.0),
    "read_timeout": env_float("MEDIA_BUCKET_READ_TIMEOUT", 30.0),
    "max_attempts": env_int("MEDIA_BUCKET_MAX_ATTEMPTS", 3),
}
if MEDIA_STORAGE == "s3" and not MEDIA_BUCKET_OPTIONS["bucket_name"]:
    raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs MEDIA_BUCKET (the bucket's name).")
STORAGES = {
    "default": (
        {"BACKEND": "accounts.bucket.BucketStorage", "OPTIONS": MEDIA_BUCKET_OPTIONS}
        if MEDIA_STORAGE == "s3"
        else {"BACKEND": "accounts.storage.FolderStorage"}
    ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
FORMS_URLFIELD_ASSUME_HTTPS = True

# --- Works: uploads -----------------------------------------------------------------------------
MB = 1024 * 1024
# Size limits per family, enforced while the upload streams in (not after).
WORKS_MAX_BYTES = {
    "image": env_int("WORKS_MAX_IMAGE_MB", 100) * MB,
    "text": env_int("WORKS_MAX_TEXT_MB", 100) * MB,
    "audio": env_int("WORKS_MAX_AUDIO_MB", 1024) * MB,
    "video": env_int("WORKS_MAX_VIDEO_MB", 1024) * MB,
}
WORKS_EVIDENCE_MAX_BYTES = env_int("WORKS_EVIDENCE_MAX_MB", 20) * MB
WORKS_IMAGE_MAX_PIXELS = env_int("WORKS_IMAGE_MAX_PIXELS", 150_000_000)  # checked before decoding
# An image sent to POST /api/v1/lookup/image is decoded in the web process, inside the request:
# a lower limit there (a 48-megapixel photo passes; 150 would hold about 600 MB of pixels).
WORKS_REGISTRY_IMAGE_MAX_PIXELS = env_int("WORKS_REGISTRY_IMAGE_MAX_PIXELS", 50_000_000)
# Creators' sites (docs/sites.md): each request of a check (the token file, the home page, each
# redirect) ends within SITES_CHECK_TIMEOUT s; verified sites are checked again every
# SITES_RECHECK_DAYS, a failing one is suspended after SITES_GRACE_DAYS; the beat's sweep wakes
# the worker for at most SITES_SWEEP_BATCH due sites a run; a check's claim lasts
# SITES_CHECK_LEASE s; "check now" again at the earliest SITES_CHECK_INTERVAL s after a check.
SITES_CHECK_TIMEOUT = env_float("SITES_CHECK_TIMEOUT", 10.0)
SITES_RECHECK_DAYS = env_int("SITES_RECHECK_DAYS", 30)
SITES_GRACE_DAYS = env_int("SITES_GRACE_DAYS", 7)
SITES_SWEEP_BATCH = env_int("SITES_SWEEP_BATCH", 200)
SITES_CHECK_LEASE = env_int("SITES_CHECK_LEASE", 300)
SITES_CHECK_INTERVAL = env_int("SITES_CHECK_INTERVAL", 30)
SITES_MAX_PER_CREATOR = env_int("SITES_MAX_PER_CREATOR", 50)
WORKS_STORAGE_QUOTA = env_int("WORKS_STORAGE_QUOTA_MB", 20 * 1024) * MB  # per creator
WORKS_UPLOADS_PER_HOUR = env_int("WORKS_UPLOADS_PER_HOUR", 200)  # per creator
# A file chosen on "Register a work" whose form failed elsewhere is kept this long for its owner
# (works/pending.py), at most WORKS_PENDING_UPLOADS_PER_CREATOR at a time (the oldest go first).
WORKS_PENDING_UPLOAD_MAX_AGE = env_int("WORKS_PENDING_UPLOAD_MAX_AGE", 24 * 3600)
WORKS_PENDING_UPLOADS_PER_CREATOR = env_int("WORKS_PENDING_UPLOADS_PER_CREATOR", 3)
# "Register several works" (works/several.py): files one request may carry; more refuses the post.
WORKS_SEVERAL_MAX_FILES = env_int("WORKS_SEVERAL_MAX_FILES", 20)
WORKS_THUMBNAIL_SIZE = env_int("WORKS_THUMBNAIL_SIZE", 480)
# A file still "processing" this long after upload is queued again by the beat sweep (its
# broker message may have been lost): the database, not the broker, says what is left to do.
WORKS_PROCESSING_RETRY_AFTER = env_int("WORKS_PROCESSING_RETRY_AFTER", 300)
# A file's processing stops after this many seconds and the file is refused (a real image takes
# well under a second; a hostile one may never end). 30 s later its pool process is killed.
WORKS_PROCESSING_TIME_LIMIT = env_int("WORKS_PROCESSING_TIME_LIMIT", 120)
# A file the worker cannot read from the file store (MEDIA_STORAGE=s3 unreachable) is tried
# again after each of these delays (seconds; each under the broker's one-hour visibility
# timeout), then refused with the reason.
WORKS_STORAGE_RETRY_DELAYS = [
    int(x) for x in env_list("WORKS_STORAGE_RETRY_DELAYS", "10,30,90,270,810")
]
# …and refused, with a message, if it still is after this (a file the worker keeps failing on).
WORKS_PROCESSING_GIVE_UP_AFTER = env_int("WORKS_PROCESSING_GIVE_UP_AFTER", 24 * 3600)
# Catalogue imports (CSV of works; ZIP of files with an optional metadata CSV).
WORKS_IMPORT_MAX_ROWS = env_int("WORKS_IMPORT_MAX_ROWS", 100_000)
WORKS_IMPORT_CSV_MAX_BYTES = env_int("WORKS_IMPORT_CSV_MAX_MB", 100) * MB
WORKS_IMPORT_ZIP_MAX_BYTES = env_int("WORKS_IMPORT_ZIP_MAX_MB", 5 * 1024) * MB
# What one ZIP import may unpack: entries (files already stored and only matched count too;
# the old name WORKS_IMPORT_ZIP_MAX_ENTRIES is still read), and bytes in all — never more than
# the creator's remaining storage allowance plus the files the archive matches.
WORKS_ZIP_MAX_ENTRIES = env_int(
    "WORKS_ZIP_MAX_ENTRIES", env_int("WORKS_IMPORT_ZIP_MAX_ENTRIES", 20_000)
)
WORKS_ZIP_MAX_UNPACKED_BYTES = env_int("WORKS_ZIP_MAX_UNPACKED_MB", 10_240) * MB
WORKS_IMPORT_BATCH_SIZE = env_int("WORKS_IMPORT_BATCH_SIZE", 500)
WORKS_IMPORT_LEASE_SECONDS = env_int("WORKS_IMPORT_LEASE_SECONDS", 300)
# An import run stops after this many seconds (its pool process is killed 60 s later); the sweep
# runs it again once its lease ends, up to five attempts (100,000 rows take about 20 s).
WORKS_IMPORT_TIME_LIMIT = env_int("WORKS_IMPORT_TIME_LIMIT", 1800)
# Conflicts: images whose perceptual hashes differ in at most this many bits are the same
# picture (resized, re-compressed). 4 or less keeps the 5-block index exact (pigeonhole).
PHASH_MAX_DISTANCE = env_int("PHASH_MAX_DISTANCE", 4)
# A creator hears of new possible conflicts at most once in this many seconds (an import of
# 20,000 photos must not send 20,000 emails); each work's page lists all of its conflicts.
WORKS_CONFLICT_EMAIL_INTERVAL = env_int("WORKS_CONFLICT_EMAIL_INTERVAL", 900)
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR") or None
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Disclosures: developers' dataset manifests matched against the registry -----------------
# (docs/disclosures.md) A manifest up to DISCLOSURE_MAX_MANIFEST_MB and DISCLOSURE_MAX_ROWS rows,
# kept DISCLOSURE_MANIFEST_DAYS (then the file is deleted, findings stay); matched
# DISCLOSURE_BATCH_ROWS rows at a time under a lease of DISCLOSURE_LEASE_SECONDS, at most
# DISCLOSURE_MAX_ATTEMPTS runs (a killed worker's run is taken over once its lease ends).
DISCLOSURE_MAX_MANIFEST_BYTES = env_int("DISCLOSURE_MAX_MANIFEST_MB", 5 * 1024) * MB
DISCLOSURE_MAX_ROWS = env_int("DISCLOSURE_MAX_ROWS", 10_000_000)
DISCLOSURE_MANIFEST_DAYS = env_int("DISCLOSURE_MANIFEST_DAYS", 180)
DISCLOSURE_BATCH_ROWS = env_int("DISCLOSURE_BATCH_ROWS", 5_000)
DISCLOSURE_LEASE_SECONDS = env_int("DISCLOSURE_LEASE_SECONDS", 300)
DISCLOSURE_MAX_ATTEMPTS = env_int("DISCLOSURE_MAX_ATTEMPTS", 5)
DISCLOSURE_TIME_LIMIT = env_int("DISCLOSURE_TIME_LIMIT", 4 * 3600)

# --- Notices: the delivery engine (docs/notices.md) --------------------------------------------
# Every timing is here so tests and benchmarks can shrink it. Seconds unless said otherwise.
NOTICES_FROM_EMAIL = env("NOTICES_FROM_EMAIL", DEFAULT_FROM_EMAIL)
NOTICES_REPLY_TO = env("NOTICES_REPLY_TO", DEFAULT_FROM_EMAIL)  # when the caller names no guild
NOTICES_MESSAGE_ID_DOMAIN = env(
    "NOTICES_MESSAGE_ID_DOMAIN", urlsplit(SITE_URL).hostname or "portal.invalid"
)
NOTICES_SMTP_TIMEOUT = env_float("NOTICES_SMTP_TIMEOUT", 30.0)  # per SMTP command
# A worker's claim on what it holds, renewed every third of it while the worker lives (a killed
# worker's deliveries come back with the sweep once it runs out); no send starts on a lease not
# renewed for half of it.
NOTICES_LEASE_SECONDS = env_float("NOTICES_LEASE_SECONDS", 30.0)
# How long a worker reconnects to a database that dropped it before giving a batch up.
NOTICES_DB_RETRY_SECONDS = env_float("NOTICES_DB_RETRY_SECONDS", 10.0)
NOTICES_RETRY_BASE = env_float("NOTICES_RETRY_BASE", 60.0)  # first back-off, doubled each time
NOTICES_RETRY_MAX_DELAY = env_float("NOTICES_RETRY_MAX_DELAY", 6 * 3600.0)  # back-off cap
NOTICES_RETRY_JITTER = env_float("NOTICES_RETRY_JITTER", 0.2)  # ± this fraction of the delay
NOTICES_RETRY_LIMIT = env_float("NOTICES_RETRY_LIMIT", 3 * 24 * 3600.0)  # then "failed"
# A retry due this soon is also published with a countdown (the sweep stays the guarantee);
# longer back-offs live only in the database. Keep it far below CELERY_VISIBILITY_TIMEOUT.
NOTICES_RETRY_COUNTDOWN_MAX = env_float("NOTICES_RETRY_COUNTDOWN_MAX", 60.0)
NOTICES_SWEEP_PERIOD = env_float("NOTICES_SWEEP_PERIOD", 30.0)  # beat (see CELERY_BEAT_SCHEDULE)
NOTICES_SWEEP_BATCH = env_int("NOTICES_SWEEP_BATCH", 1000)  # deliveries re-queued per sweep
# Deliveries per broker message and per claim: one claim, one load, one recording transaction.
NOTICES_BATCH_SIZE = env_int("NOTICES_BATCH_SIZE", 100)
# The sweep re-queues a queued delivery only once it has been due this long (its first
# message is probably still on its way); must not exceed NOTICES_LEASE_SECONDS.
NOTICES_SWEEP_GRACE = env_float("NOTICES_SWEEP_GRACE", 20.0)
# Reminders, in seconds before the answer is due (0 = at the deadline).
NOTICES_REMINDER_OFFSETS = [
    int(value) for value in env_list("NOTICES_REMINDER_OFFSETS", "604800,86400,0")
]
NOTICES_DEADLINE_SWEEP = env_float("NOTICES_DEADLINE_SWEEP", 300.0)  # beat period
NOTICES_DEADLINE_BATCH = env_int("NOTICES_DEADLINE_BATCH", 500)  # notices looked at per run
# Webhooks: the Fernet key that encrypts endpoint secrets (required with DEBUG off; in DEBUG one
# is derived from SECRET_KEY), the request timeout, and loopback targets (tests and the demo only).
NOTICES_WEBHOOK_KEY = env("NOTICES_WEBHOOK_KEY")
NOTICES_WEBHOOK_TIMEOUT = env_float("NOTICES_WEBHOOK_TIMEOUT", 10.0)
NOTICES_WEBHOOK_ALLOW_LOOPBACK = env_bool("NOTICES_WEBHOOK_ALLOW_LOOPBACK", False)
# Attachments up to this size travel inside the webhook body; larger ones by their API URL.
NOTICES_WEBHOOK_INLINE_MAX = env_int("NOTICES_WEBHOOK_INLINE_MAX", 256 * 1024)
# Developers' answers: a notice's signed answer link works until its deadline plus this many
# days (or, for a notice without a deadline, this many days after it was sent).
NOTICES_ANSWER_LINK_GRACE_DAYS = env_int("NOTICES_ANSWER_LINK_GRACE_DAYS", 30)
NOTICES_ANSWER_LINK_DAYS_WITHOUT_DEADLINE = env_int("NOTICES_ANSWER_LINK_DAYS_WITHOUT_DEADLINE", 90)
NOTICES_ANSWER_ATTACHMENT_MAX_BYTES = env_int("NOTICES_ANSWER_ATTACHMENT_MAX_BYTES", 10 * 2**20)
NOTICES_INVITATION_MAX_AGE = env_int("NOTICES_INVITATION_MAX_AGE", 7 * 24 * 3600)  # seconds
# The API's rate limits (docs/api.md), as "N/period" (s, min, h, d; "100/10s"), empty for none:
# every call per client IP (TRUSTED_PROXY_COUNT says which), then every call per API key.
# Counted in the shared cache; they fail open (and log it) when the cache is unreachable.
API_RATE_LIMIT_PER_IP = env("API_RATE_LIMIT_PER_IP", "1200/min")
API_RATE_LIMIT_PER_KEY = env("API_RATE_LIMIT_PER_KEY", "600/min")
# The works registry's GET /api/v1/works/<id> without a key: per client IP, on top of the above.
API_RATE_LIMIT_ANONYMOUS_WORK = env("API_RATE_LIMIT_ANONYMOUS_WORK", "60/min")
# The works registry's export (docs/api.md, "Export"): rebuilt once older than this many seconds;
# a build's claim, renewed as it goes (a worker silent this long is taken for dead); and how long
# one build may run before its worker is stopped.
WORKS_REGISTRY_EXPORT_MAX_AGE = env_int("WORKS_REGISTRY_EXPORT_MAX_AGE", 24 * 3600)
WORKS_REGISTRY_EXPORT_LEASE = env_int("WORKS_REGISTRY_EXPORT_LEASE", 300)
WORKS_REGISTRY_EXPORT_TIME_LIMIT = env_int("WORKS_REGISTRY_EXPORT_TIME_LIMIT", 3600)
# Removal requests: evidence files (each) and the default time developers have to answer.
REMOVALS_EVIDENCE_MAX_BYTES = env_int("REMOVALS_EVIDENCE_MAX_BYTES", 10 * 2**20)
# Evidence images are decoded in the request (a screenshot, not a work): a lower pixel cap.
REMOVALS_EVIDENCE_MAX_PIXELS = env_int("REMOVALS_EVIDENCE_MAX_PIXELS", 40_000_000)
REMOVALS_ANSWER_DUE_DAYS = env_int("REMOVALS_ANSWER_DUE_DAYS", 30)
# Days a creator has to accept or contest a developer's "complied" (docs/removals.md).
REMOVALS_CONTEST_DAYS = env_int("REMOVALS_CONTEST_DAYS", 30)
# Emails to a creator about one removal request within this many seconds of the first pending
# one go out as one email listing each (removals/updates.py); 0 sends each at once.
REMOVALS_UPDATES_WINDOW = env_float("REMOVALS_UPDATES_WINDOW", 60.0)
# Consent digests: more changed works than this in a period → a link to the full export.
CONSENT_DIGEST_MAX_WORKS = env_int("CONSENT_DIGEST_MAX_WORKS", 10_000)
# The consent ledger's anchor log: one JSON line (chain, length, head hash, time) appended per
# change, outside the database, which `verify_ledger` compares every chain with. Keep it on other
# storage or ship it off the machine (docs/operations.md). Empty: no anchoring.
CONSENT_ANCHOR_LOG = env("CONSENT_ANCHOR_LOG", str(VAR_DIR / "consent-anchors.log"))

# --- Security -----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Content Security Policy (django-csp 4): no inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
