"""Every API error as JSON in Lago's shape: {"status", "error", "code"?, "error_details"?}."""

import logging
import math
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import NotAllowed, NotFound, RuleViolation, ValidationFailed

logger = logging.getLogger(__name__)

# DRF's built-in codes mapped to Lago's reason codes.
_CODE_MAP = {
    "required": "value_is_mandatory",
    "null": "value_is_mandatory",
    "blank": "value_is_mandatory",
    "empty": "value_is_mandatory",
    "invalid": "invalid_format",
    "date": "invalid_format",
    "datetime": "invalid_format",
    "not_a_list": "invalid_format",
    "not_a_dict": "invalid_format",
    "invalid_choice": "value_is_invalid",
    "max_value": "value_is_out_of_range",
    "min_value": "value_is_out_of_range",
    "max_length": "value_is_too_long",
    "max_digits": "value_is_invalid",
    "max_decimal_places": "value_is_invalid",
    "max_whole_digits": "value_is_invalid",
    "unique": "value_already_exist",
}


def error_body(status: int, code: str | None = None, details=None, error: str | None = None):
    """The JSON body Lago sends for an error."""
    body: dict = {"status": status, "error": error or HTTPStatus(status).phrase}
    if code:
        body["code"] = code
    if details is not None:
        body["error_details"] = details
    return body


def _lago_codes(codes):
    """Translate DRF's nested code structure to Lago's codes, keeping its shape."""
    if isinstance(codes, dict):
        return {key: _lago_codes(value) for key, value in codes.items()}
    if isinstance(codes, list):
        return [_lago_codes(value) for value in codes]
    return _CODE_MAP.get(codes, codes)


def validation_details(codes) -> dict:
    """{"field": ["code", ...]}; non-field errors go under "base"."""
    codes = _lago_codes(codes)
    if isinstance(codes, list):
        return {"base": codes}
    return {("base" if key == "non_field_errors" else key): value for key, value in codes.items()}


# PostgreSQL SQLSTATEs of a server that is going away or not accepting connections yet.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}
_SQLITE_UNAVAILABLE = ("unable to open database file",)


def is_database_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached (down, restarting, connection lost), as opposed to a
    query that failed on a live database: SQLite's "database is locked" or a PostgreSQL
    deadlock are OperationalErrors too, and stay 500s. psycopg reports a failed connection
    without a SQLSTATE, or with one of class 08 (connection exception)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if cause is not None and hasattr(cause, "sqlstate"):
        state = cause.sqlstate
        return state is None or state.startswith("08") or state in _UNAVAILABLE_SQLSTATES
    return str(exc).startswith(_SQLITE_UNAVAILABLE)


def database_unavailable_response(response_class=Response):
    """503 `database_unavailable` with Retry-After, as /healthz answers when a dependency is
    down: clients retry later instead of treating the request as failed for good."""
    logger.error("API request while the database is unavailable")
    response = response_class(error_body(503, "database_unavailable"), status=503)
    response["Retry-After"] = str(settings.API_UNAVAILABLE_RETRY_AFTER_SECONDS)
    return response


def _resource_of(context) -> str:
    view = context.get("view") if context else None
    return getattr(view, "lago_resource", None) or "resource"


def lago_exception_handler(exc, context):
    """DRF exception handler producing Lago-shaped JSON for every failure."""
    headers = {}
    if is_database_unavailable(exc):
        return database_unavailable_response()
    if isinstance(exc, ValidationFailed):
        set_rollback()
        return Response(error_body(422, "validation_errors", exc.errors), status=422)
    if isinstance(exc, NotFound):
        set_rollback()
        return Response(error_body(404, exc.code), status=404)
    if isinstance(exc, NotAllowed):
        set_rollback()
        return Response(error_body(405, exc.code), status=405)
    if isinstance(exc, RuleViolation):
        set_rollback()
        return Response(
            error_body(422, exc.code, {exc.code: exc.message}),
            status=422,
        )
    if isinstance(exc, Http404 | exceptions.NotFound):
        status, body = 404, error_body(404, f"{_resource_of(context)}_not_found")
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        status, body = 401, error_body(401)
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(exc, exceptions.ValidationError):
        status = 422
        body = error_body(422, "validation_errors", validation_details(exc.get_codes()))
    elif isinstance(exc, exceptions.ParseError):
        status, body = 400, error_body(400, "bad_request", error=f"BadRequest: {exc.detail}")
    elif isinstance(exc, exceptions.MethodNotAllowed):
        status, body = 405, error_body(405, "not_allowed")
    elif isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
        status, body = 403, error_body(403, "forbidden")
    elif isinstance(exc, exceptions.Throttled):
        status, body = 429, error_body(429, "too_many_requests")
        headers.update(getattr(exc, "ratelimit_headers", {}))
        headers["Retry-After"] = str(math.ceil(exc.wait or 1))
    elif isinstance(exc, exceptions.APIException):
        status = exc.status_code
        body = error_body(status, exc.get_codes() if isinstance(exc.get_codes(), str) else None)
    else:
        logger.exception("unhandled API error", exc_info=exc)
        status, body = 500, error_body(500, "internal_error")
    set_rollback()
    return Response(body, status=status, headers=headers)
