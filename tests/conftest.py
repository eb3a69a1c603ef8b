import pytest
from django.db import connection

from tests.factories import CuratorFactory


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need its features: on SQLite they skip, saying why."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL to run it); this run is on SQLite")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: no facet counts or throttle counters from another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def curator(db):
    return CuratorFactory(username="camille")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"
