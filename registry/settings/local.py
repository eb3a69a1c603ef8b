"""Development settings: `make run`."""
from registry.settings.base import *  # noqa: F401,F403
from registry.settings.base import env, env_bool

DEBUG = env_bool("DEBUG", True)
# A development-only key; production settings refuse to start without a real one.
SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
# Alert messages are printed in the terminal unless a mail server is configured.
if not (env("EMAIL_URL") or env("EMAIL_HOST")):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
