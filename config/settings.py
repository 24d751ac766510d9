"""Tally settings: everything that differs between deployments comes from the environment.

The small typed readers below fail loudly, naming the variable, so a typo in a
deployment stops the process at start-up instead of misbehaving later.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# Every variable the settings read, so tooling (and a test of docker-compose.yml)
# can tell a known setting from a typo.
KNOWN_ENV: set[str] = set()


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    KNOWN_ENV.add(name)
    value = os.environ.get(name, "")
    if value:
        return value
    if required:
        raise ImproperlyConfigured(f"The environment variable {name} is required but not set.")
    return default or ""


def env_bool(name: str, default: bool = False) -> bool:
    raw = env_str(name).strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false).")


def env_int(name: str, default: int) -> int:
    raw = env_str(name).strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def database_from_env() -> dict:
    url = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'tally.sqlite3'}")
    try:
        # Persistent connections, checked before reuse: a worker keeps one across its tasks.
        config = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True)
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is malformed ({exc}): {url!r}") from None
    if not config.get("ENGINE") or not config.get("NAME"):
        raise ImproperlyConfigured(f"DATABASE_URL is malformed (no engine or database name): {url!r}")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    return config


DEBUG = env_bool("TALLY_DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "insecure-dev-only-key" if DEBUG else None, required=not DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "tenants",
    "rating",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "tenants.middleware.SecurityHeadersMiddleware",
    "tenants.middleware.UserTimezoneMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "tenants.context_processors.portal",
            ]
        },
    }
]

DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Axes first: it counts failures and refuses locked-out credentials before any backend runs.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "tenants.auth.LocalBackend",
    "tenants.auth.KeystoneBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TALLY_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

SECURE_COOKIES = env_bool("TALLY_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("TALLY_SESSION_SECONDS", 8 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = env_int("TALLY_HSTS_SECONDS", 0 if DEBUG else 3600)
SECURE_SSL_REDIRECT = env_bool("TALLY_SSL_REDIRECT", False)
if env_bool("TALLY_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# Everything the portal loads is its own: scripts and styles from /static only (no inline
# script or style), so an injected <script> cannot run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Sign-in: failed attempts are counted per user name and address (django-axes).
AXES_FAILURE_LIMIT = env_int("TALLY_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("TALLY_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "tenants.auth.axes_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Keystone sign-in: unset URL = local accounts only.
TALLY_KEYSTONE_URL = env_str("TALLY_KEYSTONE_URL")
TALLY_KEYSTONE_TIMEOUT = env_int("TALLY_KEYSTONE_TIMEOUT", 10)
# A user with one of these roles on a project sees that project.
TALLY_KEYSTONE_PROJECT_ROLES = env_list("TALLY_KEYSTONE_PROJECT_ROLES", "member,reader")
TALLY_KEYSTONE_ADMIN_ROLE = env_str("TALLY_KEYSTONE_ADMIN_ROLE", "admin")
TALLY_KEYSTONE_FINANCE_ROLE = env_str("TALLY_KEYSTONE_FINANCE_ROLE", "finance")
# Shown on money and dates: a locale for number formats (Babel) and a default time zone.
TALLY_LOCALE = env_str("TALLY_LOCALE", "en_US")

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "billing@tally.invalid")

# --- Celery: a broker makes tasks run on workers; without one they run in-process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or env_str("REDIS_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# Celery's Django fixup closes the database connection before and after every task unless
# this is set, so each task of a 1,000-account close paid for a new PostgreSQL backend (a
# fork and a cold catalogue cache). Workers keep their connection instead, and
# config/celery.py applies Django's own CONN_MAX_AGE / broken-connection rule around each task.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)

# --- Usage sources
# "sample" is the built-in deterministic cloud; "gnocchi" reads a real Gnocchi; "openstack"
# derives usage from the OpenStack APIs' lifecycles alone (clouds without Ceilometer).
TALLY_USAGE_SOURCE = env_str("TALLY_USAGE_SOURCE", "sample")
if TALLY_USAGE_SOURCE not in {"sample", "gnocchi", "openstack"}:
    raise ImproperlyConfigured(
        f"TALLY_USAGE_SOURCE={TALLY_USAGE_SOURCE!r} is not a known source (sample, gnocchi or openstack)."
    )
GNOCCHI_ENDPOINT = env_str("GNOCCHI_ENDPOINT", required=TALLY_USAGE_SOURCE == "gnocchi")
# "basic": Gnocchi's basic auth (user name only); "keystone": through OS_CLOUD / clouds.yaml.
GNOCCHI_AUTH = env_str("GNOCCHI_AUTH", "basic")
if GNOCCHI_AUTH not in {"basic", "keystone"}:
    raise ImproperlyConfigured(f"GNOCCHI_AUTH={GNOCCHI_AUTH!r} must be basic or keystone.")
GNOCCHI_USER = env_str("GNOCCHI_USER", "admin")
GNOCCHI_TIMEOUT = env_int("GNOCCHI_TIMEOUT", 60)
OS_CLOUD = env_str("OS_CLOUD")
# Ceilometer data arrives late: a window is collected only this long after it ends.
TALLY_COLLECT_DELAY_SECONDS = env_int("TALLY_COLLECT_DELAY_SECONDS", 2 * 3600)
TALLY_COLLECT_WINDOW_SECONDS = env_int("TALLY_COLLECT_WINDOW_SECONDS", 3600)

# --- Billing
TALLY_CURRENCY = env_str("TALLY_CURRENCY", "EUR")
TALLY_DEFAULT_MODE = env_str("TALLY_DEFAULT_MODE", "showback")
if TALLY_DEFAULT_MODE not in {"showback", "chargeback"}:
    raise ImproperlyConfigured(f"TALLY_DEFAULT_MODE={TALLY_DEFAULT_MODE!r} must be showback or chargeback.")
TALLY_PROVIDER_NAME = env_str("TALLY_PROVIDER_NAME", "Tally Cloud Services")
TALLY_PROVIDER_ADDRESS = env_str("TALLY_PROVIDER_ADDRESS", "1 Cloud Street, 1000 Brussels, Belgium")
# A logo on statements: a path (relative to the repository) or a URL; SVG or PNG.
TALLY_PROVIDER_LOGO = env_str("TALLY_PROVIDER_LOGO", "static/billing/logo.svg")
# Billing months are calendar months in this time zone; the close waits this long for late usage.
TALLY_BILLING_TIME_ZONE = env_str("TALLY_BILLING_TIME_ZONE", TIME_ZONE)
TALLY_CLOSE_GRACE_HOURS = env_int("TALLY_CLOSE_GRACE_HOURS", 48)
TALLY_PAYMENT_TERMS_DAYS = env_int("TALLY_PAYMENT_TERMS_DAYS", 30)
TALLY_INVOICE_SERIES = env_str("TALLY_INVOICE_SERIES", "INV")
TALLY_SHOWBACK_SERIES = env_str("TALLY_SHOWBACK_SERIES", "STM")
TALLY_CREDIT_NOTE_SERIES = env_str("TALLY_CREDIT_NOTE_SERIES", "CN")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint and its font subsetter narrate every PDF at INFO.
    "loggers": {name: {"level": "WARNING"} for name in ["weasyprint", "fontTools"]},
}
