"""The base error every domain raises; the web core maps it to one JSON envelope."""

from __future__ import annotations


class DomainError(Exception):
    """A mistake a user can cause: an HTTP 4xx with a stable code and a message a person understands."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class InvalidInput(DomainError):
    """The request's content is malformed or fails validation."""

    status = 400
    code = "invalid_input"


class NotAuthenticated(DomainError):
    """No valid session or token came with the request."""

    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    """The caller is known but their role may not do this."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """The thing asked for does not exist."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a stale transition)."""

    status = 409
    code = "conflict"


class TooManyRequests(DomainError):
    """The caller must slow down; `retry_after` says for how many seconds."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
