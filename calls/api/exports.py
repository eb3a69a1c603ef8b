"""Full export of the published registry, as JSON and as CSV.

Each file is built whole on disk (read in chunks: memory stays flat), once per registry version
and day, then served with its length: a client gets either the complete file or an error, never
a 200 whose body stops half way (see `calls.exports`). Requests made while it is being built
wait for that build; the next ones are served the same file until a write moves the version.

Open data under the Licence Ouverte / Open Licence 2.0 (Etalab): stated in a `Link` header
(rel="license") and an `X-License` header on both, and in the JSON body.
"""
import json

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone, translation
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.renderers import BaseRenderer

from calls.exports import ExportBusy, cached_export, export_response, query_key, representations, write_csv

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
        for representation, _updated_at in representations(calls, request=request):
            text_file.write(separator + json.dumps(representation, ensure_ascii=False))
            separator = ","
        text_file.write("]}")


class ExportBeingBuilt(APIException):
    """A JSON 503 with `Retry-After`: another request has been building this export too long."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "This export is being built; try again in a minute."
    default_code = "export_being_built"

    def __init__(self, wait):
        super().__init__()
        self.wait = wait  # DRF's exception handler turns it into `Retry-After`


def _download(kind, calls, *, request, suffix, write, filename, content_type) -> HttpResponse:
    # The file's URLs are built from the request's scheme and host; the language is the default.
    key = {"calls": query_key(calls), "site": request.build_absolute_uri("/")}
    try:
        file = cached_export(kind, key=key, suffix=suffix, write=write, using=calls.db)
    except ExportBusy as busy:
        raise ExportBeingBuilt(busy.retry_after) from None
    return licence_headers(export_response(file, filename=filename, content_type=content_type))


def json_download(calls, *, request) -> HttpResponse:
    """The JSON export of `calls` (a `calls_for_api()` queryset), built once, then served."""
    return _download(
        "api-json", calls, request=request, suffix=".json", filename="calls.json",
        content_type="application/json; charset=utf-8",
        write=lambda text_file: write_json(calls, text_file, request=request),
    )


def csv_download(calls, *, request) -> HttpResponse:
    """The machine CSV (`calls.exports.CSV_COLUMNS`) of `calls` (carrying `with_status()`), from
    the same representations as the JSON, with the licence stated."""

    def write(text_file):
        with translation.override(settings.LANGUAGE_CODE):
            write_csv(representations(calls, request=request), text_file)

    return _download(
        "api-csv", calls, request=request, suffix=".csv", filename="calls.csv",
        content_type="text/csv; charset=utf-8", write=write,
    )
