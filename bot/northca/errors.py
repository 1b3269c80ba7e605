"""Typed errors for the Northca Partner API.

`message` is always the API's own `error` text when there is one, otherwise a
short readable description. None of them ever carries the partner key.
"""

from __future__ import annotations


class NorthcaError(Exception):
    """Base class. `status` is the HTTP status, or None when no answer came."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status})" if self.status is not None else self.message

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later without anyone changing anything."""
        return False

    @property
    def ambiguous(self) -> bool:
        """Whether a write may have been applied even though it failed from our side."""
        return False


class NorthcaBadRequest(NorthcaError):
    """400: the body or parameters were rejected (e.g. `Invalid mdt_id`)."""


class NorthcaUnauthorized(NorthcaError):
    """401: missing or invalid partner key or required headers."""


class NorthcaForbidden(NorthcaError):
    """403: e.g. `MDT not linked to this guild`, or not the owner."""


class NorthcaNotFound(NorthcaError):
    """404: unknown resource (e.g. a link request id)."""


class NorthcaConflict(NorthcaError):
    """409: e.g. the link request was denied."""


class NorthcaGone(NorthcaError):
    """410: e.g. the link request expired."""


class NorthcaRateLimited(NorthcaError):
    """429: too many requests; `retry_after` is the wait asked for, in seconds."""

    def __init__(self, message: str, status: int | None = 429, retry_after: float | None = None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return True


class NorthcaServerError(NorthcaError):
    """5xx: the server failed; a write may or may not have been applied."""

    @property
    def retryable(self) -> bool:
        return True

    @property
    def ambiguous(self) -> bool:
        return True


class NorthcaUnavailable(NorthcaError):
    """No answer: timeout, refused connection, DNS failure, or the deadline ran out."""

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message, None)
        # False only when we know the request never left (connection refused, DNS).
        self.sent = sent

    @property
    def retryable(self) -> bool:
        return True

    @property
    def ambiguous(self) -> bool:
        return self.sent


class NorthcaAnswerTooLarge(NorthcaError):
    """The answer was larger than the client reads: a bad answer, refused unread.

    Not retryable (the same request would likely get the same answer), but a write that got
    it may have been applied."""

    @property
    def ambiguous(self) -> bool:
        return True


_BY_STATUS: dict[int, type[NorthcaError]] = {
    400: NorthcaBadRequest,
    401: NorthcaUnauthorized,
    403: NorthcaForbidden,
    404: NorthcaNotFound,
    409: NorthcaConflict,
    410: NorthcaGone,
    429: NorthcaRateLimited,
}


def error_for_status(status: int, message: str, retry_after: float | None = None) -> NorthcaError:
    if status == 429:
        return NorthcaRateLimited(message, status, retry_after)
    if status >= 500:
        return NorthcaServerError(message, status)
    cls = _BY_STATUS.get(status, NorthcaError)
    return cls(message, status)
