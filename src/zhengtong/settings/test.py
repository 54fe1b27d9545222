"""Tests: SQLite by default, PostgreSQL when DATABASE_URL is set; tasks run inline."""
import os

os.environ.setdefault("DEBUG", "false")

from .base import *  # noqa: E402,F401,F403
from .base import DATA_DIR, DATABASES, HUEY  # noqa: E402

DEBUG = False
ALLOW_SUPERUSER = False
HUEY = {**HUEY, "immediate": True}
# Tests hash thousands of passwords; argon2 stays first in production settings.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.Argon2PasswordHasher"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["NAME"] = DATA_DIR / "test.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-run.sqlite3")}
ALLOWED_HOSTS = ["*"]
# Live-server request threads must not leave connections open past the test database's teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0
