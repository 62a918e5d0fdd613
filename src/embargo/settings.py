"""Django settings, read from `EMBARGO_*` environment variables (see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from embargo import config

DATA_DIR: Path = config.ensure_private_dir(config.data_dir())
EMBARGO_DATA_DIR = DATA_DIR

SECRET_KEY = config.env("DJANGO_SECRET_KEY") or config.read_or_create_secret(DATA_DIR / "keys" / "django-secret")
DEBUG = config.env("DEBUG") == "1"
ALLOWED_HOSTS = [h for h in config.env("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h]
EMBARGO_BASE_URL = config.env("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Without an SMTP server, e-mail is written as .eml files under DATA_DIR/mail/ for a newcomer to read.
EMBARGO_SMTP_URL = config.env("SMTP_URL")
EMBARGO_MAIL_FROM = config.env("MAIL_FROM", "Embargo <embargo@localhost>")
# `embargo mail-in` (docs/mail-in.md): the domain of reply addresses (reply+TOKEN@domain), the host of BASE_URL by
# default; mail larger than MAX_BYTES is refused at DATA.
EMBARGO_MAIL_IN_DOMAIN = config.env("MAIL_IN_DOMAIN").strip().lower()
EMBARGO_MAIL_IN_MAX_BYTES = int(config.env("MAIL_IN_MAX_BYTES", str(25 * 1024 * 1024)))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "embargo.vault",
    "embargo.accounts",
    "embargo.projects",
    "embargo.reports",
    "embargo.audit",
    "embargo.notifications",
    "embargo.fixes",
    "embargo.advisories",
    "embargo.releases",
    "embargo.languages",
    "embargo.web",
    "embargo.throttle",
    "embargo.webhooks",
    "embargo.mailin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "embargo.web.middleware.ApiResponses",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Pages follow the browser's Accept-Language among LANGUAGES (English when none matches).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The second factor: django-otp marks the session's verified device; ours asks for it (accounts/second_factor.py).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Idle and absolute session timeouts (after authentication, which they may undo).
    "embargo.web.middleware.SessionTimeouts",
    "embargo.accounts.second_factor.SecondFactorMiddleware",
    "embargo.accounts.reauth.ReauthMiddleware",
    # Gives every 429 of `embargo.ratelimit` its Retry-After header.
    "embargo.ratelimit.RetryAfter",
]

ROOT_URLCONF = "embargo.urls"
WSGI_APPLICATION = "embargo.wsgi.application"

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
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    # Seconds a process keeps its database connection between requests (0: a new one each request). Under
    # gunicorn's sync workers a few minutes saves the connection set-up; behind PgBouncer leave it at 0.
    conn_max_age = int(config.env("DB_CONN_MAX_AGE", "0"))
    url = config.env("DATABASE_URL")
    if url:
        return dict(dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=conn_max_age > 0))
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "embargo.sqlite3"),
        "CONN_MAX_AGE": conn_max_age,
        "OPTIONS": {
            # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at the
            # start of a transaction so that two writers queue instead of failing mid-way.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;"
            ),
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Embargo's own catalogues (src/embargo/locale/<code>/LC_MESSAGES/django.po, and .mo but for English).
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]


def _languages() -> list[tuple[str, str]]:
    """The languages whose catalogue is shipped: English, the source language, and every locale folder with a
    compiled catalogue. To add one, see docs/languages.md (`make messages LANGUAGE=xx`, translate, compile)."""
    from django.conf.locale import LANG_INFO

    codes = {"en"} | {path.parent.parent.name for path in LOCALE_PATHS[0].glob("*/LC_MESSAGES/django.mo")}
    # Folders are locale names (pt_BR); LANGUAGES holds language codes (pt-br).
    codes = {code.lower().replace("_", "-") for code in codes}
    return sorted((code, str(LANG_INFO.get(code, {}).get("name", code))) for code in codes)


LANGUAGES = _languages()

STATIC_URL = "/static/"
# Assets are served by Embargo itself (no CDN), straight from the apps' static folders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Collected static files (docs/deploy.md): `embargo serve` (or `embargo collectstatic`) copies them into
# STATIC_ROOT, fingerprinted (embargo.HASH.css) and compressed (.gz, and .br with Brotli installed), and runs its
# servers with EMBARGO_COLLECTED_STATIC=1: pages then link the fingerprinted names, which WhiteNoise serves with a
# ten-year `immutable` Cache-Control, a compressed variant to clients that accept one. Without it (tests,
# `embargo django runserver`), files are served from the apps' folders as they are, so an edit shows at once.
EMBARGO_STATIC_ROOT = Path(config.env("STATIC_ROOT") or DATA_DIR / "static")
EMBARGO_COLLECTED_STATIC = config.env("COLLECTED_STATIC") == "1"
# Named only when collected: WhiteNoise serves STATIC_ROOT and warns at every start-up when it does not exist.
STATIC_ROOT = EMBARGO_STATIC_ROOT if EMBARGO_COLLECTED_STATIC else None
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if EMBARGO_COLLECTED_STATIC
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
if EMBARGO_COLLECTED_STATIC:
    WHITENOISE_USE_FINDERS = False  # everything is in STATIC_ROOT; no scan of the apps' folders at start-up

# Where sealed files (attachments, patches) are kept: "filesystem" (DATA_DIR/files, the default) or "s3", a bucket
# of any S3-compatible service through django-storages (pip install 'embargo-cvd[s3]'). They are sealed before
# they leave Embargo, so the bucket holds only ciphertext. Without a key id and secret, boto3 finds credentials
# itself (AWS_* variables, its config files, an instance role).
EMBARGO_FILE_STORAGE = config.env("FILE_STORAGE", "filesystem").lower()
EMBARGO_S3: dict[str, str] = {
    key: value
    for key, value in {
        "bucket_name": config.env("S3_BUCKET"),
        "endpoint_url": config.env("S3_ENDPOINT_URL"),
        "region_name": config.env("S3_REGION"),
        "access_key": config.env("S3_ACCESS_KEY_ID"),
        "secret_key": config.env("S3_SECRET_ACCESS_KEY"),
        "location": config.env("S3_PREFIX").strip("/"),
        "addressing_style": config.env("S3_ADDRESSING_STYLE"),  # "path" for services without per-bucket hosts
    }.items()
    if value
}
if EMBARGO_FILE_STORAGE not in ("filesystem", "s3"):
    raise ImproperlyConfigured(f"EMBARGO_FILE_STORAGE is {EMBARGO_FILE_STORAGE!r}: choose filesystem or s3")
if EMBARGO_FILE_STORAGE == "s3" and "bucket_name" not in EMBARGO_S3:
    raise ImproperlyConfigured("EMBARGO_FILE_STORAGE=s3 needs EMBARGO_S3_BUCKET")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "my-reports"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600

# A strict Content-Security-Policy on every page: scripts and styles only from Embargo's own files, no inline
# script or style, no plugins, no framing, forms only to Embargo.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# JSON bodies are small (a description is at most 100,000 characters); files are limited separately.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
EMBARGO_MAX_ATTACHMENT_BYTES = int(config.env("MAX_ATTACHMENT_BYTES", str(10 * 1024 * 1024)))
EMBARGO_SECRET_KEY_FILE = config.env("SECRET_KEY_FILE")
# Local repositories a project may name (colon-separated folders); every other repository is an https:// URL.
EMBARGO_GIT_ALLOWED_PATHS = [Path(p) for p in config.env("GIT_ALLOWED_PATHS").split(":") if p]
# Outgoing connections to private and loopback addresses are refused unless the operator allows them.
EMBARGO_ALLOW_PRIVATE_NETWORK = config.env("ALLOW_PRIVATE_NETWORK") == "1"
# Webhooks (docs/webhooks.md): https to public addresses only, unless the operator allows plain http and chosen
# private hosts or networks ("hooks.internal,127.0.0.1,10.0.0.0/8"); EMBARGO_ALLOW_PRIVATE_NETWORK allows both too.
EMBARGO_WEBHOOK_ALLOW_HTTP = config.env("WEBHOOK_ALLOW_HTTP") == "1"
EMBARGO_WEBHOOK_ALLOWED_HOSTS = [h.strip() for h in config.env("WEBHOOK_ALLOWED_HOSTS").split(",") if h.strip()]
EMBARGO_WEBHOOK_TIMEOUT = float(config.env("WEBHOOK_TIMEOUT", "10"))
# A CA bundle (PEM file) to check webhook receivers' certificates against instead of the usual public CAs.
EMBARGO_WEBHOOK_CA_BUNDLE = config.env("WEBHOOK_CA_BUNDLE")
# Advisories' readable IDs (PREFIX-YEAR-NNNN); OSV IDs use them as they are only for prefixes registered with OSV.
EMBARGO_ADVISORY_PREFIX = config.env("ADVISORY_PREFIX", "EMB")
EMBARGO_OSV_REGISTERED_PREFIXES = [p for p in config.env("OSV_REGISTERED_PREFIXES").split(",") if p]
# CVE Services (the CVE program's API); projects in `cve_services` mode reserve and publish through it.
EMBARGO_CVE_SERVICES_URL = config.env("CVE_SERVICES_URL")
# The collection address of each ecosystem's package index, for CVE records' `collectionURL`
# ("PyPI=https://…,npm=https://…"); without one a package is named by vendor and product.
EMBARGO_PACKAGE_COLLECTION_URLS = dict(
    item.split("=", 1) for item in config.env("PACKAGE_COLLECTION_URLS").split(",") if "=" in item
)
# security.txt (RFC 9116) of the instance: how to reach its operators (comma-separated mailto: or https: URIs;
# the home page by default), the URL of their policy (optional) and the languages they read.
EMBARGO_SECURITY_CONTACT = [
    c.strip() for c in config.env("SECURITY_CONTACT", EMBARGO_BASE_URL + "/").split(",") if c.strip()
]
EMBARGO_SECURITY_POLICY_URL = config.env("SECURITY_POLICY_URL")
EMBARGO_SECURITY_LANGUAGES = [x.strip() for x in config.env("SECURITY_LANGUAGES", "en").split(",") if x.strip()]
# The package index that private CI and reproductions download dependencies from (pip's default if empty).
EMBARGO_PACKAGE_INDEX_URL = config.env("PACKAGE_INDEX_URL")

# Languages (ISO 639-1) the worker's detector chooses among: each one costs memory and start-up time, so the
# operator may narrow (or widen) this broad default.
EMBARGO_DETECTION_LANGUAGES = [
    x.strip().lower()
    for x in config.env(
        "DETECTION_LANGUAGES",
        "ar,bg,bn,ca,cs,da,de,el,en,es,et,fa,fi,fr,he,hi,hr,hu,id,it,ja,ko,lt,lv,ms,nb,nl,pl,pt,ro,ru,sk,sl,sr,sv,"
        "th,tr,uk,ur,vi,zh",
    ).split(",")
    if x.strip()
]
# The instance's translation service: "libretranslate" (the LibreTranslate HTTP API), "deepl" (DeepL's API), or
# empty for none. Its URL is an outgoing URL like any other (https, public addresses unless allowed above).
# Report text goes there only for projects whose owner turned translation on.
EMBARGO_TRANSLATION_PROVIDER = config.env("TRANSLATION_PROVIDER").lower()
EMBARGO_TRANSLATION_URL = config.env("TRANSLATION_URL")
EMBARGO_TRANSLATION_KEY = config.env("TRANSLATION_KEY")
# Minutes between the worker's audit checkpoints, which chain the heads of every report's audit chain
# (docs/security.md).
EMBARGO_AUDIT_CHECKPOINT_MINUTES = int(config.env("AUDIT_CHECKPOINT_MINUTES", "60"))

# How long a log-in (or a confirmation with the password) lets a browser session make sensitive changes.
EMBARGO_REAUTH_MINUTES = int(config.env("REAUTH_MINUTES", "10"))
# An account is new (its reports may be held for review) for this many days, until one of its reports was answered.
EMBARGO_NEW_ACCOUNT_DAYS = int(config.env("NEW_ACCOUNT_DAYS", "7"))
# An account with this many reports marked as spam (in any project) may send no more.
EMBARGO_SPAM_LIMIT = int(config.env("SPAM_LIMIT", "3"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Proxies whose X-Forwarded-For (and X-Forwarded-Proto) Embargo believes: comma-separated addresses or networks
# (e.g. "127.0.0.1,10.0.0.0/8"). Empty: the client is the connection's peer address.
EMBARGO_TRUSTED_PROXIES = [p.strip() for p in config.env("TRUSTED_PROXIES").split(",") if p.strip()]


def transport_security(base_url: str, trusted_proxies: list[str]) -> dict[str, Any]:
    """Behind HTTPS: cookies only over HTTPS, and browsers told to use nothing else (HSTS) for a year. Over
    plain HTTP (a newcomer's laptop) none of it, or the browser would drop the cookies."""
    if not base_url.startswith("https://"):
        return {"SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False, "SECURE_HSTS_SECONDS": 0}
    values: dict[str, Any] = {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": int(config.env("HSTS_SECONDS", str(365 * 24 * 3600))),
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": config.env("HSTS_INCLUDE_SUBDOMAINS", "1") == "1",
    }
    if trusted_proxies:
        # The proxy terminates TLS and says so; it must set (not pass on) X-Forwarded-Proto.
        values["SECURE_PROXY_SSL_HEADER"] = ("HTTP_X_FORWARDED_PROTO", "https")
    return values


globals().update(transport_security(EMBARGO_BASE_URL, EMBARGO_TRUSTED_PROXIES))
# A session ends after this long without a request, and this long after log-in whatever happens.
EMBARGO_SESSION_IDLE_MINUTES = int(config.env("SESSION_IDLE_MINUTES", "30"))
EMBARGO_SESSION_MAX_HOURS = int(config.env("SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = EMBARGO_SESSION_MAX_HOURS * 3600

# Abuse limits per scope and per kind of key ("ip", "account", "token"): COUNT/PERIOD (s, m, h, d). Refused
# requests get 429 `rate_limited` with Retry-After. EMBARGO_RATE_LIMITS overrides single limits
# ("login.ip=50/15m,token.token=6000/1m"); EMBARGO_RATE_LIMITS_FACTOR multiplies them all (e.g. 100 for a
# benchmark); EMBARGO_RATE_LIMITS_ENABLED=0 turns them off. See docs/security.md.
EMBARGO_RATE_LIMITS_ENABLED = config.env("RATE_LIMITS_ENABLED", "1") != "0"
EMBARGO_RATE_LIMITS_FACTOR = float(config.env("RATE_LIMITS_FACTOR", "1"))
EMBARGO_RATE_LIMITS: dict[str, dict[str, str]] = {
    "signup": {"ip": "5/1h"},
    "login": {"ip": "10/15m", "account": "10/15m"},
    "password_reset": {"ip": "5/1h", "account": "5/1h"},
    "report": {"account": "10/1h", "ip": "20/1h"},
    "message": {"account": "60/1h"},
    "token": {"token": "600/1m"},
    "packager_join": {"ip": "5/1h"},
    "osv": {"ip": "600/1m"},
    "mail_in": {"project": "60/1h"},  # reports by e-mail, per project (embargo mail-in)
}
for _item in config.env("RATE_LIMITS").split(","):
    if "=" in _item:
        _name, _limit = _item.split("=", 1)
        _scope, _, _kind = _name.strip().partition(".")
        EMBARGO_RATE_LIMITS.setdefault(_scope, {})[_kind or "ip"] = _limit.strip()
# Log-in back-off, per account and per IP address: after FREE failures in a row, each attempt waits
# BASE·2^(failures-FREE) seconds after the last failure, at most CEILING; a successful log-in clears it.
EMBARGO_LOGIN_BACKOFF = {
    "account": {"free": 5, "base": 30, "ceiling": 3600},
    "ip": {"free": 20, "base": 30, "ceiling": 3600},
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": config.env("LOG_LEVEL", "INFO")},
    # aiosmtpd's own log ("mail.log") names every recipient at INFO, and reply addresses are bearer credentials
    # (docs/mail-in.md): only its warnings and errors. `embargo mail-in` logs each delivery itself.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "mail.log": {"level": "WARNING"}},
}
