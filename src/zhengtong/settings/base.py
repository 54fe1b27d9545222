"""Settings shared by every environment. Values come from the environment (see variables.py)."""
from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from .variables import flag, integer, items, value

SRC_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = SRC_DIR.parent.parent
DATA_DIR = Path(value("DATA_DIR"))
if not DATA_DIR.is_absolute():
    DATA_DIR = REPO_DIR / DATA_DIR
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _development_secret_key() -> str:
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = value("SECRET_KEY") or _development_secret_key()
DEBUG = flag("DEBUG")
ALLOWED_HOSTS = items("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = items("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "django_htmx",
    "huey.contrib.djhuey",
    "ninja",  # serves the API docs' Swagger UI from its own static files instead of a CDN
    "zhengtong.core",
    "zhengtong.audit",
    "zhengtong.accounts",
    "zhengtong.org",
    "zhengtong.flow",
    "zhengtong.seals",
    "zhengtong.documents",
    "zhengtong.exchange",
    "zhengtong.exchange.federation",
    "zhengtong.notify",
    "zhengtong.console",
    "zhengtong.web",
    "zhengtong.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "zhengtong.core.context.RequestContextMiddleware",
    "zhengtong.accounts.middleware.SessionPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "zhengtong.urls"
WSGI_APPLICATION = "zhengtong.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zhengtong.web.context_processors.shell",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = value("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "zhengtong.sqlite3",
            "CONN_MAX_AGE": 60,  # kept between requests: no reconnect, PRAGMAs and function registration each time
            "OPTIONS": {
                # IMMEDIATE: a writing transaction takes the lock at BEGIN, so the audit hash chain
                # and gapless counters never race; WAL lets readers go on meanwhile.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and background work ---------------------------------------------------------------
REDIS_URL = value("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    HUEY = {"huey_class": "huey.RedisHuey", "name": "zhengtong", "url": REDIS_URL, "immediate": False}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "zhengtong",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": False,
    }

# --- files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns when it is missing
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(value("MEDIA_ROOT") or DATA_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if value("S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": value("S3_BUCKET"),
            "endpoint_url": value("S3_ENDPOINT_URL") or None,
            "access_key": value("S3_ACCESS_KEY") or None,
            "secret_key": value("S3_SECRET_KEY") or None,
            "region_name": value("S3_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
WHITENOISE_USE_FINDERS = True  # demo and tests serve static files without collectstatic

# --- language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
TIME_ZONE = value("TIME_ZONE")
USE_I18N = True
USE_TZ = True

# --- accounts and security baseline (R7) ----------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "zhengtong.accounts.passwords.ComplexityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_MAX_AGE_DAYS = integer("PASSWORD_MAX_AGE_DAYS")
IDLE_TIMEOUT_MINUTES = integer("IDLE_TIMEOUT_MINUTES")
API_TOKEN_HOURS = integer("API_TOKEN_HOURS")
CLIENT_CERT_HEADER = value("CLIENT_CERT_HEADER")
CLIENT_CERT_VERIFY_HEADER = value("CLIENT_CERT_VERIFY_HEADER")
TRUSTED_PROXY_IPS = items("TRUSTED_PROXY_IPS")
AUDIT_RETENTION_DAYS = max(180, integer("AUDIT_RETENTION_DAYS"))
ATTACHMENT_MAX_MB = max(1, integer("ATTACHMENT_MAX_MB"))
OFFICE_HOURS = value("OFFICE_HOURS")  # parsed and checked by core.working_hours
EXCHANGE_SIGN_LIMIT_HOURS = float(value("EXCHANGE_SIGN_LIMIT_HOURS"))
EXCHANGE_MAX_ATTEMPTS = max(1, integer("EXCHANGE_MAX_ATTEMPTS"))
EXCHANGE_RETRY_BASE_SECONDS = max(0.1, float(value("EXCHANGE_RETRY_BASE_SECONDS")))
EXCHANGE_ALGORITHM = value("EXCHANGE_ALGORITHM")  # checked by federation.directory.create_local
FONT_DIR = Path(value("FONT_DIR") or REPO_DIR / "var" / "fonts")
SEAL_MASTER_KEY = value("SEAL_MASTER_KEY")
ALLOW_SUPERUSER = flag("ALLOW_SUPERUSER") if value("ALLOW_SUPERUSER") else DEBUG

AXES_FAILURE_LIMIT = integer("LOCKOUT_FAILURES")
AXES_COOLOFF_TIME = integer("LOCKOUT_MINUTES") / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "zhengtong.accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "zhengtong.core.context.client_ip"
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
OTP_TOTP_ISSUER = "政通"
# A wrong second-factor code counts as a failed login in axes' lockout (5 failures → 5 minutes), so
# django-otp's own growing per-device delay is off (it would also reject a right code typed quickly).
OTP_TOTP_THROTTLE_FACTOR = 0
API_TOKEN_RATE_PER_MINUTE = 30  # POST /api/v1/auth/token per client address (accounts.throttle)
LOGIN_FAILURES_PER_IP_PER_MINUTE = 30  # failed web logins per client address (accounts.throttle)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

EMAIL_HOST = value("EMAIL_HOST")
EMAIL_PORT = integer("EMAIL_PORT")
SITE_URL = value("SITE_URL").rstrip("/")
NOTIFY_EMAIL_ENABLED = flag("NOTIFY_EMAIL_ENABLED")
NOTIFY_SIGN_REMINDER_TIMES = items("NOTIFY_SIGN_REMINDER_TIMES")  # checked by notify.reminders
NOTIFY_DIGEST_TIME = value("NOTIFY_DIGEST_TIME")
NOTIFY_MAX_ATTEMPTS = max(1, integer("NOTIFY_MAX_ATTEMPTS"))
NOTIFY_RETRY_BASE_SECONDS = max(0.1, float(value("NOTIFY_RETRY_BASE_SECONDS")))
NOTIFY_CHANNEL_PLUGINS = items("NOTIFY_CHANNEL_PLUGINS")
DEFAULT_FROM_EMAIL = value("DEFAULT_FROM_EMAIL")

# The "huey" logger is configured here, so run_huey adds no handler of its own (it would print each line twice).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "[%(asctime)s] %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # pyHanko logs every failed check of a verification with a traceback at WARNING; seals.services turns each
        # into a problem the verifier sees, so only its errors are worth a log line
        "pyhanko": {"level": "ERROR"},
        "pyhanko_certvalidator": {"level": "ERROR"},
    },
}

# Lockout is per account (R7.1: "lock after 5 failures"); address-level throttling of login is done
# by accounts.throttle, so axes' advice to key on the IP as well does not apply.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
