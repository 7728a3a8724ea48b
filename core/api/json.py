"""orjson for the API's JSON: parsing and rendering event batches is on the hot path."""

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer


class OrjsonParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        if not body:
            return {}
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if settings.DEBUG else 0)
        try:
            return orjson.dumps(data, default=str, option=option)
        except orjson.JSONEncodeError:
            # An integer of 64 bits or more (a jsonb number stored before the range checks,
            # see core/limits.py): written as a string rather than failing the whole read.
            return orjson.dumps(big_ints_as_strings(data), default=str, option=option)


def big_ints_as_strings(data):
    """A copy of `data` with every integer outside orjson's 64-bit range as its decimal text."""
    if isinstance(data, dict):
        return {key: big_ints_as_strings(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [big_ints_as_strings(value) for value in data]
    if isinstance(data, int) and not isinstance(data, bool) and not _fits_orjson(data):
        return str(data)
    return data


def _fits_orjson(number: int) -> bool:
    return -(2**63) <= number < 2**64
