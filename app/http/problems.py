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

from app.http.input_bounds import MULTI_LINE_PATTERN, MULTI_LINE_REASON, SINGLE_LINE_PATTERN, TEXT_REASON
from app.http.request_id import request_id_of
from transfer.kernel.errors import DomainError, ErrorKind
from transfer.kernel.money import MoneyFormatError

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


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str,
    request_id: str | None,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The problem-details document itself; the raw ASGI bid path (app/bidding/fast_path.py) sends the
    same one as the handlers below."""
    body: dict[str, Any] = {
        "type": f"urn:ipx:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    if request_id:
        body["request_id"] = request_id
    return body


def domain_problem_body(
    error: DomainError, *, instance: str, request_id: str | None
) -> tuple[int, dict[str, Any]]:
    """A domain error's status and problem document."""
    status = STATUS_BY_KIND[error.kind]
    errors = [{"field": error.field, "reason": error.message}] if error.field else None
    body = problem_body(
        status,
        error.code,
        error.message,
        instance=instance,
        request_id=request_id,
        errors=errors,
        extra=error.extra,
    )
    return status, body


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
    body = problem_body(
        status,
        code,
        detail,
        instance=request.url.path,
        request_id=request_id_of(request.scope),
        errors=errors,
        extra=extra,
    )
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    status, body = domain_problem_body(
        error, instance=request.url.path, request_id=request_id_of(request.scope)
    )
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


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


# msgspec names the pattern a string failed; a client is better served by what it forbids.
_PATTERN_REASONS = {
    f"matching regex {SINGLE_LINE_PATTERN!r}": TEXT_REASON,
    f"matching regex {MULTI_LINE_PATTERN!r}": MULTI_LINE_REASON,
}


def _reason_of(item: dict[str, Any]) -> str:
    message = str(item.get("message", "is invalid"))
    for named, reason in _PATTERN_REASONS.items():
        if named in message:
            return reason
    return message


def _validation_error(request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    errors = []
    for item in error.extra if isinstance(error.extra, list) else []:
        if isinstance(item, dict):
            errors.append({"field": _field_of(item), "reason": _reason_of(item)})
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or str(error.detail)
    return problem(request, 422, "validation_failed", detail, errors=errors or None)


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    # An exception may name its own code (a revoked key, a suspended participant: app/http/auth.py).
    code = getattr(error, "problem_code", None) or {
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "body_too_large",
    }.get(status, "http_error")
    errors = None
    if status == 413:
        limit_bytes = request.route_handler.resolve_request_max_body_size()
        errors = [
            {"field": "body", "reason": f"the body must not exceed {limit_bytes} bytes (IPX_MAX_BODY_BYTES)"}
        ]
    # Litestar's 400s are malformed bodies (bad JSON); they are the client's, so 400 stays.
    return problem(request, status, code, str(error.detail), errors=errors, headers=error.headers)


def unexpected_problem_body(error: Exception, *, instance: str, request_id: str | None) -> dict[str, Any]:
    """Logs the error; the client learns only that it happened and the request id to quote."""
    log.error("unhandled error", path=instance, exc_info=error)
    return problem_body(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "an unexpected error occurred; it was logged",
        instance=instance,
        request_id=request_id,
    )


def _unexpected_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    body = unexpected_problem_body(error, instance=request.url.path, request_id=request_id_of(request.scope))
    return Response(body, status_code=HTTP_500_INTERNAL_SERVER_ERROR, media_type=PROBLEM_MEDIA_TYPE)


exception_handlers: dict[type[Exception] | int, Any] = {
    DomainError: _domain_error,
    MoneyFormatError: _money_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected_error,
}

__all__ = ["PROBLEM_MEDIA_TYPE", "MediaType", "exception_handlers", "problem"]
