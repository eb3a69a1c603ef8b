"""Production settings: every secret comes from the environment, with no default."""
import os

from django.core.exceptions import ImproperlyConfigured

from registry.settings.base import *  # noqa: F401,F403

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(("dev-", "test-", "change-me")):
    raise ImproperlyConfigured("Set SECRET_KEY to a random value of at least 50 characters.")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# `make serve` turns these two off for a local, plain-HTTP run; a deployment leaves them on.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
SECURE_COOKIES = env_bool("SECURE_COOKIES", True)  # noqa: F405
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "")  # noqa: F405
# Links in alert messages: the public address, else the first allowed host over HTTPS.
SITE_URL = env("SITE_URL") or (f"https://{ALLOWED_HOSTS[0]}" if ALLOWED_HOSTS else SITE_URL)  # noqa: F405
CONTACT_EMAIL = env("CONTACT_EMAIL", default_contact_email(SITE_URL))  # noqa: F405 (the public address's host)
STATIC_ROOT = env("STATIC_ROOT", str(BASE_DIR / "staticfiles"))  # noqa: F405
LOGGING = {
    **LOGGING,  # noqa: F405 (the django.request filter: no traceback for a 403)
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},  # noqa: F405
}
