"""Full export of the published registry, as JSON and as CSV.

Each file is built whole in a temporary file (read in chunks: memory stays flat), then served
with its length: a client gets either the complete file or an error, never a 200 whose body
stops half way (see `calls.exports`).

Open data under the Licence Ouverte / Open Licence 2.0 (Etalab): stated in a `Link` header
(rel="license") and an `X-License` header on both, and in the JSON body.
"""
import json

from django.conf import settings
from django.http import FileResponse
from django.utils import timezone, translation
from rest_framework.renderers import BaseRenderer

from calls.exports import CHUNK_SIZE, built_file, file_response, write_csv

from .serializers import CallSerializer

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
    """`{"licence": …, "generated_at": …, "calls": [<call>, …]}`, each call as in the API.

    Public page URLs are in the default language, whatever the request's.
    """
    serializer = CallSerializer(context={"request": request})
    head = {"licence": LICENCE, "generated_at": timezone.now().isoformat()}
    with translation.override(settings.LANGUAGE_CODE):
        text_file.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "calls": [')
        separator = ""
        for call in calls.iterator(chunk_size=CHUNK_SIZE):
            text_file.write(separator + json.dumps(serializer.to_representation(call), ensure_ascii=False))
            separator = ","
        text_file.write("]}")


def json_download(calls, *, request) -> FileResponse:
    """The JSON export of `calls` (a `calls_for_api()` queryset), built whole, then served."""
    file = built_file(lambda text_file: write_json(calls, text_file, request=request))
    response = file_response(file, filename="calls.json", content_type="application/json; charset=utf-8")
    return licence_headers(response)


def csv_download(calls, *, request) -> FileResponse:
    """The shared CSV export (`calls.exports`), with the licence stated."""
    with translation.override(settings.LANGUAGE_CODE):
        file = built_file(lambda text_file: write_csv(calls, text_file, build_url=request.build_absolute_uri))
    response = file_response(file, filename="calls.csv", content_type="text/csv; charset=utf-8")
    return licence_headers(response)
