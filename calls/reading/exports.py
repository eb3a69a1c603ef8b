"""Exports of calls: the search page's CSV and the API's full exports, built once, kept on disk.

An export is never cut: the whole file is built first, on disk (rows are written as the queryset
is read in chunks, so memory stays flat however many calls there are), and only then is it
served, with its length. A failure while building (the database going away, a statement
timeout) is an error response, never a 200 whose body stops half way: a streamed response
sends its 200 before the first row is read, and can only break the connection when a later
read fails, which a client takes for a complete, shorter file.

Each file is built once per registry version and day (`cached_export`): the next requests for
the same export are served the file (see its docstring for the key, the lock and the pruning).

Cells a spreadsheet would run as a formula are neutralised (`spreadsheet_safe`), for every
export: the public CSV, the API's CSV and the admin's export.
"""
import csv
import datetime
import fcntl
import hashlib
import logging
import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.dispatch import Signal
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.http import content_disposition_header, http_date
from django.utils.translation import gettext_lazy as _

from calls import fields as call_fields
from calls.choices import AidForm, Beneficiary, CallType, Scope, Status
from calls.dates import format_partial_date
from calls.models import Region, RegistryVersion, Theme
from calls.querysets import today
from calls.reading import representations

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500

CSV_COLUMNS = call_fields.names(csv=True)  # declared once, in calls/fields.py

# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A cell value that no spreadsheet runs as a formula.

    Text starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a single
    quote, as OWASP recommends, so Excel, LibreOffice and Google Sheets show it as text. Numbers,
    dates and booleans are left as they are (a negative amount stays a number).
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def as_written(value):
    """A cell of an export read back as it was written: the apostrophe `spreadsheet_safe` put
    before text a spreadsheet would run as a formula is taken off (`'- item` is `- item`)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


class SpreadsheetSafeExportMixin:
    """For django-import-export resources: every exported cell goes through `spreadsheet_safe`."""

    def export_resource(self, instance, selected_fields=None, **kwargs):
        row = super().export_resource(instance, selected_fields, **kwargs)
        return [spreadsheet_safe(value) for value in row]


def _blank(value):
    return "" if value is None else value


def csv_row(call: dict, *, updated_at) -> list:
    """One call as a row of `CSV_COLUMNS`, from its API representation (`calls.reading.representations`):
    lists as `|`-separated codes, a missing value as an empty cell; `updated_at` is the call's
    own instant (in UTC, as stored)."""
    row = [
        call["slug"], call["url"], call["title"], call["status"], call["call_type"],
        call["programme"]["slug"] if call["programme"] else "",
        "|".join(f"{funder['slug']}:{funder['role']}" for funder in call["funders"]),
        _blank(call["opens_on"]), _blank(call["closes_on"]), call["is_rolling"], call["recurrence"] or "",
        _blank(call["edition_year"]), call["discontinued"], _blank(call["next_deadline"]),
        _blank(call["total_budget_eur"]), _blank(call["max_ceiling_eur"]), _blank(call["floor_eur"]),
        _blank(call["funding_rate_min_pct"]), _blank(call["funding_rate_max_pct"]),
        "|".join(call["aid_forms"]), "|".join(call["beneficiaries"]), call["scope"], "|".join(call["regions"]),
        "|".join(call["themes"]), call["trl_min"] or "", call["trl_max"] or "", _blank(call["consortium_required"]),
        call["apply_url"] or "", call["publication_state"], _blank(call["last_verified_on"]), updated_at.isoformat(),
    ]
    return [spreadsheet_safe(value) for value in row]


def write_csv(calls, text_file):
    """The CSV of `calls`, an iterable of (API representation, `updated_at`), header first."""
    writer = csv.writer(text_file)
    writer.writerow(CSV_COLUMNS)
    for call, updated_at in calls:
        writer.writerow(csv_row(call, updated_at=updated_at))


def exported_calls(calls, *, request):
    """(API representation, `updated_at`) of each call of `calls`, in its order.

    Each representation is the call's stored document (the read model's `document`,
    `calls.reading.documents`, read by `calls.reading.representations.read_representations`) with today's
    status and next deadline, its public editions and the request's host: no model object, no
    serializer, no related rows read (a document missing or stale is rebuilt from its call, as the
    API's list does). `calls` carries `with_status()`; its
    related-row prefetches are dropped. Read in chunks: memory stays flat.
    """
    updated_at = representations.ROW.index("updated_at")
    rows = representations.document_rows(calls.prefetch_related(None)).iterator(chunk_size=CHUNK_SIZE)
    for chunk in batched(rows):
        instants = {row[0]: row[updated_at] for row in chunk}
        for pk, representation in representations.read_representations(chunk, request=request, using=calls.db).items():
            yield representation, instants[pk]


def batched(rows):
    """`rows` in lists of CHUNK_SIZE."""
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK_SIZE:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# The CSV for people: labels and column names in the page's language, `;` as separator and a
# byte order mark, so that a French spreadsheet (Excel, LibreOffice) opens it in columns with its
# accents. The machine CSV (codes, `,`) stays in the API.
PEOPLE_COLUMNS = [
    ("title", _("Title")), ("status", _("Status")), ("call_type", _("Type of call")), ("funders", _("Funders")),
    ("programme", _("Programme")), ("opens_on", _("Opens")), ("closes_on", _("Closes")),
    ("next_deadline", _("Next deadline")), ("max_ceiling", _("Highest ceiling (EUR)")),
    ("total_budget", _("Total budget (EUR)")), ("aid_forms", _("Forms of aid")),
    ("beneficiaries", _("Beneficiaries")), ("scope", _("Scope")), ("regions", _("Eligible regions")),
    ("themes", _("Themes")), ("trl", _("TRL")), ("apply_url", _("How to apply")), ("url", _("Page in the registry")),
    ("last_verified_on", _("Last verified on")),
]


class PeopleLabels:
    """What a people's row shows besides the call's representation, in the active language: the
    labels of codes, the names of regions and themes, in the order the site lists them."""

    def __init__(self, using):
        self.regions = {code: (rank, name) for rank, (code, name) in enumerate(
            Region.objects.using(using).values_list("code", "name"))}
        self.themes = {theme.slug: (rank, theme.label) for rank, theme in enumerate(
            Theme.objects.using(using).only("slug", "name", "name_en"))}

    @staticmethod
    def sorted_labels(choices, codes) -> str:
        return ", ".join(sorted(str(choices(code).label) for code in codes))

    @staticmethod
    def listed(known, codes) -> str:
        return ", ".join(label for _rank, label in sorted(known[code] for code in codes if code in known))


def _partial_date(call: dict, name: str) -> str:
    value = call[name]
    return format_partial_date(datetime.date.fromisoformat(value), call[f"{name}_precision"]) if value else ""


def people_row(call: dict, labels: PeopleLabels) -> list:
    """One call as people read it, from its API representation: labels in the active language,
    dates as the sources give them."""
    trl = ""
    if call["trl_min"] is not None or call["trl_max"] is not None:
        trl = f"{call['trl_min'] or 1}–{call['trl_max'] or 9}"
    closes = _partial_date(call, "closes_on")
    if call["is_rolling"] and not call["closes_on"]:
        closes = str(_("Rolling: no deadline"))
    values = {
        "title": call["title"], "status": str(Status(call["status"]).label),
        "call_type": str(CallType(call["call_type"]).label),
        "funders": ", ".join(funder["name"] for funder in call["funders"]),
        "programme": call["programme"]["name"] if call["programme"] else "",
        "opens_on": _partial_date(call, "opens_on"), "closes_on": closes,
        "next_deadline": _blank(call["next_deadline"]),
        "max_ceiling": _blank(call["max_ceiling_eur"]), "total_budget": _blank(call["total_budget_eur"]),
        "aid_forms": labels.sorted_labels(AidForm, call["aid_forms"]),
        "beneficiaries": labels.sorted_labels(Beneficiary, call["beneficiaries"]),
        "scope": str(Scope(call["scope"]).label), "regions": labels.listed(labels.regions, call["regions"]),
        "themes": labels.listed(labels.themes, call["themes"]), "trl": trl,
        "apply_url": call["apply_url"] or "", "url": call["url"],
        "last_verified_on": _blank(call["last_verified_on"]),
    }
    return [spreadsheet_safe(values[key]) for key, _label in PEOPLE_COLUMNS]


def write_people_csv(calls, text_file, *, build_url):
    """The people's CSV of `calls` (carrying `with_status()`), from their representations; each
    row links the call's page in the active language."""
    text_file.write("\ufeff")  # the byte order mark: spreadsheets then read UTF-8
    writer = csv.writer(text_file, delimiter=";")
    writer.writerow([str(label) for _key, label in PEOPLE_COLUMNS])
    labels = PeopleLabels(calls.db)
    for call, _updated_at in exported_calls(calls, request=None):
        call["url"] = build_url(reverse("call-detail", args=[call["slug"]]))
        writer.writerow(people_row(call, labels))


class SiteAddress:
    """What an export reads of its request: the site's address, always the canonical one
    (`SITE_URL`), never the request's `Host` (a port or a host name a client chose would start a
    build of its own, and put that address in the file)."""

    def build_absolute_uri(self, location="/"):
        return settings.SITE_URL.rstrip("/") + location


def people_csv_download(calls, *, filename: str) -> HttpResponse:
    """The search page's CSV: for people and their spreadsheets (see `PEOPLE_COLUMNS`), built
    once per search, language and registry version (while a build runs: the last file of this
    search, or a 503 with `Retry-After`). Its links are on `SITE_URL`."""
    build_url = SiteAddress().build_absolute_uri
    key = {"search": query_key(calls), "language": translation.get_language(), "site": settings.SITE_URL}
    try:
        file = cached_export(
            "search-csv", key=key, suffix=".csv", using=calls.db,
            write=lambda text_file: write_people_csv(calls, text_file, build_url=build_url),
        )
    except ExportBusy as busy:
        response = HttpResponse(str(busy) + "\n", status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(busy.retry_after)
        return response
    return export_response(file, filename=filename, content_type="text/csv; charset=utf-8")


# -- Built once per registry version, kept on disk ------------------------------------------------

# Sent after an export file was built (sender: its kind; `path`, `seconds`): what tests count.
export_built = Signal()

# The one lock that a builder holds, beside the files: one build at a time per export directory
# (per app server), whatever the export, the search or the query string.
BUILDER_LOCK = ".builder.lock"
# Files of an older generation not served for this long are removed (a search nobody asks again).
STALE_KEPT_SECONDS = 24 * 3600


class ExportBusy(Exception):
    """An export is being built and no earlier complete file of this one is there: try again later."""

    def __init__(self, retry_after=None):
        self.retry_after = int(retry_after or settings.EXPORT_RETRY_AFTER)
        super().__init__("This export is being built; try again in a moment.")


class ExportFile:
    """An export file open for reading, with when it was built and whether it is the registry as it
    is now (`stale`: the last complete file of this export, served while a fresh one is built)."""

    def __init__(self, file, *, stale: bool):
        self.file = file
        self.stale = stale
        self.built_at = os.fstat(file.fileno()).st_mtime  # the build's end: serving changes only atime


def query_key(queryset) -> str:
    """What a queryset reads, as text: its SQL and parameters (a search normalised by the filters
    themselves: two query strings meaning the same search give the same SQL)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return "nothing"
    return f"{sql} {params!r}"


def _digest(text: str, size: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def generation(using: str) -> str:
    """What the export files of the registry as it is now are named after: the registry version
    (moved by every write, `calls.reading.read_model`), the day (statuses and next deadlines change at
    midnight), and which database it is (the version row's last change and the database's
    address: a database recreated from scratch starts its numbers again)."""
    row = RegistryVersion.objects.using(using).filter(pk=1).values_list("number", "changed_at").first()
    number, changed_at = row or (0, None)
    database = connections[using].settings_dict
    origin = "|".join(str(part) for part in (
        database["ENGINE"], database.get("HOST"), database.get("PORT"), database["NAME"],
        changed_at.isoformat() if changed_at else "",
    ))
    return f"v{number}-{today():%Y%m%d}-{_digest(origin, 8)}"


def _directory() -> Path:
    directory = Path(settings.EXPORT_CACHE_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _open(path: Path):
    """`path` open for reading, marked as served now (its atime; the mtime stays the build's end),
    or None when it is not there."""
    try:
        file = open(path, "rb")  # noqa: SIM115 (closed by the response)
    except FileNotFoundError:
        return None
    try:
        stat = os.fstat(file.fileno())
        os.utime(file.fileno(), ns=(time.time_ns(), stat.st_mtime_ns))  # the size cap removes these last
    except OSError:
        pass
    return file


def cached_export(kind: str, *, key: dict, suffix: str, write, using: str) -> ExportFile:
    """The export file for `key`, open for reading: built by `write(text_file)` the first time at
    this generation, then read from `EXPORT_CACHE_DIR`. No request ever waits for a build.

    The file's name is `<kind>-<digest of kind and key>--<generation><suffix>`: the export (what
    its content depends on besides the registry: the search, the language, the site's address in
    the URLs), then the `generation` (registry version, day, database). The version is read before
    the rows, on the same database, so a file never holds rows older than its name says.

    When the file of this generation is missing, the request tries to become *the* builder: an
    exclusive, non-blocking `flock` on one lock file of the directory (`BUILDER_LOCK`), so one
    build runs at a time on an app server, whatever the export or the query string. The builder
    builds (the only thread busy with exports); any other request for a missing file is answered
    at once: the last complete file of the same export (an older generation, `stale`, with the
    date it was built), else `ExportBusy` (a 503 with `Retry-After`). A process that dies while
    building releases the lock with its file descriptors. The file is written under a temporary
    name and renamed when complete: a reader sees a whole file or none.

    After a build, files of other generations are removed once their export has a fresh file (the
    last one of each export stays until then, to be served while it is rebuilt, or until nobody
    has asked for it for a day), and the least recently served ones when the directory holds more
    than `EXPORT_CACHE_MAX_BYTES`.
    """
    current = generation(using)
    directory = _directory()
    export = f"{kind}-{_digest(repr((kind, sorted(key.items()))), 20)}--"
    path = directory / f"{export}{current}{suffix}"
    for _attempt in range(3):
        if (file := _open(path)) is not None:
            return ExportFile(file, stale=False)
        slot = _builder_slot(directory)
        if slot is None:  # another request is building (this export or another): never wait
            if (file := _last_complete(directory, export, suffix)) is not None:
                return ExportFile(file, stale=True)
            raise ExportBusy()
        try:
            if not path.exists():  # else built by the builder that held the slot just before
                _build(path, write, kind=kind)
                _prune(directory, current, keep=path)
        finally:
            os.close(slot)  # releases the lock
    raise ExportBusy()


def _builder_slot(directory: Path):
    """The builder's lock held (a file descriptor to close), or None when another request holds it."""
    descriptor = os.open(directory / BUILDER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def _last_complete(directory: Path, export: str, suffix: str):
    """The most recently built complete file of `export` (any generation), open, or None."""
    candidates = []
    for entry in os.scandir(directory):
        if entry.name.startswith(export) and entry.name.endswith(suffix):
            try:
                candidates.append((entry.stat().st_mtime, entry.path))
            except FileNotFoundError:
                continue
    for _mtime, name in sorted(candidates, reverse=True):
        if (file := _open(Path(name))) is not None:
            return file
    return None


def _build(path: Path, write, *, kind: str):
    started = time.monotonic()
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(partial, "w", encoding="utf-8", newline="", buffering=1024 * 1024) as text_file:
            write(text_file)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    seconds = time.monotonic() - started
    logger.info("export %s built in %.1f s: %s (%d bytes)", kind, seconds, path.name, path.stat().st_size)
    export_built.send(sender=kind, path=path, seconds=seconds)


def _prune(directory: Path, current: str, *, keep: Path):
    """Remove the files of other generations whose export has a file of this one (else keep the
    newest, the one served while it is rebuilt, unless nobody asked for it for a day), partial
    files left by a process that died while building, lock files of earlier versions, and the
    least recently served files beyond the size cap."""
    now = time.time()
    files = []
    for entry in os.scandir(directory):
        try:
            if entry.name == BUILDER_LOCK:
                continue
            if entry.name.endswith(".tmp"):
                if now - entry.stat().st_mtime > 3600:
                    os.unlink(entry.path)
            elif entry.name.endswith(".lock") or "--" not in entry.name:  # an earlier version's names
                os.unlink(entry.path)
            else:
                stat = entry.stat()
                export, _sep, rest = entry.name.partition("--")
                files.append((export, rest.startswith(current + "."), stat, entry.path))
        except FileNotFoundError:  # removed by another request meanwhile
            continue
    fresh = {export for export, is_current, _stat, _path in files if is_current}
    newest_stale = {}
    for export, is_current, stat, name in files:
        if not is_current and export not in fresh:
            if export not in newest_stale or stat.st_mtime > newest_stale[export][0]:
                newest_stale[export] = (stat.st_mtime, name)
    kept = []
    for export, is_current, stat, name in files:
        if not is_current and (export in fresh or newest_stale[export][1] != name
                               or now - stat.st_atime > STALE_KEPT_SECONDS):
            Path(name).unlink(missing_ok=True)
        else:
            kept.append((stat.st_atime, stat.st_size, name))
    total = sum(size for _atime, size, _name in kept)
    for _atime, size, name in sorted(kept):
        if total <= settings.EXPORT_CACHE_MAX_BYTES:
            break
        if name != str(keep):
            Path(name).unlink(missing_ok=True)
            total -= size


def export_response(export: ExportFile, *, filename: str, content_type: str) -> HttpResponse:
    """Serve a complete export file as a download, with its `Content-Length`, when it was built
    (`Last-Modified`, `X-Export-Built-At`) and, for the last complete file served while a fresh one
    is built, `X-Export-Stale: true`.

    With `EXPORT_ACCEL_REDIRECT` (nginx serving `EXPORT_CACHE_DIR` under that internal path), the
    answer names the file in `X-Accel-Redirect` and nginx sends it (docs/deploy.md).
    """
    file = export.file
    if settings.EXPORT_ACCEL_REDIRECT:
        name = Path(file.name).name
        file.close()
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.EXPORT_ACCEL_REDIRECT.rstrip("/") + "/" + name
        response["Content-Disposition"] = content_disposition_header(True, filename)
    else:
        size = os.fstat(file.fileno()).st_size
        response = FileResponse(file, as_attachment=True, filename=filename, content_type=content_type)
        response["Content-Length"] = str(size)
        response.block_size = 64 * 1024
    response["Last-Modified"] = http_date(export.built_at)
    response["X-Export-Built-At"] = datetime.datetime.fromtimestamp(export.built_at, datetime.UTC).isoformat(
        timespec="seconds")
    if export.stale:
        response["X-Export-Stale"] = "true"
    return response
