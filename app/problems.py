"""Every refusal as an RFC 9457 problem-details body, from one mapping.

Domain errors carry a kind (transfer/errors.py); this module alone turns kinds into status codes.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from transfer.errors import DomainError, ErrorKind
from transfer.money import MoneyFormatError

PROBLEM_MEDIA_TYPE = "application/problem+json"
STATUS_BY_KIND = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.FORBIDDEN: 403,
}
TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
log = structlog.get_logger("ipx.errors")


def problem(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    body: dict[str, Any] = {
        "type": f"urn:ipx:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        body["request_id"] = request_id
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    errors = [{"field": error.field, "reason": error.message}] if error.field else None
    return problem(
        request, STATUS_BY_KIND[error.kind], error.code, error.message, errors=errors, extra=error.extra
    )


def _money_error(request: Request[Any, Any, Any], error: MoneyFormatError) -> Response[Any]:
    return problem(
        request, 422, "invalid_amount", str(error), errors=[{"field": error.field, "reason": error.reason}]
    )


_MSGSPEC_PATH = re.compile(r"at `\$\.([^`]+)`")
_MSGSPEC_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


def _field_of(item: dict[str, Any]) -> str:
    """Name the field itself: msgspec reports body errors as key "data" with a `$.path` inside."""
    message = str(item.get("message", ""))
    for pattern in (_MSGSPEC_PATH, _MSGSPEC_FIELD):
        found = pattern.search(message)
        if found:
            return found.group(1)
    return str(item.get("key") or item.get("source") or "body")


def _validation_error(request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    errors = []
    for item in error.extra if isinstance(error.extra, list) else []:
        if isinstance(item, dict):
            errors.append({"field": _field_of(item), "reason": str(item.get("message", "is invalid"))})
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or str(error.detail)
    return problem(request, 422, "validation_failed", detail, errors=errors or None)


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
        status, "http_error"
    )
    # Litestar's 400s are malformed bodies (bad JSON); they are the client's, so 400 stays.
    return problem(request, status, code, str(error.detail), headers=error.headers)


def _unexpected_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.exception("unhandled error", path=request.url.path)
    return problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "an unexpected error occurred; it was logged",
    )


exception_handlers: dict[type[Exception] | int, Any] = {
    DomainError: _domain_error,
    MoneyFormatError: _money_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected_error,
}

__all__ = ["PROBLEM_MEDIA_TYPE", "MediaType", "exception_handlers", "problem"]
