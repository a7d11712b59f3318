"""One exception tree for everything that can go wrong talking to Quay.

    QuayError
    ├── QuayInputError            refused before sending (bad name, unknown event or method, …)
    ├── QuayUnavailable           no usable answer, and nothing changed: refused, timed out, 502/503/504
    │   ├── QuayTimeout
    │   └── QuayTLSError          the TLS handshake failed (certificate, protocol)
    ├── QuayOutcomeUnknown        a write was sent but its answer was lost: it may have happened
    ├── QuayRateLimited           429, with Retry-After when Quay (or a proxy) sent one
    └── QuayAPIError              Quay answered with an error status
        ├── QuayBadRequest        400, 405, 415
        │   └── QuayAlreadyExists
        ├── QuayUnauthorized      401: the request was treated as anonymous
        ├── QuayInvalidToken      403 CSRF on a write: the token is probably invalid or expired
        ├── QuayForbidden         403: no permission or scope, or the thing does not exist
        ├── QuayNotFound          404, or a "success" that the client proved was about nothing
        ├── QuayServerError       500 and other 5xx
        └── QuayUnexpectedResponse  a status or body this client does not understand

Every error carries the HTTP method and path (never the token) and a message a person can act on.
"""

from __future__ import annotations

from bot.i18n import Phrase


class QuayError(Exception):
    """Base of every Quay failure. `str()` is a sentence fit for a user, in English; `said(locale)` the
    same in a channel's language."""

    def __init__(self, message: str | Phrase, *, method: str = "", path: str = "") -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.phrase = message if isinstance(message, Phrase) else None
        self.method = method
        self.path = path

    def said(self, locale: str) -> str:
        return self.phrase.said(locale) if self.phrase is not None else self.message


class QuayInputError(QuayError, ValueError):
    """The request was refused before anything was sent."""


class QuayUnavailable(QuayError):
    """Quay could not be reached, or answered that it cannot serve now."""


class QuayTimeout(QuayUnavailable):
    pass


class QuayTLSError(QuayUnavailable):
    """Retrying will not help: the certificate or protocol is wrong."""


class QuayOutcomeUnknown(QuayError):
    """A write was sent and no answer came back: it may or may not have happened. Not a kind of
    `QuayUnavailable`, whose advice ("nothing was done, try again") would be wrong here."""


class QuayRateLimited(QuayError):
    def __init__(
        self, message: str | Phrase, *, retry_after: float | None = None, method: str = "", path: str = ""
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.retry_after = retry_after


class QuayAPIError(QuayError):
    """Quay answered with an error. `detail` is Quay's own message (first line only)."""

    def __init__(
        self,
        message: str | Phrase,
        *,
        status: int,
        detail: str = "",
        error_type: str = "",
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.status = status
        self.detail = detail
        self.error_type = error_type


class QuayBadRequest(QuayAPIError):
    pass


class QuayAlreadyExists(QuayBadRequest):
    pass


class QuayUnauthorized(QuayAPIError):
    pass


class QuayInvalidToken(QuayAPIError):
    pass


class QuayForbidden(QuayAPIError):
    pass


class QuayNotFound(QuayAPIError):
    pass


class QuayServerError(QuayAPIError):
    pass


class QuayUnexpectedResponse(QuayAPIError):
    pass
