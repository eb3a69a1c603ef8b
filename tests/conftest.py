import os
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import CuratorFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (which cannot download browsers here)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium); Playwright cannot download browsers here"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return "live_server" in item.fixturenames or "transactional_db" in item.fixturenames or bool(
        marker and marker.kwargs.get("transaction"))


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need its features: on SQLite they skip, saying why."""
    _skip_postgres_tests(items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A test that commits (a live server, `transaction=True`) ends by emptying the tables, which
    also removes what the migrations wrote (vocabularies, groups): it is written back here, as the
    test database was created (`migrated_data`), so that whatever test a worker runs next finds
    it, in any order (pytest-xdist gives a worker's files in no set order)."""
    yield
    if not _is_transactional(item) or nextitem is None:
        return  # (after the last test, the test database itself is gone)
    from django.apps import apps
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        for connection in connections.all(initialized_only=True):
            contents = getattr(connection, "_registry_migrated_data", None)
            if contents:
                call_command("flush", database=connection.alias, interactive=False, verbosity=0,
                             inhibit_post_migrate=True)
                connection.creation.deserialize_db_from_string(contents)
                # The rows came back with their ids: sequences continue after them (PostgreSQL).
                statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True))
                with connection.cursor() as cursor:
                    for statement in statements:
                        cursor.execute(statement)


@pytest.fixture(scope="session", autouse=True)
def migrated_data(django_db_setup, django_db_blocker):
    """What the migrations wrote, kept as the test database was created (see above)."""
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            # Only a test database (none is set up when no selected test needs one).
            if connection.settings_dict["NAME"] == connection.creation._get_test_db_name():
                connection._registry_migrated_data = connection.creation.serialize_db_to_string()


def _skip_postgres_tests(items):
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL to run it); this run is on SQLite")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


SLOW_LEFT_OUT = pytest.StashKey[int]()


def pytest_deselected(items):
    """Counts the tests marked `slow` that `-m "not slow"` (`make test-quick`) leaves out."""
    if not items or "slow" not in (items[0].config.getoption("markexpr") or ""):
        return
    stash = items[0].config.stash
    stash[SLOW_LEFT_OUT] = stash.get(SLOW_LEFT_OUT, 0) + sum(
        item.get_closest_marker("slow") is not None for item in items
    )


def pytest_sessionfinish(session):
    """A pytest-xdist worker hands its count to the controller, which prints the summary."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["slow_left_out"] = session.config.stash.get(SLOW_LEFT_OUT, 0)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """The controller, as each worker ends: every worker collected the whole suite, so each left
    out the same tests (their largest count, not their sum)."""
    left_out = getattr(node, "workeroutput", {}).get("slow_left_out", 0)
    node.config.stash[SLOW_LEFT_OUT] = max(node.config.stash.get(SLOW_LEFT_OUT, 0), left_out)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    left_out = config.stash.get(SLOW_LEFT_OUT, 0)
    if left_out:
        tests = "test" if left_out == 1 else "tests"
        terminalreporter.write_sep("=", f"{left_out} slow {tests} left out (run `make test` for all)", yellow=True)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: no facet counts or throttle counters from another,
    no filter choices listed in this process for another test's database (at the same version)."""
    from django.core.cache import cache

    from calls.reading.filters import reference_choices

    cache.clear()
    reference_choices.cache_clear()
    yield
    cache.clear()
    reference_choices.cache_clear()


@pytest.fixture(autouse=True)
def export_directory(settings, tmp_path_factory):
    """Each test has its own export directory (created when an export is built): version
    numbers start again in every test, so the files of another test's registry must not be found."""
    settings.EXPORT_CACHE_DIR = tmp_path_factory.getbasetemp() / "exports" / uuid.uuid4().hex


@pytest.fixture(scope="module")
def bundled_registry(django_db_setup, django_db_blocker):
    """The bundled registry, loaded once for a module in a transaction rolled back after it: each
    of the module's tests (with `db`) runs in a savepoint on top of it, its changes undone after.

    Used by `test_bundled_registry.py` only: every test of a module that uses it sees it, so the
    tests that read the bundled registry live there (loaded once per test session, not per test)."""
    from django.core.management import call_command
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_registry", verbosity=0)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def curator(db):
    return CuratorFactory(username="camille")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def in_english():
    """The test's own code (not a request) runs in English: the curators' CSV columns, messages."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Schemathesis' lazy schemas (`tests/api/test_schema*.py`, loaded when their test runs, so that
    collecting stays quick) name each operation's subtest through the node's `_nodeid`, which
    pytest 9 no longer has: give it the node's id."""
    if not hasattr(item, "_nodeid"):
        item._nodeid = item.nodeid
