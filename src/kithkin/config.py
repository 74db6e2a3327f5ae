"""Settings from the environment: every setting is ``KITHKIN_<NAME>``, and any secret may
instead be read from the file named by ``KITHKIN_<NAME>_FILE`` (for Docker/Kubernetes secrets)."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PREFIX = "KITHKIN_"

# Every setting Kithkin reads, with a one-line description. docs/configuration.md must list each
# of these, and a test keeps the two in step.
DOCUMENTED_SETTINGS: dict[str, str] = {
    "KITHKIN_ENV": "development (default), test or production",
    "KITHKIN_DEBUG": "show Django's debug pages; refused in production",
    "KITHKIN_SECRET_KEY": "Django's signing key; required in production",  # nosec B105 # a description
    "KITHKIN_FIELD_KEYS": "comma-separated Fernet keys for encrypted fields, newest first",
    "KITHKIN_DATA_DIR": "where the SQLite database and development secrets live",
    "DATABASE_URL": "a PostgreSQL URL; SQLite in the data directory when unset",
    "KITHKIN_ALLOWED_HOSTS": "comma-separated host names the server answers to",
    "KITHKIN_CSRF_TRUSTED_ORIGINS": "comma-separated origins trusted for form posts",
    "KITHKIN_SITE_URL": "the public base URL, used in emailed links",
    "KITHKIN_TIME_ZONE": "the time zone shown to users who have not chosen one",
    "KITHKIN_EMAIL_HOST": "SMTP host; mail goes to the console when unset",
    "KITHKIN_EMAIL_PORT": "SMTP port (default 587)",
    "KITHKIN_EMAIL_USER": "SMTP user name",
    "KITHKIN_EMAIL_PASSWORD": "SMTP password",  # nosec B105 # a description, not a password
    "KITHKIN_EMAIL_USE_TLS": "use STARTTLS for SMTP (default true)",
    "KITHKIN_DEFAULT_FROM_EMAIL": "the sender address of Kithkin's mail",
    "KITHKIN_INVITATION_DAYS": "days an invitation link stays valid (default 7)",
    "KITHKIN_INSTRUMENTS_DIR": "a directory of the practice's own instrument definitions",
    "KITHKIN_ALERT_ESCALATION_MINUTES": "minutes before an unacknowledged risk alert escalates",
    "KITHKIN_SECURE_COOKIES": "send cookies only over HTTPS (default: on in production)",
    "KITHKIN_LOG_LEVEL": "log level for Kithkin's own loggers (default INFO)",
    "KITHKIN_SSL_REDIRECT": "redirect plain HTTP to HTTPS in production (default true)",
    "KITHKIN_MFA_ISSUER": "the name authenticator apps show for Kithkin (default Kithkin)",
    "KITHKIN_STAFF_IDLE_MINUTES": "minutes without activity before a staff session ends (30)",
    "KITHKIN_STAFF_SESSION_HOURS": "hours after sign-in before a staff session ends (12)",
    "KITHKIN_BREAK_GLASS_MINUTES": "minutes an emergency access grant may run at most (default 60)",
    "KITHKIN_TRUSTED_PROXIES": "load balancers (addresses or CIDR) trusted for X-Forwarded-For",
    "KITHKIN_BACKUP_KEY": "base64 key that encrypts backups; required in production",
}


def read(name: str, default: str | None = None) -> str | None:
    """Read a setting from ``NAME`` or, failing that, from the file named by ``NAME_FILE``."""
    value = os.environ.get(name)
    if value is not None and value != "":
        return value
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        path = Path(file_name)
        if not path.is_file():
            raise ImproperlyConfigured(f"{name}_FILE points at {file_name}, which is not a file.")
        return path.read_text(encoding="utf-8").strip()
    return default


def read_bool(name: str, default: bool) -> bool:
    value = read(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def read_int(name: str, default: int) -> int:
    value = read(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def read_list(name: str, default: list[str]) -> list[str]:
    value = read(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]
