"""JSON bodies of partners' submissions, within limits a legitimate submission never reaches.

- `MAX_BODY_BYTES` (256 KiB): a larger body is refused with 413 before it is parsed, whether it
  declares its length or not;
- `MAX_DEPTH` (20 levels of objects and arrays; a submission needs 3: the call, a list such as
  `rounds`, a row; a property the schema does not define is a 400 naming it, in the serializers):
  deeper JSON is a 400, whatever its depth (a naive parser would recurse until
  Python's stack gives out, a 500);
- `NaN`, `Infinity` and invalid UTF-8 are a 400, as in DRF's strict JSON.
"""
import json
import re

from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 20

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = lazy(lambda: _("The body is larger than %(size)d KiB.") % {"size": MAX_BODY_BYTES // 1024}, str)()
    default_code = "body_too_large"


def nesting_depth(text: str) -> int:
    """How deeply objects and arrays nest in a JSON text (strings' contents left aside)."""
    depth = deepest = 0
    for char in _STRING.sub('""', text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


class SubmissionJSONParser(JSONParser):
    """DRF's JSON parser, with the limits above."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and str(declared).isdigit() and int(declared) > MAX_BODY_BYTES:
            raise BodyTooLarge()
        body = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise ParseError(_("The body is not valid UTF-8 JSON.")) from error
        if nesting_depth(text) > MAX_DEPTH:
            raise ParseError(_("JSON nested deeper than %(depth)d levels.") % {"depth": MAX_DEPTH})
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as error:
            raise ParseError(_("JSON parse error: %(error)s") % {"error": error}) from error
