"""Pages at the speed of their data: the public HTML pages answer `304 Not Modified` to a browser
whose copy is current (`RevalidatedPageMixin`, the one implementation every page uses).

A page is a function of the registry version (`calls.reading.read_model.current_version`, moved by every
public write), the day (`calls.clock.today`: statuses change at midnight), the language, its
address (host, path, query string) and the code that renders it (`release`). Its `ETag` is built
from exactly those, read before the page (one primary-key read), and `Cache-Control: no-cache`
makes browsers ask every time.

Every page carries a CSRF token (the language switch, the alert forms): a masked form of the
browser's own CSRF secret. A copy is therefore the browser's own, never a copy to share: the ETag
also holds that secret (through an HMAC: the ETag doesn't reveal it), so one browser's ETag never
validates in another browser, and `Cache-Control: private` keeps shared caches from storing the
page. A browser without the CSRF cookie gets its secret here (as the page would give it), so its
first page's ETag already matches its next request. Signed-in users (staff) get no validators and
no 304; a page whose rendering sets a cookie or writes the session keeps no ETag.

The same parts, the browser's CSRF secret aside, name the page in the shared cache (`cached_page`):
an anonymous visitor's page is rendered once per registry version, day, language, address and
release, with a placeholder where its forms carry the CSRF token; each visitor then gets it with
their own token put in. A signed-in user's page is never stored nor served from it, nor a page
whose rendering set a cookie or wrote the session; a write through the services moves the version,
so the next visit renders the page again.
"""
import functools
import hashlib
import zlib
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers, quote_etag
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language

from calls.clock import today
from calls.reading import read_model

SALT = "calls.site.revalidation.page-etag"
# What a page is rendered by: a new release (templates, translations, code, static files) is a new page.
RELEASE_SOURCES = ("templates", "locale", "calls", "registry")
RELEASE_SUFFIXES = {".html", ".txt", ".mo", ".py"}
# How long a rendered page stays in the shared cache: its key changes with every public write and at
# midnight anyway; this only bounds how long an address nobody asks for again takes room.
PAGE_CACHE_SECONDS = 300
# Rendered where the page's forms carry the browser's CSRF token, replaced by each browser's own.
CSRF_PLACEHOLDER = "csrf-token-of-this-browser-a3f9c2d1"


@functools.cache
def release() -> str:
    """A fingerprint of the code that renders pages, read once per process: the same in every
    worker of one release (file contents, not times), another after a deploy, so that no browser
    keeps a page naming static files that are gone."""
    digest = hashlib.sha256(getattr(staticfiles_storage, "manifest_hash", "").encode())
    base = Path(settings.BASE_DIR)
    for top in RELEASE_SOURCES:
        for path in sorted((base / top).rglob("*")):
            if path.suffix in RELEASE_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def page_etag(request, version) -> str:
    """The page's validator: registry version, day, language, address, release, and this
    browser's CSRF secret (given one here if it has none)."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        get_token(request)  # the new secret the page's forms will carry, sent as the page's cookie
        secret = request.META["CSRF_COOKIE"]
    parts = [release(), version, today().isoformat(), get_language(), request.build_absolute_uri(), secret]
    return quote_etag(salted_hmac(SALT, "|".join(str(part) for part in parts)).hexdigest()[:32])


def page_cache_key(request, version) -> str:
    """Where an anonymous visitor's page is kept: the ETag's parts but the browser's CSRF secret."""
    parts = [release(), version, today().isoformat(), get_language(), request.build_absolute_uri()]
    return "page:" + hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()


def cached_page(request, key):
    """The page kept under `key`, with this browser's CSRF token in its forms (None if none is kept)."""
    kept = cache.get(key)
    if kept is None:
        return None
    headers, compressed = kept
    content = zlib.decompress(compressed).replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())
    response = HttpResponse(content)
    for name, value in headers:
        response[name] = value
    return response


def _keep_page(request, key, response):
    """After rendering: keep the page (with the placeholder) unless it is personal, then give this
    browser its token."""
    if "ETag" in response:  # not personal (see `_unless_personal`)
        headers = [(name, value) for name, value in response.items() if name != "ETag"]
        cache.set(key, (headers, zlib.compress(response.content, 1)), PAGE_CACHE_SECONDS)
    response.content = response.content.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())


def revalidate_every_time(response):
    """Browsers keep the page for themselves only, and ask before showing it again."""
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    return response


class RevalidatedPageMixin:
    """For a public page's view: its validators, and a 304 when the browser's copy is current."""

    def dispatch(self, request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or request.user.is_authenticated:
            response = super().dispatch(request, *args, **kwargs)
            return revalidate_every_time(response) if request.method in ("GET", "HEAD") else response
        # The version the ETag names is the one the page's cached parts are read under: one query.
        with read_model.one_version() as version:
            etag = page_etag(request, version)
            not_modified = get_conditional_response(request, etag=etag)
            if not_modified is not None:
                not_modified["ETag"] = etag
                return revalidate_every_time(not_modified)
            key = page_cache_key(request, version)
            kept = cached_page(request, key)
            if kept is not None:
                kept["ETag"] = etag
                return revalidate_every_time(kept)
            response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 200:
            response["ETag"] = etag
            if hasattr(response, "add_post_render_callback"):
                if response.context_data is not None:  # rendered once for every visitor: see `cached_page`
                    response.context_data["csrf_token"] = CSRF_PLACEHOLDER
                response.add_post_render_callback(functools.partial(_unless_personal, request))
                response.add_post_render_callback(functools.partial(_keep_page, request, key))
            else:
                _unless_personal(request, response)
        return revalidate_every_time(response)


def _unless_personal(request, response):
    """A page whose rendering set a cookie or wrote the session is not a function of the ETag's
    parts: it keeps none."""
    session = getattr(request, "session", None)
    if response.cookies or (session is not None and session.modified):
        del response["ETag"]
