"""Django settings for Kithkin. Everything configurable comes from ``KITHKIN_*`` environment
variables (see :mod:`kithkin.config` and docs/configuration.md)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from kithkin import config

BASE_DIR = Path(__file__).resolve().parent
ENV = (config.read("KITHKIN_ENV", "development") or "development").lower()
if ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"KITHKIN_ENV must be development, test or production, not {ENV!r}.")
PRODUCTION = ENV == "production"

DATA_DIR = Path(config.read("KITHKIN_DATA_DIR", str(Path.cwd() / "data")) or "data").resolve()
DEBUG = config.read_bool("KITHKIN_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("KITHKIN_DEBUG must be off in production.")


def _development_secrets() -> dict[str, str]:
    """Outside production, missing secrets are made once and kept in the data directory, so a
    fresh checkout runs without set-up and restarts keep sessions and encrypted data readable."""
    if ENV == "test":
        # Fixed keys keep test runs reproducible; they protect nothing.
        return {
            "KITHKIN_SECRET_KEY": "test-only-secret-key-" + "x" * 40,
            "KITHKIN_FIELD_KEYS": "dGVzdC1vbmx5LWZpZWxkLWtleS0wMDAwMDAwMDAwMDA=",
        }
    path = DATA_DIR / "dev-secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return stored
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    made = {
        "KITHKIN_SECRET_KEY": secrets.token_urlsafe(50),
        "KITHKIN_FIELD_KEYS": Fernet.generate_key().decode(),
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(made), encoding="utf-8")
    return made


def _secret(name: str) -> str:
    value = config.read(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} (or {name}_FILE) must be set in production.")
    return _development_secrets()[name]


SECRET_KEY = _secret("KITHKIN_SECRET_KEY")
FIELD_ENCRYPTION_KEYS = [k.strip() for k in _secret("KITHKIN_FIELD_KEYS").split(",") if k.strip()]
# Backups (kithkin.ops): required by `kithkin backup`/`restore` in production only; elsewhere,
# if unset, they derive a key from the first field key.
BACKUP_KEY = config.read("KITHKIN_BACKUP_KEY") or None

ALLOWED_HOSTS = config.read_list(
    "KITHKIN_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("KITHKIN_ALLOWED_HOSTS must be set in production.")
CSRF_TRUSTED_ORIGINS = config.read_list("KITHKIN_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = (config.read("KITHKIN_SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    # Two-step sign-in: TOTP authenticator apps, and single-use recovery codes. Apps live in
    # accounts.AuthenticatorDevice (key encrypted); otp_totp stays for the code it lends and
    # for migration accounts 0004, which emptied its plain-key table.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "kithkin.core",
    "kithkin.accounts",
    "kithkin.audit",
    "kithkin.jobs",
    "kithkin.notifications",
    "kithkin.network",
    "kithkin.measures",
    "kithkin.care",
    "kithkin.connection",
    "kithkin.security",
    "kithkin.privacy",
]

MIDDLEWARE = [
    "kithkin.core.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that can answer early (bad host 400, 413, login redirects), so those
    # answers carry the frame and content policies too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kithkin.core.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kithkin.audit.middleware.AuditedLoginRequiredMiddleware",
    "kithkin.accounts.mfa_middleware.StaffMFARequiredMiddleware",
    "kithkin.core.middleware.UserTimezoneMiddleware",
    "kithkin.core.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages, so a timed-out session can leave a note on the sign-in page.
    "kithkin.security.middleware.SessionPolicyMiddleware",
]

# Load balancers whose X-Forwarded-For is believed (addresses or CIDR ranges); none by default.
TRUSTED_PROXIES = config.read_list("KITHKIN_TRUSTED_PROXIES", [])

ROOT_URLCONF = "kithkin.urls"
WSGI_APPLICATION = "kithkin.wsgi.application"

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
                "kithkin.core.context_processors.kithkin",
            ],
        },
    },
]

# Database: SQLite in the data directory unless DATABASE_URL names another (PostgreSQL).
_database_url = config.read("DATABASE_URL")
if _database_url:
    DATABASES = {
        "default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
    }
else:
    if ENV != "test":
        DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "kithkin.sqlite3"),
            # Reuse connections: opening one runs the PRAGMAs below on every request otherwise.
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of
                # failing with "database is locked" when one upgrades a read lock.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=FULL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
            "TEST": {"NAME": None},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["kithkin.accounts.backends.EmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if ENV == "test":
    # Hashing speed matters in tests only; production keeps argon2.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2

# Two-step sign-in (kithkin.accounts.mfa). The issuer is the name authenticator apps show.
OTP_TOTP_ISSUER = config.read("KITHKIN_MFA_ISSUER", "Kithkin") or "Kithkin"
# Attempts are limited per person in the shared throttle (5 in 15 minutes, codes and recovery
# codes together); django-otp's own per-device back-off would only add unexplained refusals.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
INVITATION_MAX_AGE_DAYS = config.read_int("KITHKIN_INVITATION_DAYS", 7)
# Break-glass emergency access (kithkin.accounts.breakglass): the longest one grant may run.
BREAK_GLASS_MAX_MINUTES = config.read_int("KITHKIN_BREAK_GLASS_MINUTES", 60)

# Measures: a practice's own instrument files, and how long a risk alert may wait for a clinician
# before the practice admins are told (each practice can shorten or lengthen it).
MEASURES_INSTRUMENTS_DIR = config.read("KITHKIN_INSTRUMENTS_DIR") or None
MEASURES_ALERT_ESCALATION_MINUTES = config.read_int("KITHKIN_ALERT_ESCALATION_MINUTES", 60)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # storage and server time; people see their own zone (core.middleware)
DEFAULT_USER_TIME_ZONE = config.read("KITHKIN_TIME_ZONE", "Europe/London") or "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Outside production, serve static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# Requests: a generous ceiling for forms, and a hard one for uploads (checked in middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
MAX_REQUEST_BYTES = 20 * 1024 * 1024

# Email
EMAIL_HOST = config.read("KITHKIN_EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = config.read_int("KITHKIN_EMAIL_PORT", 587)
    EMAIL_HOST_USER = config.read("KITHKIN_EMAIL_USER", "") or ""
    EMAIL_HOST_PASSWORD = config.read("KITHKIN_EMAIL_PASSWORD", "") or ""
    EMAIL_USE_TLS = config.read_bool("KITHKIN_EMAIL_USE_TLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = config.read("KITHKIN_DEFAULT_FROM_EMAIL", "Kithkin <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Cookies and headers. Secure cookies need HTTPS, so they follow production unless overridden.
_secure = config.read_bool("KITHKIN_SECURE_COOKIES", default=PRODUCTION)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "kithkin_session"
CSRF_COOKIE_NAME = "kithkin_csrf"
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Staff sessions also end after this long without a request, and this long after sign-in
# (kithkin.security.middleware); clients and members keep the cookie limits above.
STAFF_IDLE_MINUTES = config.read_int("KITHKIN_STAFF_IDLE_MINUTES", 30)
STAFF_SESSION_HOURS = config.read_int("KITHKIN_STAFF_SESSION_HOURS", 12)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = config.read_bool("KITHKIN_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # /healthz and /readyz are probed over plain HTTP by load balancers.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

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

LOG_LEVEL = (config.read("KITHKIN_LOG_LEVEL", "INFO") or "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Exception messages and template/database debug records may quote client data.
    "filters": {"no_client_data": {"()": "kithkin.core.logs.KeepClientDataOut"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_client_data"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "kithkin": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Request errors would echo URLs and bodies; Kithkin's own handler logs ids only.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # WeasyPrint reports every screen-only CSS rule it skips; only its errors matter.
        "weasyprint": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "fontTools": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
