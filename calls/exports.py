"""CSV of calls, shared by the search page's export and the API's full export.

An export is never cut: the whole file is built first, in a temporary file on disk (rows are
written as the queryset is read in chunks, so memory stays flat however many calls there are),
and only then is it served. A failure while building (the database going away, a statement
timeout) is an error response, never a 200 whose body stops half way: a streamed response
sends its 200 before the first row is read, and can only break the connection when a later
read fails, which a client takes for a complete, shorter file.

Cells a spreadsheet would run as a formula are neutralised (`spreadsheet_safe`), for every
export: the public CSV, the API's CSV and the admin's export.
"""
import csv
import io
import tempfile

from django.http import FileResponse
from django.utils.translation import gettext_lazy as _

CHUNK_SIZE = 500
# Files of the exports are kept in memory up to this size, on disk beyond.
SPOOL_BYTES = 1024 * 1024

CSV_COLUMNS = [
    "slug", "url", "title", "status", "call_type", "programme", "funders", "opens_on", "closes_on",
    "is_rolling", "next_deadline", "total_budget_eur", "max_ceiling_eur", "floor_eur",
    "funding_rate_min_pct", "funding_rate_max_pct", "aid_forms", "beneficiaries", "scope", "regions",
    "themes", "trl_min", "trl_max", "consortium_required", "apply_url", "publication_state",
    "last_verified_on", "updated_at",
]

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


def _codes(related):
    return "|".join(sorted(str(item.pk) for item in related.all()))


def csv_row(call, build_url) -> list:
    """One call as a CSV row; the call must come from `Call.objects.for_listing()`."""
    row = [
        call.slug, build_url(call.get_absolute_url()), call.title, call.current_status, call.call_type,
        call.programme.slug if call.programme_id else "",
        "|".join(f"{role.funder.slug}:{role.role}" for role in call.funder_roles.all()),
        call.opens_on or "", call.closes_on or "", call.is_rolling, call.next_deadline or "",
        call.total_budget_eur if call.total_budget_eur is not None else "",
        call.max_ceiling if call.max_ceiling is not None else "",
        call.floor_eur if call.floor_eur is not None else "",
        call.funding_rate_min_pct if call.funding_rate_min_pct is not None else "",
        call.funding_rate_max_pct if call.funding_rate_max_pct is not None else "",
        _codes(call.aid_forms), _codes(call.beneficiaries), call.scope, _codes(call.regions),
        "|".join(sorted(theme.slug for theme in call.themes.all())),
        call.trl_min or "", call.trl_max or "",
        "" if call.consortium_required is None else call.consortium_required,
        call.apply_url, call.publication_state, call.last_verified_on or "", call.updated_at.isoformat(),
    ]
    return [spreadsheet_safe(value) for value in row]


def built_file(write) -> io.BufferedRandom:
    """A temporary binary file that `write(text_file)` filled, rewound: the complete export."""
    binary = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        write(text)
        text.flush()
        text.detach()
        binary.seek(0)
    except BaseException:
        binary.close()
        raise
    return binary


def file_response(file, *, filename: str, content_type: str) -> FileResponse:
    """Serve a complete export file as a download (its length is known: Content-Length is set)."""
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    response = FileResponse(file, as_attachment=True, filename=filename, content_type=content_type)
    response["Content-Length"] = str(size)
    response.block_size = 64 * 1024
    return response


def write_csv(calls, text_file, *, build_url):
    """The CSV of `calls` (a `for_listing()` queryset), header first, read in chunks."""
    writer = csv.writer(text_file)
    writer.writerow(CSV_COLUMNS)
    for call in calls.iterator(chunk_size=CHUNK_SIZE):
        writer.writerow(csv_row(call, build_url))


def csv_download(calls, *, filename: str, build_url) -> FileResponse:
    """A CSV download of `calls` (a `for_listing()` queryset), built whole before it is sent."""
    file = built_file(lambda text_file: write_csv(calls, text_file, build_url=build_url))
    return file_response(file, filename=filename, content_type="text/csv; charset=utf-8")


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


def _labels(related):
    return ", ".join(sorted(str(item) for item in related.all()))


def people_row(call, build_url) -> list:
    """One call as people read it: labels in the active language, dates as the sources give them."""
    trl = ""
    if call.trl_min is not None or call.trl_max is not None:
        trl = f"{call.trl_min or 1}–{call.trl_max or 9}"
    closes = call.closes_on_display
    if call.is_rolling and not call.closes_on:
        closes = str(_("Rolling: no deadline"))
    values = {
        "title": call.title, "status": str(call.get_status_display()), "call_type": str(call.get_call_type_display()),
        "funders": ", ".join(role.funder.name for role in call.funder_roles.all()),
        "programme": call.programme.name if call.programme_id else "",
        "opens_on": call.opens_on_display, "closes_on": closes,
        "next_deadline": call.next_deadline.isoformat() if call.next_deadline else "",
        "max_ceiling": call.max_ceiling if call.max_ceiling is not None else "",
        "total_budget": call.total_budget_eur if call.total_budget_eur is not None else "",
        "aid_forms": _labels(call.aid_forms), "beneficiaries": _labels(call.beneficiaries),
        "scope": str(call.get_scope_display()), "regions": ", ".join(r.name for r in call.regions.all()),
        "themes": ", ".join(theme.label for theme in call.themes.all()), "trl": trl,
        "apply_url": call.apply_url, "url": build_url(call.get_absolute_url()),
        "last_verified_on": call.last_verified_on.isoformat() if call.last_verified_on else "",
    }
    return [spreadsheet_safe(values[key]) for key, _label in PEOPLE_COLUMNS]


def write_people_csv(calls, text_file, *, build_url):
    text_file.write("\ufeff")  # the byte order mark: spreadsheets then read UTF-8
    writer = csv.writer(text_file, delimiter=";")
    writer.writerow([str(label) for _key, label in PEOPLE_COLUMNS])
    for call in calls.iterator(chunk_size=CHUNK_SIZE):
        writer.writerow(people_row(call, build_url))


def people_csv_download(calls, *, filename: str, build_url) -> FileResponse:
    """The search page's CSV: for people and their spreadsheets (see `PEOPLE_COLUMNS`)."""
    file = built_file(lambda text_file: write_people_csv(calls, text_file, build_url=build_url))
    return file_response(file, filename=filename, content_type="text/csv; charset=utf-8")
