"""orjson for the API's JSON: parsing and rendering event batches is on the hot path.

The parser is also the API's one guard against hostile bodies, before any view or service
sees them: a body larger than the endpoint's limit (413), nesting deeper than
API_MAX_JSON_DEPTH and NUL characters in any key or string (422, with the field path)."""

import orjson
from django.conf import settings
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

from core.errors import ValidationFailed

NUL = "\x00"


class RequestTooLarge(APIException):
    """413 in Lago's shape: {"status": 413, "error": ..., "code": "request_too_large"}."""

    status_code = 413
    default_detail = "Request Entity Too Large"
    default_code = "request_too_large"


def max_body_bytes(view) -> int:
    """The endpoint's body limit: a view names its setting in `max_body_setting`."""
    name = getattr(view, "max_body_setting", None) or "API_MAX_BODY_BYTES"
    return getattr(settings, name)


def field_path(parts: list) -> str:
    """`name`, `billing_configuration.tax_ids.0`, `events.3.properties.a` (NUL shown escaped)."""
    return ".".join(str(part).replace(NUL, "\\u0000") for part in parts) or "base"


def _without_envelope(data, parts: list) -> list:
    """Drop Lago's root key ({"customer": {...}}) so paths match the services' field names."""
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), dict):
        return parts[1:]
    return parts


def hostile_value_errors(data) -> dict:
    """{path: [code]} for the first NUL or too deep a nesting found; {} when the body is sane.
    Iterative, so a deep body cannot exhaust Python's stack here."""
    limit = settings.API_MAX_JSON_DEPTH
    stack = [([], data, 1)]
    while stack:
        parts, value, depth = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return {field_path(_without_envelope(data, parts)): ["invalid_characters"]}
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > limit:
            return {field_path(_without_envelope(data, parts)[:3]): ["nesting_too_deep"]}
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and NUL in key:
                return {field_path(_without_envelope(data, [*parts, key])): ["invalid_characters"]}
            stack.append(([*parts, key], item, depth + 1))
    return {}


class OrjsonParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        view = (parser_context or {}).get("view")
        limit = max_body_bytes(view)
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge()
        if not body:
            return {}
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        errors = hostile_value_errors(data)
        if errors:
            raise ValidationFailed(errors)
        return data


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
