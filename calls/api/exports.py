"""Full export of the published registry, as JSON and as CSV.

Each file is built whole on disk (read in chunks: memory stays flat), once per registry version
and day, then served with its length: a client gets either the complete file or an error, never
a 200 whose body stops half way (see `calls.reading.exports`). Requests made while it is being built
wait for nothing: they get the previous file (`X-Export-Stale`) or a 503 with Retry-After, which
does not count against the client's export rate; once built, every request is served the same
file until a write the public sees moves the version. Links in the files are on `SITE_URL`.

Open data under the Licence Ouverte / Open Licence 2.0 (Etalab): stated in a `Link` header
(rel="license") and an `X-License` header on both, and in the JSON body.
"""
import json

from django.conf import settings
from django.db import connections
from django.http import HttpResponse
from django.utils import timezone, translation
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.renderers import BaseRenderer

from calls.reading import representations
from calls.reading.exports import (
    CHUNK_SIZE,
    ExportBusy,
    SiteAddress,
    batched,
    cached_export,
    export_response,
    exported_calls,
    query_key,
    write_csv,
)
from registry.throttling import refund

LICENCE = {
    "name": "Licence Ouverte / Open Licence 2.0 (Etalab)",
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    "attribution": "Registre des appels à projets bioproduction",
}


class CSVRenderer(BaseRenderer):
    """Lets clients ask for `text/csv`; the export streams its own body, errors render as text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):
            return "\n".join(f"{key}: {value}" for key, value in data.items()).encode()
        return data


def licence_headers(response):
    response["Link"] = f'<{LICENCE["url"]}>; rel="license"'
    response["X-License"] = LICENCE["name"]
    return response


def write_json(calls, text_file, *, request):
    """`{"licence": …, "generated_at": …, "calls": [<call>, …]}`, each call as in the API
    (`representations`). Public page URLs are in the default language, whatever the request's."""
    head = {"licence": LICENCE, "generated_at": timezone.now().isoformat()}
    with translation.override(settings.LANGUAGE_CODE):
        text_file.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "calls": [')
        separator = ""
        for text in _representation_texts(calls, request=request):
            text_file.write(separator + text)
            separator = ","
        text_file.write("]}")


def _representation_texts(calls, *, request):
    """Each call's representation as JSON text, in `calls`' order. On PostgreSQL each stored
    document is read as text and completed without being decoded or encoded again (a document
    that is not current is built from its call, a chunk at a time); elsewhere each representation
    is encoded here."""
    if connections[calls.db].vendor != "postgresql":
        for representation, _updated_at in exported_calls(calls, request=request):
            yield json.dumps(representation, ensure_ascii=False)
        return
    rows = representations.document_texts(calls.prefetch_related(None))
    root = representations.site_root(request)
    for chunk in batched(rows.iterator(chunk_size=CHUNK_SIZE)):
        texts = {row[0]: representations.representation_text(row, root=root) for row in chunk}
        stale = [pk for pk, text in texts.items() if text is None]
        rebuilt = representations.read_representations(
            representations.document_rows(calls.filter(pk__in=stale).prefetch_related(None)), request=request,
            using=calls.db,
        ) if stale else {}
        for pk, text in texts.items():
            if text is not None:
                yield text
            elif pk in rebuilt:  # else deleted since its row was read
                yield json.dumps(rebuilt[pk], ensure_ascii=False)


class ExportBeingBuilt(APIException):
    """A JSON 503 with `Retry-After`: the export is being built and no earlier file of it is kept."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "This export is being built; try again in a moment."
    default_code = "export_being_built"

    def __init__(self, wait):
        super().__init__()
        self.wait = wait  # DRF's exception handler turns it into `Retry-After`


def _download(kind, calls, *, suffix, write, filename, content_type) -> HttpResponse:
    # The file's URLs are on the canonical address (`SITE_URL`), whatever the request's Host; the
    # language is the default.
    key = {"calls": query_key(calls), "site": settings.SITE_URL}
    try:
        file = cached_export(kind, key=key, suffix=suffix, write=write, using=calls.db)
    except ExportBusy as busy:
        raise ExportBeingBuilt(busy.retry_after) from None
    return licence_headers(export_response(file, filename=filename, content_type=content_type))


def json_download(calls, *, request) -> HttpResponse:
    """The JSON export of `calls` (a `calls_for_api()` queryset), built once, then served."""
    return _refunded_when_busy(request, lambda: _download(
        "api-json", calls, suffix=".json", filename="calls.json", content_type="application/json; charset=utf-8",
        write=lambda text_file: write_json(calls, text_file, request=SiteAddress()),
    ))


def csv_download(calls, *, request) -> HttpResponse:
    """The machine CSV (`calls.reading.exports.CSV_COLUMNS`) of `calls` (carrying `with_status()`), from
    the same representations as the JSON, with the licence stated."""

    def write(text_file):
        with translation.override(settings.LANGUAGE_CODE):
            write_csv(exported_calls(calls, request=SiteAddress()), text_file)

    return _refunded_when_busy(request, lambda: _download(
        "api-csv", calls, suffix=".csv", filename="calls.csv",
        content_type="text/csv; charset=utf-8", write=write,
    ))


def _refunded_when_busy(request, download):
    """`download()`; when it is a 503 (the export being built), the client's export count is
    taken back: coming back after Retry-After does not use up its rate."""
    try:
        return download()
    except ExportBeingBuilt:
        refund(request)
        raise
