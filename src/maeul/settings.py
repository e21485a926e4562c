"""Django settings for Maeul.

Everything a deployment changes comes from environment variables (documented in README.md, section
"Configuration"). With none set, Maeul runs on the embedded defaults used by `make run`: SQLite and a
generated field-encryption key kept under ``var/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.utils.translation import gettext_lazy as _

django_stubs_ext.monkeypatch()  # lets ModelAdmin[Model] and QuerySet[Model] be written at run time

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("MAEUL_VAR_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("MAEUL_DEBUG", False)
# Embedded mode: no DATABASE_URL and no SECRET_KEY means a single-machine demo/development install.
EMBEDDED = "DATABASE_URL" not in os.environ and "SECRET_KEY" not in os.environ


def _embedded_secret(name: str) -> str:
    """A random secret generated once and kept in var/, for embedded (demo) installs only."""
    import secrets

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _field_keys() -> str:
    if "MAEUL_FIELD_KEY" in os.environ:
        return os.environ["MAEUL_FIELD_KEY"]
    if not EMBEDDED:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("MAEUL_FIELD_KEY must be set when DATABASE_URL or SECRET_KEY is set.")
    from cryptography.fernet import Fernet

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "field.key"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or _embedded_secret("secret.key")
# Comma-separated Fernet keys: the first encrypts, all decrypt (see `maeul rotate-key`).
MAEUL_FIELD_KEY = _field_keys()

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves Swagger UI from local static files instead of a CDN
    "maeul.areas",
    "maeul.sites",
    "maeul.events",
    "maeul.accounts",
    "maeul.audit",
    "maeul.people",
    "maeul.notify",
    "maeul.safety",
    "maeul.sensing",
    "maeul.watch",
    "maeul.directory",
    "maeul.welfare",
    "maeul.safetynet",
    "maeul.programme",
    "maeul.disaster",
    "maeul.screening",
    "maeul.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "maeul.accounts.middleware.SessionRefreshMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "maeul.web.middleware.RejectNulBytesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "maeul.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "maeul.urls"
WSGI_APPLICATION = "maeul.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "maeul.web.context.maeul_context",
            ],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'maeul.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_db), conn_max_age=int(os.environ.get("MAEUL_DB_CONN_MAX_AGE", "60"))
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web workers read while the ingestion worker writes. A page cache of up to 64 MB (default 2 MB)
    # keeps a roll-call's 100,000 index inserts in memory; connections close after each request, so it is brief.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# Sessions end after 30 idle minutes (renewed at most once a minute while used) and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("MAEUL_SESSION_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _env_bool("MAEUL_SECURE_COOKIES", not EMBEDDED)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("MAEUL_STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("MAEUL_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# Maps: any XYZ tile server; empty disables tiles (areas, points and outlines still draw).
# Where people open Maeul from a message (alert links in SMS and e-mail).
MAEUL_PUBLIC_URL = os.environ.get("MAEUL_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
MAEUL_MAP_TILES_URL = os.environ.get("MAEUL_MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAEUL_MAP_TILES_ATTRIBUTION = os.environ.get("MAEUL_MAP_TILES_ATTRIBUTION", "© OpenStreetMap contributors")

# Failed logins: after this many failures for one username or address in the window, refuse for the window.
MAEUL_LOGIN_MAX_FAILURES = int(os.environ.get("MAEUL_LOGIN_MAX_FAILURES", "5"))
MAEUL_LOGIN_WINDOW_MINUTES = int(os.environ.get("MAEUL_LOGIN_WINDOW_MINUTES", "15"))
# Trust X-Forwarded-For for the audit log's client address only behind a known reverse proxy.
MAEUL_TRUST_X_FORWARDED_FOR = _env_bool("MAEUL_TRUST_X_FORWARDED_FOR", False)

# Outgoing e-mail (reporters' status updates, notices). Embedded default: printed to the console.
EMAIL_BACKEND = os.environ.get("MAEUL_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("MAEUL_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("MAEUL_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("MAEUL_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("MAEUL_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("MAEUL_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("MAEUL_EMAIL_FROM", "maeul@localhost")

# Notification channels (docs/decisions/0010-notification-channels.md). A channel is used only when listed here and,
# for the HTTP providers, configured below; anything else is reported as unavailable to the caller.
MAEUL_NOTIFY_CHANNELS = [
    name.strip() for name in os.environ.get("MAEUL_NOTIFY_CHANNELS", "console,email,web").split(",") if name.strip()
]
MAEUL_NOTIFY_TIMEOUT_SECONDS = float(os.environ.get("MAEUL_NOTIFY_TIMEOUT_SECONDS", "10"))
MAEUL_SMS_PROVIDER = os.environ.get("MAEUL_SMS_PROVIDER", "nhn")  # nhn | generic
MAEUL_SMS_URL = os.environ.get("MAEUL_SMS_URL", "")  # nhn: API base (has a default); generic: the full endpoint
MAEUL_SMS_APP_KEY = os.environ.get("MAEUL_SMS_APP_KEY", "")
MAEUL_SMS_SECRET = os.environ.get("MAEUL_SMS_SECRET", "")
MAEUL_SMS_SENDER = os.environ.get("MAEUL_SMS_SENDER", "")  # the registered sending number
MAEUL_KAKAO_URL = os.environ.get("MAEUL_KAKAO_URL", "")  # API base; NHN Cloud's by default
MAEUL_KAKAO_APP_KEY = os.environ.get("MAEUL_KAKAO_APP_KEY", "")
MAEUL_KAKAO_SECRET = os.environ.get("MAEUL_KAKAO_SECRET", "")
MAEUL_KAKAO_SENDER_KEY = os.environ.get("MAEUL_KAKAO_SENDER_KEY", "")
MAEUL_WEBHOOK_URL = os.environ.get("MAEUL_WEBHOOK_URL", "")
MAEUL_WEBHOOK_SECRET = os.environ.get("MAEUL_WEBHOOK_SECRET", "")

# Uploaded photos (hazard reports, improvement tasks): served through permission-checked views, never directly.
MEDIA_ROOT = Path(os.environ.get("MAEUL_MEDIA_ROOT", VAR_DIR / "media"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# Hazard reports without an account: at most this many per hour from one address (stored only as a keyed hash).
MAEUL_ANONYMOUS_REPORTS_PER_HOUR = int(os.environ.get("MAEUL_ANONYMOUS_REPORTS_PER_HOUR", "10"))

# --- Device ingestion (`maeul ingest`, `maeul broker`; docs/decisions/0011-ingestion.md) ---------------------------
# The MQTT broker the ingest worker subscribes to: mqtt://user:pass@host:1883 or mqtts://… (TLS, CA below).
MAEUL_MQTT_URL = os.environ.get("MAEUL_MQTT_URL", "mqtt://127.0.0.1:1883")
MAEUL_MQTT_USERNAME = os.environ.get("MAEUL_MQTT_USERNAME", "")
MAEUL_MQTT_PASSWORD = os.environ.get("MAEUL_MQTT_PASSWORD", "")
MAEUL_MQTT_CA = os.environ.get("MAEUL_MQTT_CA", "")  # CA bundle for mqtts://; empty: the system's
MAEUL_MQTT_CLIENT_ID = os.environ.get("MAEUL_MQTT_CLIENT_ID", "")  # stable per worker; empty: maeul-ingest-<site>
MAEUL_MQTT_SHARED_GROUP = os.environ.get("MAEUL_MQTT_SHARED_GROUP", "")  # several workers: $share/<group>/…
MAEUL_MQTT_TOPICS = [
    t.strip()
    for t in os.environ.get("MAEUL_MQTT_TOPICS", "zigbee2mqtt/#,tele/+/+,stat/+/+,maeul/#").split(",")
    if t.strip()
]
MAEUL_ZIGBEE2MQTT_BASE = os.environ.get("MAEUL_ZIGBEE2MQTT_BASE", "zigbee2mqtt")
MAEUL_INGEST_BATCH_SIZE = int(os.environ.get("MAEUL_INGEST_BATCH_SIZE", "500"))
MAEUL_INGEST_BATCH_MS = int(os.environ.get("MAEUL_INGEST_BATCH_MS", "50"))
# How long committed message keys are kept to drop redeliveries; the broker's persistent_client_expiration is shorter.
MAEUL_INGEST_DEDUP_HOURS = int(os.environ.get("MAEUL_INGEST_DEDUP_HOURS", "25"))
# Detection consumers handed the committed readings (maeul.sensing.stream.StreamConsumer), as dotted class paths.
MAEUL_STREAM_CONSUMERS = [
    c.strip() for c in os.environ.get("MAEUL_STREAM_CONSUMERS", "maeul.watch.live.LiveWatch").split(",") if c.strip()
]
# The HTTP endpoint for gateways refuses larger bodies.
MAEUL_GATEWAY_MAX_BODY_BYTES = int(os.environ.get("MAEUL_GATEWAY_MAX_BODY_BYTES", str(256 * 1024)))
