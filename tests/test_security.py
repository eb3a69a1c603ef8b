"""Production settings and cross-cutting protections: headers, health, throttled logins, 503s, routing."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import RequestFactory

from registry.db_routers import PinPrimaryMiddleware, PrimaryReplicaRouter, use_primary
from registry.middleware import DatabaseUnavailableMiddleware
from registry.settings.base import cache_settings, database_settings

ROOT = Path(__file__).resolve().parent.parent
# The environment of a deployment: without what the browser tests set for Playwright.
BASE_ENV = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def test_production_settings_pass_the_deploy_check():
    secret = "k" * 20 + "a-real-secret-of-more-than-fifty-characters-9f8e7d6c"
    env = {**BASE_ENV, "DJANGO_SETTINGS_MODULE": "registry.settings.production",
           "SECRET_KEY": secret, "ALLOWED_HOSTS": "example.org"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr and "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_real_secret_key():
    env = {**BASE_ENV, "DJANGO_SETTINGS_MODULE": "registry.settings.production", "SECRET_KEY": ""}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_pages_carry_security_headers_with_a_csp_without_inline_scripts(client):
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_a_lost_database_gives_a_503_page_and_a_503_json_not_a_traceback():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    page = middleware.process_exception(RequestFactory().get("/"), OperationalError("connection refused"))
    assert page.status_code == 503 and page["Retry-After"]
    assert "indisponible" in page.content.decode() and "Traceback" not in page.content.decode()
    api = middleware.process_exception(RequestFactory().get("/api/v1/calls/"), OperationalError("gone"))
    assert api.status_code == 503 and "unavailable" in json.loads(api.content)["detail"]
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("bug")) is None


@pytest.mark.django_db
def test_admin_login_is_throttled_after_repeated_failures(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    cache.clear()
    for _attempt in range(3):
        assert client.post("/en/admin/login/", {"username": "x", "password": "wrong"}).status_code == 200
    blocked = client.post("/en/admin/login/", {"username": "x", "password": "wrong"})
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    cache.clear()


@pytest.mark.django_db
def test_admin_is_for_staff_only(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="visitor"))
    response = client.get("/en/admin/calls/call/")
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_reads_go_to_the_replica_and_writes_and_the_admin_to_the_primary():
    router = PrimaryReplicaRouter()
    seen = {}

    def view(request):
        seen[request.path, request.method] = (use_primary(), router.db_for_read(None), router.db_for_write(None))

    middleware = PinPrimaryMiddleware(view)
    factory = RequestFactory()
    middleware(factory.get("/api/v1/calls/"))
    middleware(factory.post("/api/v1/calls/"))
    middleware(factory.get("/admin/calls/call/"))
    assert seen["/api/v1/calls/", "GET"] == (False, "replica", "default")
    assert seen["/api/v1/calls/", "POST"] == (True, "default", "default")
    assert seen["/admin/calls/call/", "GET"] == (True, "default", "default")
    assert router.allow_migrate("replica", "calls") is False


def test_database_settings_add_a_replica_only_when_configured():
    assert set(database_settings({})) == {"default"}
    configured = database_settings({"DATABASE_URL": "postgres://u@primary:5432/registry",
                                    "DATABASE_REPLICA_URL": "postgres://u@replica:5432/registry"})
    assert configured["replica"]["HOST"] == "replica" and configured["default"]["HOST"] == "primary"
    assert configured["replica"]["TEST"] == {"MIRROR": "default"}


def redis_reachable():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_the_cache_is_local_memory_without_redis_url():
    assert cache_settings({})["default"]["BACKEND"].endswith("LocMemCache")


@pytest.mark.skipif(not redis_reachable(), reason="no Redis at 127.0.0.1:6379 on this machine")
def test_the_cache_uses_redis_when_redis_url_is_set():
    from django.core.cache.backends.redis import RedisCache

    config = cache_settings({"REDIS_URL": "redis://127.0.0.1:6379/15"})["default"]
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    redis_cache = RedisCache(config["LOCATION"], {"KEY_PREFIX": "registry-test"})
    redis_cache.set("facet", {"open": 3}, 30)
    assert redis_cache.get("facet") == {"open": 3}
    redis_cache.delete("facet")

