"""RFC 9457 problem details for every error the API returns.

Shape::

    {"type": "https://open-mes.org/problems/<code>", "title": ..., "status": 409,
     "detail": ..., "code": "<code>", "instance": "/api/v1/...",
     "errors": [{"field": "quantity", "code": "invalid", "message": ...}], ...extra}
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from mes.errors import ApplicationError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://open-mes.org/problems/"

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    *, status_code: int, code: str, detail: str, errors: list[dict] | None = None, extra: dict | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if extra:
        for key, value in extra.items():
            body.setdefault(key, value)
    return body


def flatten_validation_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested error structure into ``[{field, code, message}]`` with dotted paths."""
    out: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") and not prefix else str(key)
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            out.extend(flatten_validation_errors(value, path))
    elif isinstance(detail, list):
        if all(isinstance(item, (str, exceptions.ErrorDetail)) for item in detail):
            for item in detail:
                out.append(
                    {
                        "field": prefix or "non_field_errors",
                        "code": getattr(item, "code", "invalid") or "invalid",
                        "message": str(item),
                    }
                )
        else:
            for index, item in enumerate(detail):
                if item:
                    out.extend(flatten_validation_errors(item, f"{prefix}[{index}]" if prefix else f"[{index}]"))
    else:
        out.append(
            {"field": prefix or "non_field_errors", "code": getattr(detail, "code", "invalid"), "message": str(detail)}
        )
    return out


def _problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    response = Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler: everything becomes problem+json."""
    request = context.get("request")
    instance = request.path if request is not None else None

    if isinstance(exc, ApplicationError):
        errors = None
        if exc.field:
            errors = [{"field": exc.field, "code": exc.code, "message": exc.message}]
        body = problem(status_code=exc.status, code=exc.code, detail=exc.message, errors=errors, extra=exc.extra)
        body["instance"] = instance
        return _problem_response(body)

    if isinstance(exc, (DataError, OverflowError)):
        # A value the database cannot hold (a year 0011 with a -17:06 offset, a number past the
        # column's precision): the client's input, so a 400 — never a 500.
        body = problem(
            status_code=400,
            code="value_out_of_range",
            detail="A value in the request is outside what can be stored or compared (date, time zone or number range).",
        )
        body["instance"] = instance
        return _problem_response(body)

    if isinstance(exc, IntegrityError):
        body = problem(
            status_code=409,
            code="conflict",
            detail="The change conflicts with existing data (a unique value is taken or a referenced row is in use).",
        )
        body["instance"] = instance
        return _problem_response(body)

    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = exceptions.ValidationError(detail=exc.message_dict)
        else:
            exc = exceptions.ValidationError(detail={"non_field_errors": exc.messages})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_validation_errors(exc.detail)
        fields = ", ".join(sorted({e["field"] for e in errors}))
        body = problem(
            status_code=400,
            code="validation_error",
            detail=f"The request has invalid fields: {fields}." if fields else "The request is invalid.",
            errors=errors,
        )
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        if not isinstance(code, str):
            code = "error"
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        extra = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            extra["retry_after_seconds"] = int(exc.wait)
        body = problem(status_code=response.status_code, code=code, detail=str(detail), extra=extra)
    body["instance"] = instance
    headers = {k: v for k, v in response.headers.items() if k in ("Allow", "Retry-After", "WWW-Authenticate")}
    return _problem_response(body, headers=headers)


def _django_problem(request, status_code: int, code: str, detail: str) -> JsonResponse:
    body = problem(status_code=status_code, code=code, detail=detail)
    body["instance"] = request.path
    return JsonResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def handler400(request, exception=None):
    return _django_problem(request, 400, "bad_request", "The request could not be understood.")


def handler403(request, exception=None):
    return _django_problem(request, 403, "permission_denied", "You do not have permission to do this.")


def handler404(request, exception=None):
    if not request.path.startswith(("/api/", "/health")):
        from django.views.defaults import page_not_found

        return page_not_found(request, exception)
    return _django_problem(request, 404, "not_found", "No such resource.")


def handler500(request):
    logger.error("unhandled error", extra={"path": request.path})
    if not request.path.startswith(("/api/", "/health")):
        from django.views.defaults import server_error

        return server_error(request)
    return _django_problem(request, 500, "server_error", "The server failed to handle the request.")


__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "problem",
    "problem_exception_handler",
    "handler400",
    "handler403",
    "handler404",
    "handler500",
    "status",
]
