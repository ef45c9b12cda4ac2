"""Domain errors raised by services and mapped to the API error shape in one place."""

from typing import Any


class ApplicationError(Exception):
    """A business rule refused the request; `status` is the HTTP status the API answers."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = fields or {}
        self.extra = extra or {}


class NotFoundError(ApplicationError):
    status = 404
    code = "not_found"


class ConflictError(ApplicationError):
    status = 409
    code = "conflict"
