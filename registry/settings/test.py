"""Test settings: the suite runs on SQLite by default, on PostgreSQL when DATABASE_URL says so."""
from registry.settings.base import *  # noqa: F401,F403
from registry.settings.base import STORAGES

SECRET_KEY = "test-only-key"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_AUTOREFRESH = True  # tests serve static files from the finders, not a collected folder
# Each test starts with an empty cache (tests/conftest.py): a per-process memory cache, cleared
# without the database. The shared caches of the other settings are tested in test_security.py.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "registry-tests"}}
# django-axes warns about a per-process cache; the tests' cache is one on purpose (see above).
SILENCED_SYSTEM_CHECKS = ["axes.W001"]
# The canonical address (exports' and alerts' links) is the test client's host.
SITE_URL = "http://testserver"
