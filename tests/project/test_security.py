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

ROOT = Path(__file__).resolve().parents[2]
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
    # The tests' cache is a memory cache of this process: counters are "local".
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "counters": "local"}


@pytest.mark.django_db
def test_a_lost_database_gives_a_503_page_and_a_503_json_not_a_traceback():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    page = middleware.process_exception(RequestFactory().get("/"), OperationalError("connection refused"))
    assert page.status_code == 503 and page["Retry-After"]
    assert "indisponible" in page.content.decode() and "Traceback" not in page.content.decode()
    api = middleware.process_exception(RequestFactory().get("/api/v1/calls/"), OperationalError("gone"))
    assert api.status_code == 503 and "unavailable" in json.loads(api.content)["detail"]
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("bug")) is None


PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


def login(client, username, password, address="10.0.0.1", **headers):
    return client.post("/en/admin/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address, **headers)


@pytest.fixture
def lockout(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_WINDOW = 600
    return settings


@pytest.mark.django_db
def test_repeated_failed_logins_lock_that_account_from_that_address_with_retry_after(client, lockout):
    from tests.factories import CuratorFactory

    CuratorFactory(username="camille")
    for _attempt in range(2):
        assert login(client, "camille", "wrong").status_code == 200
    assert login(client, "camille", "wrong").status_code == 429  # the third failure locks out
    blocked = login(client, "camille", PASSWORD)  # even the right password, while locked out
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) == 600
    # A forged X-Forwarded-For does not make a new address (no proxy is trusted by default).
    assert login(client, "camille", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429


@pytest.mark.django_db
def test_one_visitor_cannot_lock_every_curator_out(client, lockout):
    from django.test import Client

    from tests.factories import CuratorFactory

    CuratorFactory(username="camille")
    CuratorFactory(username="dominique")
    for username in ("camille", "dominique"):
        for _attempt in range(4):
            login(client, username, "guess", address="198.51.100.66")
    assert login(client, "camille", PASSWORD, address="198.51.100.66").status_code == 429
    # The curators, from their own addresses, still sign in.
    for username, address in (("camille", "10.0.0.1"), ("dominique", "10.0.0.2")):
        response = login(Client(), username, PASSWORD, address=address)
        assert response.status_code == 302, username


@pytest.mark.django_db
def test_a_curator_gets_in_with_the_right_password_once_the_lockout_expires(client, lockout, monkeypatch):
    import time

    from tests.factories import CuratorFactory

    CuratorFactory(username="camille")
    for _attempt in range(3):
        login(client, "camille", "wrong")
    assert login(client, "camille", PASSWORD).status_code == 429
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 601)  # the window has passed
    response = login(client, "camille", PASSWORD)
    assert response.status_code == 302 and client.session.get("_auth_user_id")  # signed in


@pytest.mark.django_db
def test_login_lockouts_are_kept_in_the_shared_cache(client, lockout):
    from tests.factories import CuratorFactory

    CuratorFactory(username="camille")
    for _attempt in range(3):
        login(client, "camille", "wrong")
    assert login(client, "camille", PASSWORD).status_code == 429
    cache.clear()  # what every worker and server reads: cleared, the lock-out is gone
    assert login(client, "camille", PASSWORD).status_code == 302


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


def test_the_cache_is_the_database_without_redis_url():
    """Never a per-worker memory cache: every worker must count the same throttles and lock-outs."""
    assert cache_settings({})["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


@pytest.mark.django_db
def test_migrate_creates_the_database_cache_table_and_workers_share_its_counts(settings):
    from django.core.cache.backends.db import DatabaseCache
    from django.core.management import call_command
    from django.db import connection

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                                   "LOCATION": "registry_cache_check"}}
    call_command("migrate", verbosity=0)
    assert "registry_cache_check" in connection.introspection.table_names()
    worker_1, worker_2 = (DatabaseCache("registry_cache_check", {}) for _ in range(2))
    worker_1.set("throttle_anon_10.0.0.1", [1.0, 2.0], 60)
    assert worker_2.get("throttle_anon_10.0.0.1") == [1.0, 2.0]


@pytest.mark.skipif(not redis_reachable(), reason="no Redis at 127.0.0.1:6379 on this machine")
def test_the_cache_uses_redis_when_redis_url_is_set():
    from django.core.cache.backends.redis import RedisCache

    configured = cache_settings({"REDIS_URL": "redis://127.0.0.1:6379/15"})
    config = configured["default"]
    assert config["BACKEND"] == "registry.cache.ResilientRedisCache"  # Django's, degrading to no cache
    assert configured["fallback"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    redis_cache = RedisCache(config["LOCATION"], {"KEY_PREFIX": "registry-test"})
    redis_cache.set("facet", {"open": 3}, 30)
    assert redis_cache.get("facet") == {"open": 3}
    redis_cache.delete("facet")



# -- Throttling of the site's heavy pages and exports, per client like the API -----------------


@pytest.fixture
def page_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                   "pages": "3/minute", "exports": "2/minute"},
    }
    cache.clear()
    return settings


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/calendrier/", "/en/"])
def test_the_search_and_the_timeline_are_throttled_per_client_with_retry_after(client, page_rates, path):
    for _request in range(3):
        assert client.get(path, REMOTE_ADDR="10.0.0.1").status_code == 200
    throttled = client.get(path, REMOTE_ADDR="10.0.0.1")
    # A sliding window (two counters): at most a window and its rate's share of the next one.
    assert throttled.status_code == 429 and 0 < int(throttled["Retry-After"]) <= 120
    assert "Too many requests" in throttled.content.decode()
    # A forged X-Forwarded-For is not a new client; another address is.
    assert client.get(path, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert client.get(path, REMOTE_ADDR="10.0.0.2").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["feed", "funder", "programme", "panorama"])
def test_the_feed_funder_programme_and_panorama_pages_are_throttled_like_the_search(client, page_rates, page):
    from tests.factories import FunderFactory, ProgrammeFactory

    path = {
        "feed": "/flux/nouveaux-appels.atom?q=vecteurs",
        "funder": f"/financeurs/{FunderFactory(slug='bpifrance').slug}/",
        "programme": f"/programmes/{ProgrammeFactory(slug='france-2030').slug}/",
        "panorama": "/panorama/",
    }[page]
    for _request in range(3):
        assert client.get(path, REMOTE_ADDR="10.0.0.1").status_code == 200
    throttled = client.get(path, REMOTE_ADDR="10.0.0.1")
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert client.get("/", REMOTE_ADDR="10.0.0.1").status_code == 429  # one budget with the search
    assert client.get(path, REMOTE_ADDR="10.0.0.2").status_code == 200


@pytest.mark.django_db
def test_exports_are_throttled_per_client_across_the_site_and_the_api(client, page_rates):
    assert client.get("/export/appels.csv", REMOTE_ADDR="10.0.0.1").status_code == 200
    assert client.get("/export/echeances.ics", REMOTE_ADDR="10.0.0.1").status_code == 200
    for path in ("/export/appels.csv", "/export/echeances.ics"):
        throttled = client.get(path, REMOTE_ADDR="10.0.0.1")
        assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0, path
    api = client.get("/api/v1/exports/calls.json", REMOTE_ADDR="10.0.0.1")
    assert api.status_code == 429 and int(api["Retry-After"]) > 0
    assert api["Content-Type"].startswith("application/json")
    assert client.get("/api/v1/exports/calls.csv", REMOTE_ADDR="10.0.0.3").status_code == 200


@pytest.mark.django_db
def test_throttle_counters_live_in_the_shared_cache(client, page_rates):
    for _request in range(3):
        client.get("/", REMOTE_ADDR="10.0.0.1")
    assert client.get("/", REMOTE_ADDR="10.0.0.1").status_code == 429
    cache.clear()  # the counters are the cache's, not a worker's memory
    assert client.get("/", REMOTE_ADDR="10.0.0.1").status_code == 200


# -- Logs ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_403_is_logged_without_a_traceback(client, caplog):
    from tests.factories import CuratorFactory

    client.force_login(CuratorFactory(username="camille"))
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get("/en/admin/auth/user/").status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records and all(r.exc_info is None for r in records)
    assert "Traceback" not in caplog.text


def test_the_local_secret_is_readable_by_its_owner_only(tmp_path):
    import shutil
    import stat

    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    result = subprocess.run(["make", "-s", ".local-secret", f"PY={sys.executable}"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    secret = tmp_path / ".local-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text().strip()) >= 50


@pytest.mark.django_db
def test_guesses_spread_over_many_addresses_lock_the_account_but_not_its_curators_known_browser(lockout):
    from django.test import Client

    from registry.lockout import KNOWN_DEVICE_COOKIE
    from tests.factories import CuratorFactory

    lockout.LOGIN_ACCOUNT_FAILURE_LIMIT = 5  # per account from every address (3 per address)
    CuratorFactory(username="camille")
    curators_browser = Client()
    assert login(curators_browser, "camille", PASSWORD, address="10.0.0.1").status_code == 302
    assert curators_browser.cookies[KNOWN_DEVICE_COOKIE].value  # a browser this account signed in from
    curators_browser.post("/en/admin/logout/")
    # A guesser spreads over five addresses, two guesses each: under the per-address limit.
    guesses = [login(Client(), "camille", f"guess-{n}", address=f"198.51.100.{n // 2}") for n in range(10)]
    assert [r.status_code for r in guesses[:4]] == [200] * 4 and guesses[4].status_code == 429
    # The account is locked from anywhere else, even with the right password…
    assert login(Client(), "camille", PASSWORD, address="192.0.2.50").status_code == 429
    # …but its curator, in the browser she signed in from, still gets in, from a new address too.
    assert login(curators_browser, "camille", PASSWORD, address="192.0.2.51").status_code == 302
    # A cookie of another account, or forged, is no pass.
    stranger = Client()
    stranger.cookies[KNOWN_DEVICE_COOKIE] = curators_browser.cookies[KNOWN_DEVICE_COOKIE].value + "x"
    assert login(stranger, "camille", PASSWORD, address="192.0.2.52").status_code == 429
    CuratorFactory(username="dominique")
    assert login(curators_browser, "dominique", "wrong", address="192.0.2.53").status_code == 200
