"""CivicFix settings: read from the environment only (12-factor).

With no environment at all the site runs embedded: SQLite in the project folder, Celery tasks run
eagerly in-process, mail printed to the console. Production sets DATABASE_URL, REDIS_URL, EMAIL_URL,
SECRET_KEY and friends; .env.example documents every variable.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS

from config.storage import default_storage

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for developers; real deployments set the environment itself.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Embedded mode (no DATABASE_URL) is a developer's machine, so DEBUG defaults on there and off
# wherever a real database is configured.
EMBEDDED = not env.str("DATABASE_URL", default="")
DEBUG = env.bool("DEBUG", default=EMBEDDED)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-dev-only-civicfix-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="CivicFix")
CITY_NAME = env.str("CITY_NAME", default="Chicago")
# The open data's licence (the city sets it): named on the data page, its feeds and downloads.
OPEN_DATA_LICENCE = env.str(
    "OPEN_DATA_LICENCE", default="Creative Commons Attribution 4.0 International (CC BY 4.0)"
)
OPEN_DATA_LICENCE_URL = env.str(
    "OPEN_DATA_LICENCE_URL", default="https://creativecommons.org/licenses/by/4.0/"
)
# Open311 jurisdiction_id: the city's web root without www, as the GeoReport spec suggests.
OPEN311_JURISDICTION = env.str("OPEN311_JURISDICTION", default="cityofchicago.org")

INSTALLED_APPS = [
    # SimpleAdminConfig: no autodiscovery, because django-leaflet's admin module imports GeoDjango
    # (and so GDAL), which this project deliberately does without. config/urls.py imports the
    # admin modules it wants.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "leaflet",
    "accounts",
    "departments",
    "issues",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "config.security.NulPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, which serves its own pre-compressed static files; above everything that
    # writes a body. HTML, GeoJSON, JSON and CSV shrink 4-10x. BREACH: Django masks the CSRF
    # token anew in every response and GZipMiddleware pads each body with random bytes (Django
    # 4.2+), so pages with a form are compressed too (docs/scaling.md, "Compression").
    "django.middleware.gzip.GZipMiddleware",
    # Page-cache hits answered here, before the session, locale, CSRF, user and messages work
    # that an anonymous cached page does not need (docs/caching.md, "Cost").
    "issues.pagecache.PageCacheMiddleware",
    # Public reads to the replica when there is one (config/dbrouting.py); otherwise a no-op.
    "config.dbrouting.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "config.context_processors.site",
            ],
        },
    },
]

# Database: SQLite file in the project folder unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if not EMBEDDED else 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server, an eager task and a shell share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that accepts connections and never answers must not hold every request until
    # the web server kills it: past this, the request gets a 503 to retry (config/errors.py).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
# Tests on PostgreSQL get their own database name so parallel runs on one server do not collide.
DATABASES["default"].setdefault("TEST", {})
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"]["NAME"] = env.str("TEST_DATABASE_NAME")
# A streaming read replica (docs/scaling.md): anonymous public reads go there, everything else
# to the primary (config/dbrouting.py). Unset: one database, no router, nothing changes.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
DATABASE_REPLICA_READS = bool(DATABASE_REPLICA_URL)
# After a write, that browser reads the primary this long (longer than the replica's usual lag).
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=15)
# Staff and account screens always read the primary.
DATABASE_PRIMARY_PATHS = ["/admin/", "/accounts/"]
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **env.db_url_config(DATABASE_REPLICA_URL),
        "ATOMIC_REQUESTS": False,
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        # Tests: the test database is created on the primary only (a replica is read-only) and
        # reaches the replica by streaming, under the same name. MIRROR makes Django give this
        # alias the test database's NAME and nothing else (Django 5.2's set_as_test_mirror), so
        # it keeps the replica's host and port: in tests too it reads the real replica. Under
        # pytest -n each worker's test_<db>_gwN exists on both, the same way.
        "TEST": {"MIRROR": DEFAULT_DB_ALIAS},
    }
    DATABASE_ROUTERS = ["config.dbrouting.PrimaryReplicaRouter"]
# Behind PgBouncer in transaction pooling mode (DATABASE_POOLER=pgbouncer), consecutive
# transactions of one Django connection may run on different server connections, so nothing may
# outlive a transaction: no server-side cursors (.iterator() would open a WITH HOLD cursor outside
# one). The app keeps no other session state (docs/scaling.md, "PgBouncer"); psycopg binds
# parameters on the client (Django's default), so no prepared statements either.
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ImproperlyConfigured("DATABASE_POOLER is empty or 'pgbouncer'.")
if DATABASE_POOLER == "pgbouncer":
    for database in DATABASES.values():
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The dashboards' covering indexes (INCLUDE columns) are a PostgreSQL feature; SQLite builds the
# same indexes without the extra columns, which is all the embedded mode needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "issues:profile"
LOGOUT_REDIRECT_URL = "issues:home"
# Account emails (verification, password reset) go through the notifications' outbox; accounts
# sits below issues, so it is told where by name (accounts/mail.py).
ACCOUNT_EMAIL_QUEUE = "issues.notify.account.queue_account_email"

# Redis: the Celery broker and the shared cache (rate limits must be shared between workers).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request must never hang on a dead or hung broker: the outbox row is already written and
# beat re-queues it. Redis answers in milliseconds, so a second without an answer means it is down
# (a hung broker costs one write a second, then delivery.py pauses publishing for 15 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
    "max_retries": 0,
}
CELERY_TASK_PUBLISH_RETRY = False
# Kombu's Redis transport with a fix that lets a worker survive a broker restart (config/broker.py).
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
# When the broker drops, a task already running finishes (False, Celery 5's default, stated
# because Celery 6 flips it): cancelling a delivery between the SMTP server's "accepted" and the
# commit would send that email twice. Its message cannot be acknowledged on the lost connection
# and comes back later; the outbox row, already marked sent, makes that a no-op.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Several CivicFix sites may share one Redis: each names its own queue.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TIMEZONE = env.str("TIME_ZONE", default="America/Chicago")
CELERY_BEAT_SCHEDULE: dict = {}  # filled by config/celery.py from the apps' schedules

# The cache fails open (config/cache.py): with Redis down or hung, pages are served from the
# database and rate limits let requests through; each call waits at most this long for Redis.
CACHE_TIMEOUT_SECONDS = env.float("CACHE_TIMEOUT_SECONDS", default=0.5)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
            "KEY_PREFIX": "civicfix",
            "OPTIONS": {
                "socket_connect_timeout": CACHE_TIMEOUT_SECONDS,
                "socket_timeout": CACHE_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Email: console by default, SMTP (smtp://user:pass@host:587 or smtp+tls://...) when EMAIL_URL is set.
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
vars().update(env.email_url_config(EMAIL_URL))
if EMAIL_URL.startswith("filemail"):
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CivicFix <noreply@civicfix.local>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# The city's default language: what a page falls back to when neither the visitor's choice nor
# Accept-Language names one of LANGUAGES, and what the city's own content (type names, questions,
# templates) is written in; its translations live beside it (departments/translations.py).
LANGUAGE_CODE = "en"
# Each in its own name on the language switch. A new language is one line here and a catalogue in
# locale/ (docs/translating.md).
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("pl", "Polski"),
    ("zh-hans", "简体中文"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# A year, like a preference should; SameSite=Lax like the session's.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.str("TIME_ZONE", default="America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Photos are always served through issues/views/media.py, which checks each one is still public.
# Set to an nginx `internal` location (e.g. /protected-media/) to have the web server send the
# bytes after that check (X-Accel-Redirect); empty: Django sends them. docs/deploy-media.md.
MEDIA_ACCEL_REDIRECT = env.str("MEDIA_ACCEL_REDIRECT", default="")
# Unredacted originals of redacted photos (issue 20): never under MEDIA_ROOT, so never served.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private_media")))
MODERATION_KEEP_ORIGINALS = env.bool("MODERATION_KEEP_ORIGINALS", default=True)
STORAGES = {
    # Photos: MEDIA_ROOT, or private S3-compatible storage with STORAGE_URL / AWS_* (config/storage.py).
    "default": default_storage(env),
    "staticfiles": {
        # Production serves what `collectstatic` (the release step) wrote: names carry a hash of
        # the content, so WhiteNoise caches them for a year, with gzip and brotli copies beside.
        # DEBUG (`make run`) serves the files as they are, without a collectstatic.
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
# Finders serve static files straight from the source folders: for the dev server only. In
# production they would shadow collectstatic's compressed, hashed copies (leaflet.js at 147 KB
# instead of 42 KB, max-age=60).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
WHITENOISE_AUTOREFRESH = DEBUG
# The feeds' stylesheet (static/feeds/atom.xsl): browsers apply XSLT only from an XML type.
WHITENOISE_MIMETYPES = {".xsl": "text/xsl"}

# Downloads of more than 10,000 issues are built by the worker as files at most this old
# (issues/opendata/files.py): a few at once no longer hold the web processes.
EXPORT_MAX_AGE_SECONDS = env.int("EXPORT_MAX_AGE_SECONDS", default=300)
EXPORT_LIVE_ROWS = env.int("EXPORT_LIVE_ROWS", default=10_000)
# Set to an nginx `internal` location over MEDIA_ROOT with `gzip_static always; gunzip on;` (e.g.
# /protected-exports/) to have nginx send the built files (X-Accel-Redirect); empty: Django sends
# them. docs/scaling.md, "Long downloads never starve the site".
EXPORTS_ACCEL_REDIRECT = env.str("EXPORTS_ACCEL_REDIRECT", default="")
# Without nginx: the base URL (scheme, host, port) of the Procfile's `downloads` process set, a
# gthread gunicorn whose threads wait in sendfile while a slow client reads; the web set answers
# a built download with a redirect there, so a slow reader never holds a sync web worker. Empty:
# the web set sends the files itself. docs/scaling.md, "Long downloads never starve the site".
DOWNLOADS_URL = env.str("DOWNLOADS_URL", default="").rstrip("/")

FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 60 * 1024 * 1024
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
PHOTO_MAX_PER_ISSUE = 5

# Security: strict by default in production; the embedded dev server runs on plain HTTP.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe the processes directly over HTTP: a redirect would read as "unhealthy".
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Preload is on with the rest when DEBUG is off: the header only makes the domain eligible;
# listing it in browsers is a separate, manual submission (docs/security.md).
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Map defaults: the city centre and a tile server. Tiles are optional: the map still shows
# issues and wards on a plain background where tiles cannot load (no network, blocked host).
MAP_CENTER_LAT = env.float("MAP_CENTER_LAT", default=41.8781)
MAP_CENTER_LON = env.float("MAP_CENTER_LON", default=-87.6298)
MAP_DEFAULT_ZOOM = env.int("MAP_DEFAULT_ZOOM", default=11)
MAP_TILE_URL = env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env.str(
    "MAP_TILE_ATTRIBUTION",
    default="&copy; <a href='https://www.openstreetmap.org/copyright'>OpenStreetMap</a> contributors",
)
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (MAP_CENTER_LAT, MAP_CENTER_LON),
    "DEFAULT_ZOOM": MAP_DEFAULT_ZOOM,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    "TILES": [("Streets", MAP_TILE_URL, {"attribution": MAP_TILE_ATTRIBUTION, "maxZoom": 19})]
    if MAP_TILE_URL
    else [],
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}

# Rate limits (requests per window, per account and per IP), enforced through the cache.
RATE_LIMITS = {
    "report": (env.int("RATE_LIMIT_REPORTS_PER_HOUR", default=20), 3600),
    "comment": (env.int("RATE_LIMIT_COMMENTS_PER_HOUR", default=60), 3600),
    "vote": (env.int("RATE_LIMIT_VOTES_PER_HOUR", default=120), 3600),
    "signup": (env.int("RATE_LIMIT_SIGNUPS_PER_HOUR", default=10), 3600),
    "open311_post": (env.int("RATE_LIMIT_OPEN311_POSTS_PER_HOUR", default=1000), 3600),
    "abuse_report": (env.int("RATE_LIMIT_ABUSE_REPORTS_PER_HOUR", default=10), 3600),
}
# The proxies (addresses or CIDRs) whose X-Forwarded-For is believed: the limits count the
# right-most hop that is not one of them. Empty: every request's own address counts, and the
# header is ignored (a client can write anything in it).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# Notifications: how often beat re-queues pending outbox rows, and when to ask "is it fixed?".
OUTBOX_REQUEUE_AFTER_SECONDS = env.int("OUTBOX_REQUEUE_AFTER_SECONDS", default=120)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
FOLLOWUP_AFTER_DAYS = env.int("FOLLOWUP_AFTER_DAYS", default=7)
# A reporter may edit or withdraw their report for this long (or until staff acknowledge it), and
# reopen it once within this many days of its closing (issues/services/residents.py).
REPORT_EDIT_MINUTES = env.int("REPORT_EDIT_MINUTES", default=30)
REPORTER_REOPEN_DAYS = env.int("REPORTER_REOPEN_DAYS", default=14)
# An anonymous report of a type that asks for confirmation waits this long for its emailed link,
# then is deleted (beat: issues.tasks.expire_unconfirmed_reports).
REPORT_CONFIRM_HOURS = env.int("REPORT_CONFIRM_HOURS", default=48)
# Overdue escalation (issues/notify/escalations.py): how many hours past its due time an issue's
# department's supervisors are told, when the department sets no delay of its own.
ESCALATE_TO_SUPERVISORS_AFTER_HOURS = env.int("ESCALATE_TO_SUPERVISORS_AFTER_HOURS", default=24)
# Workbench bulk actions over more issues than this run as background jobs with a progress page
# (issues/services/bulkjobs.py); smaller ones finish within the request.
BULK_JOB_THRESHOLD = env.int("BULK_JOB_THRESHOLD", default=50)
# An import's lease on its run (issues/dashboards/setwise.py, LaterCount): the running import
# renews it every quarter of this and in every batch; the worker counts a run whose lease is
# older, as an import that died. Long enough for a pause of the whole process; a live import
# that outlasts it loses nothing (its next batch starts a new run), it is only counted in parts.
IMPORT_LEASE_SECONDS = env.int("IMPORT_LEASE_SECONDS", default=300)

# The city's own Open311 system (docs/open311.md, "Connecting to the city's system"): how often
# beat reads its updates, how many times a send is tried (1, 2, 4 ... minutes apart, at most 6 h)
# before it fails for staff to see, and after how many failures in a row the department is told.
UPSTREAM_POLL_SECONDS = env.int("UPSTREAM_POLL_SECONDS", default=300)
UPSTREAM_MAX_ATTEMPTS = env.int("UPSTREAM_MAX_ATTEMPTS", default=20)
UPSTREAM_ALERT_AFTER_FAILURES = env.int("UPSTREAM_ALERT_AFTER_FAILURES", default=5)

# Places (docs/places.md): the city's address grid (a module, empty for none) and the geocoder
# (empty: the gazetteer; a Nominatim-compatible URL, with the gazetteer as its fallback).
PLACES_ADDRESS_GRID = env.str("PLACES_ADDRESS_GRID", default="departments.places.chicago")
GEOCODER_URL = env.str("GEOCODER_URL", default="")
GEOCODER_TIMEOUT = env.float("GEOCODER_TIMEOUT", default=2.0)
GEOCODER_CACHE_SECONDS = env.int("GEOCODER_CACHE_SECONDS", default=3600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
