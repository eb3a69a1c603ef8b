"""Reading a paginated JSON feed politely: a timeout, retries with back-off, a delay between pages.

`JsonFeed.get` reads a page by GET (aides-territoires); `JsonFeed.post` sends a form (the EU
Funding & Tenders portal's search API takes its query as a multipart form, see `multipart_form`).
"""
import json
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urljoin, urlsplit

from calls.importing.base import FeedError

RETRIED_STATUSES = {408, 425, 429, 500, 502, 503, 504}
USER_AGENT = "bioproduction-funding-registry-importer/1.0"


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only within the feed's own site."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if _origin(newurl) != _origin(req.full_url):
            raise FeedError(f"{req.full_url}: redirected to another site ({newurl}); not followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _origin(url):
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


class JsonFeed:
    """GET JSON documents from one site, politely.

    Each request has a `timeout`; a failure that may pass (a timeout, a refused connection, 408,
    429, 5xx) is retried up to `retries` times, waiting `backoff` × 2^attempt seconds (or the
    server's `Retry-After`, at most `max_wait`); pages are `delay` seconds apart. A response larger
    than `max_bytes` or not JSON stops the read: `FeedError`.
    """

    def __init__(self, *, delay=1.0, retries=4, backoff=2.0, timeout=30.0, max_wait=120.0,
                 max_bytes=50 * 1024 * 1024, sleep=time.sleep):
        self.delay, self.retries, self.backoff, self.timeout = delay, retries, backoff, timeout
        self.max_wait, self.max_bytes, self.sleep = max_wait, max_bytes, sleep
        self.opener = urllib.request.build_opener(_SameOriginRedirects())
        self.requests = 0
        self._last = None

    def get(self, url, headers=None):
        return self._politely(url, headers or {}, None)

    def post(self, url, data: bytes, headers=None):
        """POST `data` (with its Content-Type in `headers`), read the JSON answer, with the same manners."""
        return self._politely(url, headers or {}, data)

    def _politely(self, url, headers, data):
        if self._last is not None and self.delay:
            wait = self.delay - (time.monotonic() - self._last)
            if wait > 0:
                self.sleep(wait)
        try:
            return self._with_retries(url, headers, data)
        finally:
            self._last = time.monotonic()

    def _with_retries(self, url, headers, data=None):
        request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET", headers={
            "Accept": "application/json", "User-Agent": USER_AGENT, **headers,
        })
        for attempt in range(self.retries + 1):
            self.requests += 1
            retry_after, problem = None, None
            try:
                with self.opener.open(request, timeout=self.timeout) as response:
                    body = response.read(self.max_bytes + 1)
            except urllib.error.HTTPError as error:
                if error.code not in RETRIED_STATUSES:
                    raise FeedError(f"{url}: HTTP {error.code}") from error
                retry_after, problem = error.headers.get("Retry-After"), f"HTTP {error.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
                problem = str(getattr(error, "reason", error))
            else:
                if len(body) > self.max_bytes:
                    raise FeedError(f"{url}: larger than {self.max_bytes} bytes; not read")
                try:
                    return json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError, RecursionError) as error:
                    raise FeedError(f"{url}: not a JSON document ({error.__class__.__name__})") from error
            if attempt == self.retries:
                raise FeedError(f"{url}: {problem}, still after {self.retries + 1} attempts")
            self.sleep(self._wait(attempt, retry_after))
        raise AssertionError("unreachable")

    def _wait(self, attempt, retry_after):
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self.max_wait)
        return min(self.backoff * 2 ** attempt, self.max_wait)


def follow_pages(feed: JsonFeed, first_url, *, headers=None, max_pages=2000):
    """Yield the `results` of each page of a DRF-style paginated list, following `next`.

    A `next` link to another site, back to a page already read, or beyond `max_pages` stops the
    read with a `FeedError` (a hostile or broken feed cannot send the importer elsewhere or loop).
    """
    url, seen = first_url, set()
    while url:
        if url in seen or len(seen) >= max_pages:
            raise FeedError(f"{url}: pages loop or exceed {max_pages}; stopped")
        seen.add(url)
        page = feed.get(url, headers)
        if isinstance(page, list):
            yield page
            return
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise FeedError(f"{url}: not a page of results")
        yield page["results"]
        following = page.get("next")
        if following is not None and not isinstance(following, str):
            raise FeedError(f"{url}: its next link is not a URL")
        if following:
            following = urljoin(url, following)
            if _origin(following) != _origin(first_url):
                raise FeedError(f"{url}: its next page is on another site ({following}); not followed")
        url = following


def multipart_form(parts: dict) -> tuple[bytes, str]:
    """`parts` ({name: (content type, text)}) as a multipart/form-data body, and its Content-Type."""
    boundary = f"registry-{uuid.uuid4().hex}"
    lines = []
    for name, (content_type, text) in parts.items():
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"; filename="{name}"',
                  f"Content-Type: {content_type}", "", text]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode("utf-8"), f"multipart/form-data; boundary={boundary}"
