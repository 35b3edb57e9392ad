"""The application's error family.

Services raise these; the API turns them into ``application/problem+json`` responses with a
stable ``code``. Each app keeps its codes in its own ``errors.py``.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A business rule refused the request. Maps to HTTP 409 unless ``status`` says otherwise."""

    status = 409
    code = "application_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        status: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra or {}
        self.field = field


class InvalidTransition(ApplicationError):
    """A state machine refused a transition (409)."""

    code = "invalid_transition"

    def __init__(self, *, entity: str, current: str, target: str, extra: dict | None = None):
        super().__init__(
            f"{entity} cannot go from '{current}' to '{target}'.",
            extra={"current_status": current, "target_status": target, **(extra or {})},
        )


class InvalidInput(ApplicationError):
    """Input that parses but breaks a rule of the domain, tied to one field (400)."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str, code: str | None = None, extra: dict | None = None):
        super().__init__(message, code=code, extra=extra, field=field)


class NotFound(ApplicationError):
    status = 404
    code = "not_found"
