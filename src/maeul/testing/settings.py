"""Settings for the test suite: fixed throwaway keys, fast hashing, SQLite unless DATABASE_URL is set."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
# A fixed test-only Fernet key (32 zero-to-31 bytes, base64).
os.environ.setdefault("MAEUL_FIELD_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
os.environ.setdefault("MAEUL_VAR_DIR", tempfile.mkdtemp(prefix="maeul-test-"))
os.environ.setdefault("MAEUL_MAP_TILES_URL", "")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{os.environ['MAEUL_VAR_DIR']}/test.sqlite3"

from maeul.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405 — live-server threads must not keep the test database open
