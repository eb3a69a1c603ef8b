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
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from . import fields as call_fields
from .choices import AidForm, Beneficiary, CallType, Scope, Status
from .dates import format_partial_date
from .querysets import today

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


class SpreadsheetSafeExportMixin:
    """For django-import-export resources: every exported cell goes through `spreadsheet_safe`."""

    def export_resource(self, instance, selected_fields=None, **kwargs):
        row = super().export_resource(instance, selected_fields, **kwargs)
        return [spreadsheet_safe(value) for value in row]


def _blank(value):
    return "" if value is None else value


def csv_row(call: dict, *, updated_at) -> list:
    """One call as a row of `CSV_COLUMNS`, from its API representation (`calls.api.documents`):
    lists as `|`-separated codes, a missing value as an empty cell; `updated_at` is the call's
    own instant (in UTC, as stored)."""
    row = [
        call["slug"], call["url"], call["title"], call["status"], call["call_type"],
        call["programme"]["slug"] if call["programme"] else "",
        "|".join(f"{funder['slug']}:{funder['role']}" for funder in call["funders"]),
        _blank(call["opens_on"]), _blank(call["closes_on"]), call["is_rolling"], _blank(call["next_deadline"]),
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


def representations(calls, *, request):
    """(API representation, `updated_at`) of each call of `calls`, in its order.

    Each representation is the call's stored document (the read model's `document`,
    `calls.api.documents`) with today's status and next deadline, its public editions and the
    request's host: no model object, no serializer, no related rows read (a document missing or
    stale is rebuilt from its call, as the API's list does). `calls` carries `with_status()`; its
    related-row prefetches are dropped. Read in chunks: memory stays flat.
    """
    from .api import documents

    updated_at = documents.ROW.index("updated_at")
    rows = documents.document_rows(calls.prefetch_related(None)).iterator(chunk_size=CHUNK_SIZE)
    for chunk in batched(rows):
        instants = {row[0]: row[updated_at] for row in chunk}
        for pk, representation in documents.read_representations(chunk, request=request, using=calls.db).items():
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
        from .models import Region, Theme

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
    for call, _updated_at in representations(calls, request=None):
        call["url"] = build_url(reverse("call-detail", args=[call["slug"]]))
        writer.writerow(people_row(call, labels))


def people_csv_download(calls, *, filename: str, build_url) -> HttpResponse:
    """The search page's CSV: for people and their spreadsheets (see `PEOPLE_COLUMNS`), built
    once per search, language and registry version (a 503 while another request builds it
    for longer than `EXPORT_BUILD_WAIT`)."""
    key = {"search": query_key(calls), "language": translation.get_language(), "site": build_url("/")}
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

# How often a request waiting for another's build looks whether the file is there.
WAIT_POLL_SECONDS = 0.1


class ExportBusy(Exception):
    """Another request has been building this export for longer than `EXPORT_BUILD_WAIT`."""

    retry_after = 60

    def __init__(self):
        super().__init__("This export is being built; try again in a minute.")


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
    (moved by every write, `calls.read_model`), the day (statuses and next deadlines change at
    midnight), and which database it is (the version row's last change and the database's
    address: a database recreated from scratch starts its numbers again)."""
    from .models import RegistryVersion

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


def cached_export(kind: str, *, key: dict, suffix: str, write, using: str):
    """The export file for `key` as the registry is now, open for reading: built by `write(text_file)`
    the first time, then read from `EXPORT_CACHE_DIR`.

    The file's name holds the `generation` (registry version, day, database) and a digest of
    `kind` and `key` (what else the content depends on: the search, the language, the site's
    address in the URLs). The version is read before the rows, on the same database, so a file
    never holds rows older than its name says; a write moves the version, and the next request
    builds a fresh file.

    One build at a time per file: the builder holds an exclusive lock (`flock`) on a lock file
    beside it; the others wait until the file is there (at most `EXPORT_BUILD_WAIT` seconds,
    then `ExportBusy`), so concurrent requests for the same export cost one build. A process
    that dies while building releases the lock with its file descriptors. The file is written
    under a temporary name and renamed when complete: a reader sees a whole file or none.

    After a build, the files of other generations are removed, and the least recently served
    ones when the directory holds more than `EXPORT_CACHE_MAX_BYTES`.
    """
    current = generation(using)
    directory = _directory()
    path = directory / f"{current}-{kind}-{_digest(repr((kind, sorted(key.items()))), 20)}{suffix}"
    for _attempt in range(3):
        if not path.exists():
            if _build_once(path, write, kind=kind):
                _prune(directory, current, keep=path)
        try:
            file = open(path, "rb")  # noqa: SIM115 (closed by the response)
        except FileNotFoundError:  # removed by another request's pruning in between: build again
            continue
        try:
            os.utime(file.fileno())  # when it was last served: the size cap removes these last
        except OSError:
            pass
        return file
    raise ExportBusy()


def _build_once(path: Path, write, *, kind: str) -> bool:
    """Build `path` unless another request is building it; wait for that one. True if built here."""
    lock_path = path.with_name(path.name + ".lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + settings.EXPORT_BUILD_WAIT
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if path.exists():  # the request holding the lock has finished
                    return False
                if time.monotonic() > deadline:
                    raise ExportBusy() from None
                time.sleep(WAIT_POLL_SECONDS)
        if path.exists():  # built while this request waited for the lock
            return False
        _build(path, write, kind=kind)
        return True
    finally:
        os.close(descriptor)  # releases the lock


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
    """Remove the files (and lock files) of other generations, partial files left by a process
    that died while building, and the least recently served files beyond the size cap."""
    now = time.time()
    kept = []
    for entry in os.scandir(directory):
        try:
            if entry.name.endswith(".tmp"):
                if now - entry.stat().st_mtime > max(settings.EXPORT_BUILD_WAIT, 3600):
                    os.unlink(entry.path)
            elif not entry.name.startswith(current + "-"):
                os.unlink(entry.path)
            elif not entry.name.endswith(".lock"):
                stat = entry.stat()
                kept.append((stat.st_mtime, stat.st_size, entry.path))
        except FileNotFoundError:  # removed by another request meanwhile
            continue
    total = sum(size for _mtime, size, _path in kept)
    for _mtime, size, name in sorted(kept):
        if total <= settings.EXPORT_CACHE_MAX_BYTES:
            break
        if name != str(keep):
            Path(name).unlink(missing_ok=True)
            total -= size


def export_response(file, *, filename: str, content_type: str) -> HttpResponse:
    """Serve a complete export file as a download, with its `Content-Length`.

    With `EXPORT_ACCEL_REDIRECT` (nginx serving `EXPORT_CACHE_DIR` under that internal path), the
    answer names the file in `X-Accel-Redirect` and nginx sends it (docs/deploy.md).
    """
    if settings.EXPORT_ACCEL_REDIRECT:
        name = Path(file.name).name
        file.close()
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.EXPORT_ACCEL_REDIRECT.rstrip("/") + "/" + name
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
    size = os.fstat(file.fileno()).st_size
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=content_type)
    response["Content-Length"] = str(size)
    response.block_size = 64 * 1024
    return response
