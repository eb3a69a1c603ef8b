"""Settings of the benchmark: the production settings, with a local secret, on the bench's own databases.

Chosen by environment variables set by the bench harness (never the registry's own databases):
- BENCH_DB: "postgres" (default), "sqlite" (the SQLite copy of the same data) or "proxy" (PostgreSQL
  reached through the fault test's TCP proxy, which the test cuts to make the database go away);
- BENCH_DATABASE_URL: the PostgreSQL bench database (default registry_bench on 127.0.0.1:5432);
- BENCH_SQLITE_PATH: the SQLite file (default bench/work/<PostgreSQL database name>.sqlite3);
  BENCH_PROXY_PORT: the proxy's port;
- BENCH_WITH_SQLITE=1: also declare the SQLite file as the `sqlite` alias (the generator writes both).
"""
import os
import secrets
from pathlib import Path

import dj_database_url

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "work"

# A local secret, so the production settings accept to start; HTTP on loopback, no TLS redirect.
os.environ.setdefault("SECRET_KEY", "bench-local-" + secrets.token_urlsafe(48))
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/registry_bench")
PG_NAME = dj_database_url.parse(PG_URL)["NAME"]
# The export files (built once per registry version) in the bench's own directory, one per
# database: the bench empties it to time a build from scratch.
os.environ.setdefault("EXPORT_CACHE_DIR", str(WORK_DIR / f"exports-{PG_NAME}"))

from registry.settings.production import *  # noqa: E402,F401,F403
from registry.settings.production import MIDDLEWARE, REST_FRAMEWORK  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
SECURE_SSL_REDIRECT = False
ROOT_URLCONF = "bench.urls"
STATIC_ROOT = WORK_DIR / "staticfiles"

# The SQLite copy is named after the PostgreSQL database: two bench databases (registry_bench,
# registry_bench_x) never share a SQLite file.
SQLITE_PATH = os.environ.get("BENCH_SQLITE_PATH", str(WORK_DIR / f"{PG_NAME}.sqlite3"))
BENCH_DB = os.environ.get("BENCH_DB", "postgres")


def database(url) -> dict:
    """One database as the registry configures it (its options: persistent connections, health
    checks, PostgreSQL's JIT off…), from its own settings builder when it has one."""
    try:
        from registry.settings.base import database_settings
    except ImportError:
        return dj_database_url.parse(url, conn_max_age=60)
    return database_settings({"DATABASE_URL": url})["default"]


if BENCH_DB == "sqlite":
    DATABASES = {"default": database(f"sqlite:///{SQLITE_PATH}")}
elif BENCH_DB == "proxy":
    port = os.environ["BENCH_PROXY_PORT"]
    DATABASES = {"default": database(PG_URL.replace("127.0.0.1:5432", f"127.0.0.1:{port}"))}
    # Fail fast while the database is away, instead of the client library's long default.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 2
else:
    DATABASES = {"default": database(PG_URL)}
if os.environ.get("BENCH_WITH_SQLITE") == "1":
    DATABASES["sqlite"] = database(f"sqlite:///{SQLITE_PATH}")
DATABASE_ROUTERS = []  # the bench has no replica

# The lead wires the 503 middleware into the real settings; the bench adds it if not there yet.
_DB_MIDDLEWARE = "registry.middleware.DatabaseUnavailableMiddleware"
if _DB_MIDDLEWARE not in MIDDLEWARE:
    MIDDLEWARE = [*MIDDLEWARE, _DB_MIDDLEWARE]

# Throttling would make the load generator measure 429s: rates are lifted (None = no limit),
# the throttle classes stay as configured.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {scope: None for scope in REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
