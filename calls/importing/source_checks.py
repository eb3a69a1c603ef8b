"""Visiting every page the registry cites, and what a curator should re-verify (`manage.py check_sources`).

A visit is a GET of the page (never of an address on the server's own or a private network, nor
a redirect there, unless `SOURCE_CHECK_ALLOW_PRIVATE`), politely: at most `concurrency` (4) at
once, `delay` seconds between two visits of the same host (pages are interleaved host by host), a
`timeout`, a User-Agent naming the registry and a contact (`settings.SOURCE_CHECK_USER_AGENT`). It records, through
`services.record_source_check`, the answer (the HTTP status, or the error: timeout, no host,
refused…), the address redirects led to, and a fingerprint: the SHA-256 of the page's text
(an HTML page's visible text, scripts and styles left out, whitespace and case normalised; any
other document's bytes). A page whose fingerprint differs from its previous visit's is marked
changed that day.

What to re-verify (`to_reverify`), for published calls:
- `gone`: a cited page or the apply link answers 404 or 410, or its host no longer exists;
- `moved`: it redirects to another address (scheme, trailing slash and case aside);
- `changed`: its text changed after the call was last verified (or it never was);
- `not_verified`: the call has not been verified for `REVERIFY_AFTER_DAYS` (6 months);
- `no_next_edition`: a closed edition of a recurring series (it has a previous edition) with no
  next edition yet.
A curator marks a call verified (the admin's action, `services.mark_verified`: who and when, in
its history); its `changed` and `not_verified` reasons then go; a page gone or moved stays listed
until the call cites another address or the page answers again.
"""
import concurrent.futures
import hashlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls import services
from calls.choices import PublicationState, Status
from calls.importing.aides_territoires import html_to_text
from calls.models import Call, Document, Source, SourceCheck
from calls.models.checks import NO_HOST
from calls.querysets import today as registry_today

REVERIFY_AFTER_DAYS = 183  # six months
MAX_BYTES = 5 * 1024 * 1024
PRIVATE = "private or reserved address"
REASONS = {
    "gone": _("page gone (404, 410 or no such host)"),
    "moved": _("page moved (redirected elsewhere)"),
    "changed": _("page changed since the call was last verified"),
    "not_verified": _("not verified for six months"),
    "no_next_edition": _("closed edition of a recurring series, no next edition"),
}


@dataclass(frozen=True)
class Visit:
    url: str
    status_code: int | None = None
    error: str = ""
    final_url: str = ""
    fingerprint: str = ""


def visitor_user_agent() -> str:
    """What the visits say they are: the registry, its address and a contact (settings)."""
    if settings.SOURCE_CHECK_USER_AGENT:
        return settings.SOURCE_CHECK_USER_AGENT
    contact = settings.SOURCE_CHECK_CONTACT or settings.CONTACT_EMAIL or settings.DEFAULT_FROM_EMAIL
    return f"bioproduction-funding-registry-source-check/1.0 (+{settings.SITE_URL}; contact: {contact})"


def cited_pages() -> list[str]:
    """Every http(s) address a call or programme cites: sources, documents, apply links."""
    urls = set(Source.objects.exclude(url="").values_list("url", flat=True))
    urls |= set(Document.objects.exclude(url="").values_list("url", flat=True))
    urls |= set(Call.objects.exclude(apply_url="").values_list("apply_url", flat=True))
    return sorted(url for url in urls if url.startswith(("http://", "https://")))


def fingerprint(body: bytes, content_type: str) -> str:
    """The SHA-256 of a page's normalised text (HTML, plain text) or of its bytes (any other document)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml", "text/plain", ""):
        charset = "utf-8"
        for part in content_type.split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        try:
            text = body.decode(charset, errors="replace")
        except LookupError:
            text = body.decode("utf-8", errors="replace")
        if kind != "text/plain":
            text = html_to_text(text)
        body = " ".join(text.split()).casefold().encode("utf-8")
    return hashlib.sha256(body).hexdigest()


class Visitor:
    """Visits pages politely (see the module's docstring); `visit_all` yields each `Visit` as it ends."""

    def __init__(self, *, concurrency=4, delay=1.0, timeout=15.0, user_agent=None, max_bytes=MAX_BYTES,
                 allow_private=None):
        if not 1 <= concurrency <= 4:
            raise ValueError("concurrency: between 1 and 4")
        self.concurrency, self.delay, self.timeout, self.max_bytes = concurrency, delay, timeout, max_bytes
        self.user_agent = user_agent or visitor_user_agent()
        self.allow_private = settings.SOURCE_CHECK_ALLOW_PRIVATE if allow_private is None else allow_private
        self.opener = urllib.request.build_opener(_PublicRedirects(self))
        self._hosts = defaultdict(threading.Lock)
        self._last = {}
        self._hosts_lock = threading.Lock()

    def visit_all(self, urls):
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [pool.submit(self.visit, url) for url in interleaved(urls)]
            for future in concurrent.futures.as_completed(futures):
                yield future.result()

    def visit(self, url) -> Visit:
        host = (urlsplit(url).hostname or "").lower()
        with self._hosts_lock:
            gate = self._hosts[host]
        with gate:  # one visit of a host at a time, `delay` apart
            wait = self._last.get(host, -1e9) + self.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                return self._get(url)
            finally:
                self._last[host] = time.monotonic()

    def _get(self, url) -> Visit:
        request = urllib.request.Request(url, headers={
            "User-Agent": self.user_agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        })
        if refusal := self.refusal(url):
            return Visit(url, None, refusal)
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                body = response.read(self.max_bytes)
                return Visit(url, response.status, "", response.geturl(),
                             fingerprint(body, response.headers.get("Content-Type", "")))
        except _Refused as refused:
            return Visit(url, None, str(refused))
        except urllib.error.HTTPError as error:
            return Visit(url, error.code, "", error.geturl() or url)
        except urllib.error.URLError as error:
            return Visit(url, None, _error_text(error.reason))
        except (OSError, http.client.HTTPException, ValueError) as error:
            return Visit(url, None, _error_text(error))


    def refusal(self, url) -> str:
        """Why `url` is not visited: it names no http(s) host, or (unless `allow_private`) its host
        is on a loopback, private, link-local or reserved address: pages cited by partners, feeds or
        visitors must not make the server probe its own network. Empty when it may be visited."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "invalid address: not an http(s) page"
        if self.allow_private:
            return ""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)}
        except socket.gaierror:
            return NO_HOST
        except (ValueError, UnicodeError, OSError) as error:
            return _error_text(error)
        for address in addresses:
            if not ipaddress.ip_address(address.split("%")[0]).is_global:
                return f"{PRIVATE}: not visited"
        return ""


class _Refused(Exception):
    """A redirect to an address the visitor does not visit."""


class _PublicRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, visitor):
        super().__init__()
        self.visitor = visitor

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if refusal := self.visitor.refusal(newurl):
            raise _Refused(f"redirected to {newurl[:200]}: {refusal}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _error_text(reason) -> str:
    if isinstance(reason, socket.gaierror):
        return NO_HOST
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {reason}"[:300]
    if isinstance(reason, http.client.HTTPException):
        return f"bad answer: {reason.__class__.__name__}"
    if isinstance(reason, ValueError):
        return f"invalid address: {reason}"[:300]
    return str(reason)[:300] or reason.__class__.__name__


def interleaved(urls):
    """The pages host after host (a, b, c, a, b, c…): workers seldom wait for the same host."""
    by_host = defaultdict(list)
    for url in urls:
        by_host[(urlsplit(url).hostname or "").lower()].append(url)
    queues = list(by_host.values())
    ordered = []
    while queues:
        ordered += [queue.pop(0) for queue in queues]
        queues = [queue for queue in queues if queue]
    return ordered


@dataclass
class CheckReport:
    checked: int = 0
    ok: int = 0
    gone: list = field(default_factory=list)
    moved: list = field(default_factory=list)  # (url, final url)
    changed: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # (url, what)

    def summary(self) -> str:
        return (f"{self.checked} pages checked: {self.ok} answered, {len(self.gone)} gone, {len(self.moved)} moved, "
                f"{len(self.changed)} changed, {len(self.errors)} without an answer or in error")

    def lines(self):
        yield from (f"- {url}: gone" for url in self.gone)
        yield from (f"> {url}: moved to {final}" for url, final in self.moved)
        yield from (f"~ {url}: text changed" for url in self.changed)
        yield from (f"x {url}: {what}" for url, what in self.errors)


def check_sources(urls=None, *, visitor=None, dry_run=False) -> CheckReport:
    """Visit `urls` (by default every cited page) and record each answer (nothing with `dry_run`)."""
    urls = cited_pages() if urls is None else urls
    visitor = visitor or Visitor()
    report = CheckReport()
    for visit in visitor.visit_all(urls):
        report.checked += 1
        before = SourceCheck.objects.filter(url=visit.url).first()
        if dry_run:
            check = SourceCheck(url=visit.url, status_code=visit.status_code, error=visit.error,
                                final_url=visit.final_url, fingerprint=visit.fingerprint)
            changed = bool(before and before.fingerprint and visit.fingerprint
                           and before.fingerprint != visit.fingerprint)
        else:
            check = services.record_source_check(
                url=visit.url, checked_at=timezone.now(), status_code=visit.status_code, error=visit.error,
                final_url=visit.final_url, fingerprint=visit.fingerprint)
            changed = check.changed_on is not None and (before is None or before.changed_on != check.changed_on)
        if check.is_gone:
            report.gone.append(visit.url)
        elif check.status_code is not None and check.status_code < 400:
            report.ok += 1
        else:
            report.errors.append((visit.url, check.outcome))
        if check.has_moved:
            report.moved.append((visit.url, check.final_url))
        if changed:
            report.changed.append(visit.url)
    return report


# --- What to re-verify ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    code: str
    url: str = ""
    detail: str = ""

    @property
    def text(self) -> str:
        return f"{REASONS[self.code]}" + (f": {self.detail}" if self.detail else "")


def to_reverify(on=None) -> dict:
    """{call id: [Reason…]} for the published calls a curator should check again (see the docstring)."""
    on = on or registry_today()
    published = Call.objects.filter(publication_state=PublicationState.PUBLISHED)
    reasons = defaultdict(list)
    problems = {check.url: check for check in SourceCheck.objects.filter(
        Q(status_code__in=(404, 410)) | Q(error=NO_HOST) | Q(changed_on__isnull=False) | ~Q(final_url=""))}
    problems = {url: check for url, check in problems.items() if check.is_gone or check.has_moved or check.changed_on}
    if problems:
        cited = defaultdict(set)
        pages = list(problems)
        for call_id, url in Source.objects.filter(call__in=published, url__in=pages).values_list("call_id", "url"):
            cited[call_id].add(url)
        for call_id, url in Source.objects.filter(call__in=published, document__url__in=list(problems)).values_list(
                "call_id", "document__url"):
            cited[call_id].add(url)
        for call_id, url in published.filter(apply_url__in=list(problems)).values_list("pk", "apply_url"):
            cited[call_id].add(url)
        verified = dict(published.filter(pk__in=cited).values_list("pk", "last_verified_on"))
        for call_id, urls in cited.items():
            for url in sorted(urls):
                check = problems[url]
                if check.is_gone:
                    reasons[call_id].append(Reason("gone", url, check.outcome))
                elif check.has_moved:
                    reasons[call_id].append(Reason("moved", url, check.final_url))
                last = verified.get(call_id)
                if check.changed_on and not check.is_gone and (last is None or check.changed_on > last):
                    reasons[call_id].append(Reason("changed", url, check.changed_on.isoformat()))
    for call_id, last in published.not_verified_since(REVERIFY_AFTER_DAYS, on=on).values_list(
            "pk", "last_verified_on"):
        reasons[call_id].append(Reason("not_verified", "", last.isoformat() if last else "never"))
    series = published.with_status(on).filter(
        current_status=Status.CLOSED, previous_edition__isnull=False, next_edition__isnull=True)
    for call_id in series.values_list("pk", flat=True):
        reasons[call_id].append(Reason("no_next_edition"))
    return dict(reasons)
