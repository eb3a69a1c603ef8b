"""Throttles and login lock-outs counted atomically in the shared cache (registry/counters.py),
with concurrent clients (threads) against the real shared caches: Redis at 127.0.0.1:6379 and the
database cache (on PostgreSQL, whose row locks it uses), besides the tests' memory cache."""
import datetime
import socket
import threading
import uuid

import pytest
import time_machine
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client

from tests.factories import UserFactory

REDIS_URL = "redis://127.0.0.1:6379/15"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
# The middle of an hour (and of a minute): the throttles' fixed windows do not turn during a test.
MID_WINDOW = datetime.datetime(2026, 11, 5, 10, 30, 30, tzinfo=datetime.UTC)


def redis_reachable():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture(params=["memory", "redis", "database"])
def shared_cache(request, settings):
    """The default cache as each deployment has it: the tests' memory cache, Redis (a key prefix of
    this test's own), the database cache (PostgreSQL only: SQLite has no row locks)."""
    if request.param == "redis":
        if not redis_reachable():
            pytest.skip("no Redis at 127.0.0.1:6379 on this machine")
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": REDIS_URL, "KEY_PREFIX": f"limits-{uuid.uuid4().hex}"}}
    elif request.param == "database":
        if connection.vendor != "postgresql":
            pytest.skip("the database cache's row locks need PostgreSQL (set DATABASE_URL to run it)")
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                                       "LOCATION": "registry_cache_limits"}}
        call_command("createcachetable", verbosity=0)
    yield request.param
    if request.param == "redis":
        cache = caches["default"]
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(f"{cache.key_prefix}:*"):
            client.delete(key)


def concurrently(count, request) -> list:
    """`request(client)` from `count` threads at once, each with its own client: the responses."""
    start = threading.Barrier(count)
    responses = [None] * count

    def run(i):
        try:
            start.wait()
            responses[i] = request(Client())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(response is not None for response in responses)
    return responses


@pytest.mark.slow  # threads racing on each shared cache
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path,scope", [("/calendrier/", "pages"), ("/api/v1/themes/", "anon")])
def test_concurrent_clients_get_exactly_the_rate_through(shared_cache, settings, path, scope):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], scope: "7/hour"},
    }
    with time_machine.travel(MID_WINDOW, tick=False):
        statuses = [r.status_code for r in concurrently(24, lambda client: client.get(path, REMOTE_ADDR="10.7.7.7"))]
        assert sorted(statuses) == [200] * 7 + [429] * 17
        # Another client has its own count.
        assert Client().get(path, REMOTE_ADDR="10.7.7.8").status_code == 200
    # The next window (an hour on) lets the client in again.
    with time_machine.travel(MID_WINDOW + datetime.timedelta(hours=1), tick=False):
        assert Client().get(path, REMOTE_ADDR="10.7.7.7").status_code == 200


@pytest.mark.django_db
def test_a_throttled_client_passes_after_retry_after_not_before(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "pages": "7/hour"},
    }
    with time_machine.travel(MID_WINDOW, tick=False):
        assert [client.get("/calendrier/", REMOTE_ADDR="10.3.3.3").status_code for _ in range(8)] == [200] * 7 + [429]
        wait = int(client.get("/calendrier/", REMOTE_ADDR="10.3.3.3")["Retry-After"])
    for seconds, status in ((wait - 2, 429), (wait, 200)):
        with time_machine.travel(MID_WINDOW + datetime.timedelta(seconds=seconds), tick=False):
            assert client.get("/calendrier/", REMOTE_ADDR="10.3.3.3").status_code == status, seconds


@pytest.mark.slow  # threads racing on each shared cache
@pytest.mark.django_db(transaction=True)
def test_concurrent_password_guesses_get_exactly_the_limit_of_password_checks(shared_cache, settings, monkeypatch):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURE_WINDOW = 600
    UserFactory(username="camille", is_staff=True, is_superuser=True)
    checked = []
    check_password = ModelBackend.authenticate

    def counted(self, request, username=None, password=None, **kwargs):
        checked.append(password)  # a password the registry actually compared
        return check_password(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counted)
    responses = concurrently(20, lambda client: client.post(
        "/en/admin/login/", {"username": "camille", "password": f"guess-{uuid.uuid4().hex}"}, REMOTE_ADDR="10.6.6.6"))
    assert len(checked) == 5
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 4 + [429] * 16  # the fifth failure locks out, the others are refused
    # Locked out: even the right password, from that address; the curator still gets in from hers.
    assert Client().post("/en/admin/login/", {"username": "camille", "password": PASSWORD},
                         REMOTE_ADDR="10.6.6.6").status_code == 429
    assert Client().post("/en/admin/login/", {"username": "camille", "password": PASSWORD},
                         REMOTE_ADDR="10.0.0.1").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_alert_requests_per_address_are_counted_atomically(shared_cache):
    from registry.throttling import over_limit

    outcomes = concurrently(30, lambda _client: over_limit("alerts-test-key", limit=10, window=3600))
    assert sorted(outcomes) == [False] * 10 + [True] * 20


# -- Redis away: the site serves without cache, counters in the database cache -------------------


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_away(settings):
    """The production cache settings with REDIS_URL pointing at a closed port."""
    from registry.settings.base import cache_settings

    settings.CACHES = cache_settings({"REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"})
    call_command("createcachetable", verbosity=0)  # the fallback's table, as `migrate` makes it
    return settings


@pytest.mark.django_db
def test_with_redis_away_the_site_serves_and_healthz_says_the_cache_is_unreachable(client, redis_away):
    from tests.factories import CallFactory

    CallFactory(slug="vecteurs", title="Vecteurs viraux", opens_on=datetime.date(2026, 1, 1),
                closes_on=datetime.date(2099, 1, 1))
    for path in ("/", "/?q=vecteurs", "/en/", "/calendrier/", "/appels/vecteurs/", "/api/v1/themes/"):
        assert client.get(path).status_code == 200, path
    api = client.get("/api/v1/calls/?q=vecteurs")
    assert api.status_code == 200 and [c["slug"] for c in api.json()["results"]] == ["vecteurs"]
    health = client.get("/healthz")
    assert health.status_code == 200  # the server serves: the load balancer keeps it
    assert health.json() == {"status": "degraded", "database": "ok", "cache": "unreachable", "counters": "database"}


@pytest.mark.django_db
def test_with_redis_away_throttles_and_lockouts_count_in_the_database_cache(client, redis_away):
    from django.db import connection as db

    redis_away.REST_FRAMEWORK = {
        **redis_away.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**redis_away.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "pages": "3/hour"},
    }
    redis_away.LOGIN_FAILURE_LIMIT = 3
    with time_machine.travel(MID_WINDOW, tick=False):
        assert [client.get("/", REMOTE_ADDR="10.5.5.5").status_code for _ in range(4)] == [200, 200, 200, 429]
    UserFactory(username="camille", is_staff=True, is_superuser=True)

    def login(password):
        return client.post("/en/admin/login/", {"username": "camille", "password": password}, REMOTE_ADDR="10.5.5.5")

    assert [login("wrong").status_code for _ in range(3)] == [200, 200, 429]
    assert login(PASSWORD).status_code == 429
    with db.cursor() as cursor:  # the counts are the database cache's rows, shared by every server
        cursor.execute("SELECT COUNT(*) FROM registry_cache")
        assert cursor.fetchone()[0] >= 2


@pytest.mark.django_db
def test_with_no_shared_cache_answering_counters_are_kept_per_process(client, settings):
    """Redis away and no fallback configured (or its table missing): counted in this process."""
    settings.CACHES = {"default": {"BACKEND": "registry.cache.ResilientRedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{closed_port()}/0"}}
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "pages": "2/hour"},
    }
    with time_machine.travel(MID_WINDOW, tick=False):
        assert [client.get("/", REMOTE_ADDR="10.4.4.4").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/healthz").json()["counters"] == "local"


@pytest.mark.skipif(not redis_reachable(), reason="no Redis at 127.0.0.1:6379 on this machine")
@pytest.mark.django_db
def test_with_redis_up_healthz_says_ok_and_counters_are_in_redis(client, settings):
    from registry.settings.base import cache_settings

    settings.CACHES = cache_settings({"REDIS_URL": REDIS_URL})
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "cache": "ok", "counters": "redis"}
