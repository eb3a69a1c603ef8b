"""Full export of the published registry, as JSON and as CSV, streamed chunk by chunk.

Open data under the Licence Ouverte / Open Licence 2.0 (Etalab): stated in a `Link` header
(rel="license") and an `X-License` header on both, and in the JSON body.
"""
import json

from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from rest_framework.renderers import BaseRenderer

from calls.exports import CHUNK_SIZE, stream_csv

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


def _in_default_language(chunks):
    """Public page URLs in the default language, whatever the request's (the body streams later)."""
    with translation.override(settings.LANGUAGE_CODE):
        yield from chunks


def stream_json(calls, *, request) -> StreamingHttpResponse:
    """`{"licence": …, "generated_at": …, "calls": [<call>, …]}`, each call as in the API."""
    serializer = CallSerializer(context={"request": request})

    def chunks():
        head = {"licence": LICENCE, "generated_at": timezone.now().isoformat()}
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "calls": ['
        separator = ""
        for call in calls.iterator(chunk_size=CHUNK_SIZE):
            yield separator + json.dumps(serializer.to_representation(call), ensure_ascii=False)
            separator = ","
        yield "]}"

    response = StreamingHttpResponse(
        _in_default_language(chunks()), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="calls.json"'
    return licence_headers(response)


def stream_calls_csv(calls, *, request) -> StreamingHttpResponse:
    """The shared CSV export (`calls.exports`), with the licence stated."""
    response = stream_csv(calls, filename="calls.csv", build_url=request.build_absolute_uri)
    response.streaming_content = _in_default_language(response.streaming_content)
    return licence_headers(response)
