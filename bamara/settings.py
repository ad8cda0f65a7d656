"""Django settings, read from the environment.

Secrets (BAMARA_SECRET_KEY, BAMARA_IDMR_KEY) come from the environment; on a development
machine a random value is generated on first run and kept in the data folder, outside git.
"""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
DATA_DIR = Path(os.environ.get("BAMARA_DATA_DIR", PROJECT_DIR / "var")).resolve()
# Reference data folder (Orphanet, HPO, INSEE...); the bundled extracts work without it.
SHARED_DIR = Path(os.environ.get("BAMARA_SHARED_DIR", PROJECT_DIR.parent / "shared")).resolve()

PRODUCTION = os.environ.get("BAMARA_ENV", "development") == "production"


def _secret(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    if PRODUCTION:
        raise RuntimeError(f"{name} must be set in the environment in production")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "dev-secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    if name not in stored:
        stored[name] = secrets.token_urlsafe(48)
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return stored[name]


SECRET_KEY = _secret("BAMARA_SECRET_KEY")
# Key of the keyed hash behind the national rare-disease identifier (IDMR).
IDMR_KEY = _secret("BAMARA_IDMR_KEY")

DEBUG = os.environ.get("BAMARA_DEBUG", "0" if PRODUCTION else "1") == "1"
ALLOWED_HOSTS = os.environ.get("BAMARA_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "dsfr",
    "django_htmx",
    "bamara.sdm",
    "bamara.terminologies",
    "bamara.organisations",
    "bamara.records",
    "bamara.demo",
    "bamara.audit",
    "bamara.identity",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "bamara.accounts",
    "bamara.intake",
    "bamara.lists",
    "bamara.reports",
    "bamara.imports",
    "bamara.quality",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "bamara.organisations.session_refresh.SessionRefreshMiddleware",
    "bamara.organisations.middleware.FrenchFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "bamara.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the login page with a 429
]

ROOT_URLCONF = "bamara.urls"
WSGI_APPLICATION = "bamara.wsgi.application"

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
                "django.template.context_processors.i18n",
                "dsfr.context_processors.site_config",
                "bamara.organisations.context_processors.current_site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'bamara.sqlite3'}"),
        conn_max_age=int(os.environ.get("BAMARA_CONN_MAX_AGE", "60")),
    )
}
# The intake's INSERTs are prepared on the PostgreSQL server (records.inserts; Django's own
# cursors bind on the client and prepare nothing). Set to 0 behind a pooler that cannot keep
# prepared statements (PgBouncer before 1.21 in transaction mode).
BAMARA_PREPARE_INSERTS = os.environ.get("BAMARA_PREPARE_INSERTS", "1") != "0"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and BAMARA_PREPARE_INSERTS:
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # Covering indexes (INCLUDE) are for PostgreSQL's index-only scans; SQLite indexes the key
    # columns alone, as intended (records.Patient.Meta, reports/0005).
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "organisations.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Accounts (bamara.accounts): e-mail login locked for 15 min after 5 failures within 15 min,
# per e-mail and per address; TOTP second factor (django-otp).
AUTHENTICATION_BACKENDS = [
    "bamara.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"  # AuthenticationForm's field name, although it holds the e-mail
AXES_USERNAME_CALLABLE = "bamara.accounts.backends.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "bamara.accounts.views.locked_out"
OTP_TOTP_ISSUER = "bamara"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

SESSION_COOKIE_AGE = int(os.environ.get("BAMARA_SESSION_SECONDS", str(30 * 60)))
# Sliding expiry, refreshed at most once a minute: organisations/session_refresh.py.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION

EMAIL_BACKEND = os.environ.get(
    "BAMARA_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BAMARA_LOG_LEVEL", "WARNING")},
}
