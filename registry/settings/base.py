"""Settings shared by every environment; values come from the environment."""
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.contrib.syndication",
    "django.contrib.sitemaps",
    "corsheaders",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "axes",
    # The contexts (docs/architecture.md): the domain and its write path, then what reads it.
    "calls",
    "calls.reading",
    "calls.site",
    "calls.api",
    "calls.alerts",
    "calls.importing",
    "calls.curation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "registry.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "registry.db_routers.PinPrimaryMiddleware",
    "registry.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "calls.api.language.APILanguageMiddleware",  # /api/: the language of Accept-Language
    "calls.api.nul_characters.NulCharacterMiddleware",  # /api/: a NUL in the path or query is a 400
    "registry.middleware.AdminQueryNulMiddleware",  # /admin/: a NUL in a filter is a 400
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "registry.lockout.KnownDeviceMiddleware",  # marks browsers an account signed in from
    # Last, as django-axes requires: locks out repeated failed admin logins (see AXES_* below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]



def database_settings(environ) -> dict:
    """With no DATABASE_URL the registry runs on its embedded default: a SQLite file.

    With DATABASE_REPLICA_URL too, reads go to the replica (see registry/db_routers.py).
    """
    default_url = environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    databases = {"default": _database(default_url)}
    if environ.get("DATABASE_REPLICA_URL"):
        databases["replica"] = {**_database(environ["DATABASE_REPLICA_URL"]), "TEST": {"MIRROR": "default"}}
    return databases


def _database(url) -> dict:
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if "postgresql" in config["ENGINE"]:
        # The searches' estimated costs make PostgreSQL's JIT compile them, which takes longer
        # (about a second) than running them: this registry's queries are short, JIT is off.
        config.setdefault("OPTIONS", {})["options"] = "-c jit=off"
    return config


def cache_settings(environ) -> dict:
    """A cache shared by every worker and app server (throttle counters, login lock-outs, facet
    counts): Redis when REDIS_URL is set, else a table of the database (created by `migrate`).

    Never a per-process memory cache: with several workers, each would count apart, and a
    client would get workers × the rate, a password guesser workers × the attempts.

    Redis may go away: the site then runs without cache, and counts in the `fallback` cache, the
    database's table (registry/cache.py, registry/counters.py; `/healthz` says so).
    """
    database_cache = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}
    if environ.get("REDIS_URL"):
        return {
            "default": {"BACKEND": "registry.cache.ResilientRedisCache", "LOCATION": environ["REDIS_URL"],
                        "KEY_PREFIX": "registry"},
            "fallback": database_cache,
        }
    return {"default": database_cache}


CACHE_TABLE = "registry_cache"


DATABASES = database_settings(os.environ)
DATABASE_ROUTERS = ["registry.db_routers.PrimaryReplicaRouter"] if "replica" in DATABASES else []
CACHES = cache_settings(os.environ)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# The partners' API (/api/v1/). Anonymous clients are throttled per address, token holders
# (partners) per user at a higher rate; rates are "<n>/<second|minute|hour|day>".
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "registry.throttling.AnonymousRateThrottle",
        "registry.throttling.PartnerRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_ANON_RATE", "60/minute"),
        "partner": env("API_PARTNER_RATE", "1000/minute"),
        # Per client (address, or signed-in user) on the HTML search and timeline, and on every
        # export (the search's CSV and iCal, the API's full exports), on top of the API's rates.
        "pages": env("PAGE_RATE", "120/minute"),
        "exports": env("EXPORT_RATE", "20/hour"),
    },
    # How many proxies in front append to X-Forwarded-For (deploy/nginx/registry.conf appends):
    # the client address is the entry that many from the end. 2: load balancer + nginx; 1: nginx
    # alone; 0 (default): none, REMOTE_ADDR, the header ignored (a client cannot choose its address).
    "NUM_PROXIES": int(env("API_NUM_PROXIES", "0")),
    "DEFAULT_PAGINATION_CLASS": "calls.api.pagination.RegistryPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bioproduction funding-call registry API",
    "DESCRIPTION": (
        "Read the registry of French bioproduction funding calls, stay in sync with `updated_since`, "
        "download the full open-data export (Licence Ouverte / Open Licence 2.0, Etalab), and, with a "
        "partner token, submit calls for the curators to review. Send tokens as `Authorization: Token <key>`."
    ),
    "VERSION": "1.0.0",
    "LICENSE": {
        "name": "Licence Ouverte / Open Licence 2.0 (data)",
        "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    },
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RegionEnum": "calls.api.serializers.REGION_CHOICES",
        "PublicationStateEnum": "calls.choices.PublicationState",
        "DatePrecisionEnum": "calls.choices.DatePrecision",
    },
    # Interactive docs served from this site (drf-spectacular-sidecar), no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Developer descriptions of the calls list's parameters (calls.api.schema_docs), after the enums'.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums", "calls.api.schema_docs.describe_parameters",
        "calls.api.schema_hooks.document_filter_limits",  # lengths and counts the filters accept
        "calls.api.schema_hooks.document_nul_refusal",  # a NUL in a path or query: a 400 everywhere
    ],
}

# Read endpoints of the API may be called from any site's browser code; nothing else.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_ALLOW_HEADERS = ["accept", "accept-language", "authorization", "if-none-match", "if-modified-since"]
CORS_EXPOSE_HEADERS = [
    "ETag", "Last-Modified", "Retry-After", "Link", "X-License", "Content-Disposition", "X-Export-Built-At",
    "X-Export-Stale",
]

IMPORT_EXPORT_USE_TRANSACTIONS = True
# The admin's import and export follow Django's model permissions (import also needs `add`, see
# CallAdmin.has_import_permission), and a pending import is kept under a name the server draws.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_TMP_STORAGE_CLASS = "calls.curation.resources.PendingImportStorage"
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# Exports (the search's CSV, the API's full JSON and CSV; calls/reading/exports.py): each file is built
# once per registry version and day, kept in EXPORT_CACHE_DIR (a local directory of each app server),
# and served from there. One build at a time per directory; no request waits for one: while a
# build runs, a request for a file not built yet gets the last complete file of that export (with
# its date), else a 503 with Retry-After (EXPORT_RETRY_AFTER seconds). The directory's files
# beyond EXPORT_CACHE_MAX_BYTES are removed, least recently served first. With
# EXPORT_ACCEL_REDIRECT (e.g. `/_exports/`), nginx serves the files: see docs/deploy.md.
EXPORT_CACHE_DIR = Path(env("EXPORT_CACHE_DIR", str(BASE_DIR / "var" / "exports")))
EXPORT_RETRY_AFTER = int(env("EXPORT_RETRY_AFTER", "15"))
EXPORT_CACHE_MAX_BYTES = int(env("EXPORT_CACHE_MAX_BYTES", str(2 * 1024**3)))
EXPORT_ACCEL_REDIRECT = env("EXPORT_ACCEL_REDIRECT", "")

LOGIN_URL = "admin:login"

# Security headers in every environment (production adds HSTS, HTTPS and secure cookies).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Who may frame the embeddable list (/integrer/, for partners' sites): CSP frame-ancestors sources,
# space-separated ("https://partner.example https://other.example"); `*` is any site. Every other
# page keeps frame-ancestors 'none' and X-Frame-Options DENY.
EMBED_FRAME_ANCESTORS = env("EMBED_FRAME_ANCESTORS", "*")
# Admin logins (django-axes): this many failures for one account from one address lock that
# combination out for the window; the account still opens from elsewhere, and the address can
# still sign in to other accounts, so nobody can lock every curator out. Counts live in the
# shared cache; the right password after the window opens the admin again.
LOGIN_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW = int(env("LOGIN_FAILURE_WINDOW", str(15 * 60)))
# Failures of one account from every address (a guesser spreading over many), higher: the curator
# still signs in from a browser they signed in from before (registry/lockout.py).
LOGIN_ACCOUNT_FAILURE_LIMIT = int(env("LOGIN_ACCOUNT_FAILURE_LIMIT", "50"))
AUTHENTICATION_BACKENDS = [
    "registry.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "registry.lockout.AtomicCacheHandler"  # each attempt counted atomically, first
AXES_FAILURE_LIMIT = "registry.lockout.failure_limit"
AXES_COOLOFF_TIME = "registry.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]  # limits: registry.lockout
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "registry.throttling.client_address"  # X-Forwarded-For only per API_NUM_PROXIES
AXES_LOCKOUT_CALLABLE = "registry.lockout.locked_out"
AXES_VERBOSE = False

# A 403 (permission denied) is an answer, not an error: logged without a traceback.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_traceback_for_4xx": {"()": "registry.log_filters.NoTracebackFor4xx"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"filters": ["no_traceback_for_4xx"]}},
}


def email_settings(environ) -> dict:
    """Mail settings from `EMAIL_URL` (`smtp://user:password@host:587?tls=true`, `smtps://…:465`,
    `console://`), else from the usual `EMAIL_HOST`, `EMAIL_PORT`, `EMAIL_HOST_USER`,
    `EMAIL_HOST_PASSWORD`, `EMAIL_USE_TLS`, `EMAIL_USE_SSL` (Django's SMTP backend)."""
    from urllib.parse import parse_qs, unquote, urlsplit

    url = environ.get("EMAIL_URL", "")
    if not url:
        return {
            "EMAIL_HOST": environ.get("EMAIL_HOST", "localhost"), "EMAIL_PORT": int(environ.get("EMAIL_PORT", "25")),
            "EMAIL_HOST_USER": environ.get("EMAIL_HOST_USER", ""),
            "EMAIL_HOST_PASSWORD": environ.get("EMAIL_HOST_PASSWORD", ""),
            "EMAIL_USE_TLS": environ.get("EMAIL_USE_TLS", "").lower() in {"1", "true", "yes", "on"},
            "EMAIL_USE_SSL": environ.get("EMAIL_USE_SSL", "").lower() in {"1", "true", "yes", "on"},
            "EMAIL_TIMEOUT": int(environ.get("EMAIL_TIMEOUT", "30")),
        }
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"EMAIL_URL: unknown scheme {parts.scheme!r} (smtp, smtps or console)")
    options = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""), "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": parts.scheme == "smtp" and options.get("tls") in {"1", "true", "yes", "on"},
        "EMAIL_TIMEOUT": int(options.get("timeout", "30")),
    }


# Email alerts (calls/alerts/): mail through Django's email framework, links to SITE_URL.
globals().update(email_settings(os.environ))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Registre bioproduction <alertes@localhost>")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")
ALERTS_UNCONFIRMED_DAYS = int(env("ALERTS_UNCONFIRMED_DAYS", "3"))
ALERTS_CONFIRMATIONS_PER_EMAIL_PER_DAY = int(env("ALERTS_CONFIRMATIONS_PER_EMAIL_PER_DAY", "3"))
ALERTS_SUBSCRIPTIONS_PER_ADDRESS_PER_HOUR = int(env("ALERTS_SUBSCRIPTIONS_PER_ADDRESS_PER_HOUR", "10"))
ALERTS_MAX_PER_EMAIL = int(env("ALERTS_MAX_PER_EMAIL", "20"))


def default_contact_email(site_url: str) -> str:
    """"contact@" and the site's host name when it has one a mailbox can be at (not localhost, not
    an IP address); else "": the contact page then shows no address."""
    import ipaddress
    from urllib.parse import urlsplit

    host = (urlsplit(site_url or "").hostname or "").strip(".").lower()
    if host.startswith("www."):
        host = host[4:]
    try:
        ipaddress.ip_address(host)
        return ""
    except ValueError:
        pass
    if "." not in host or host.endswith((".localhost", ".local", ".internal")):
        return ""
    return f"contact@{host}"


# The public site's contact page shows this address: CONTACT_EMAIL, else "contact@" and the site's
# host (`default_contact_email`); set it empty to show none.
CONTACT_EMAIL = env("CONTACT_EMAIL", default_contact_email(SITE_URL))

# check_sources (calls/importing/source_checks.py): whom the sites it visits may contact (default CONTACT_EMAIL,
# else DEFAULT_FROM_EMAIL), and its whole User-Agent if it must be another (default: the registry's
# name, SITE_URL and that contact).
SOURCE_CHECK_CONTACT = env("SOURCE_CHECK_CONTACT", "")
SOURCE_CHECK_USER_AGENT = env("SOURCE_CHECK_USER_AGENT", "")
# Visit pages on loopback, private or reserved addresses too (never in production: a cited page
# must not make the server probe its own network; tests serve their pages on 127.0.0.1).
SOURCE_CHECK_ALLOW_PRIVATE = env_bool("SOURCE_CHECK_ALLOW_PRIVATE", False)

# "Report an error" and "Propose a call" (calls/site/public_reports.py): messages per client address an hour.
PUBLIC_REPORTS_PER_HOUR = int(env("PUBLIC_REPORTS_PER_HOUR", "5"))
