"""Turning Quay's error answers (five body shapes, quay-api.md §2) into `QuayError`s."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx

from bot.i18n import Phrase
from bot.quay.errors import (
    QuayAlreadyExists,
    QuayAPIError,
    QuayBadRequest,
    QuayForbidden,
    QuayInvalidToken,
    QuayNotFound,
    QuayRateLimited,
    QuayServerError,
    QuayUnauthorized,
    QuayUnavailable,
    QuayUnexpectedResponse,
)
from bot.retry_after import retry_after_seconds as parse_retry_after

_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_MAX_DETAIL = 300


def error_detail(response: httpx.Response) -> tuple[str, str]:
    """Quay's message and error type, whatever the body shape.

    Order: problem JSON `detail`, then `message`, then `error` (often JSON under a text/html
    content type), then the page title or first line of the raw text.
    """
    text = response.text
    body: Any = None
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("detail", "message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return first_line(value), str(body.get("error_type") or body.get("title") or "")
    if "<" in text:
        match = _TITLE.search(text)
        text = match.group(1) if match else _TAG.sub(" ", text)
        text = html.unescape(text)
    return first_line(text) or f"HTTP {response.status_code}", ""


def first_line(text: str) -> str:
    """jsonschema details run to dozens of lines; people need the first."""
    for line in text.strip().splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= _MAX_DETAIL else line[: _MAX_DETAIL - 1] + "…"
    return ""


def retry_after_seconds(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("Retry-After"))


def raise_for_error(response: httpx.Response, *, what: object) -> None:
    """Raise the `QuayError` that `response` means; return if it is a success (< 300)."""
    status = response.status_code
    if status < 300:
        return
    method, path = response.request.method, response.request.url.path
    detail, error_type = error_detail(response)
    if status == 429:
        retry_after = retry_after_seconds(response)
        message = (
            Phrase(
                "Quay is rate-limiting requests while {what}. Retry after {seconds} s.",
                what=what,
                seconds=f"{retry_after:g}",
            )
            if retry_after is not None
            else Phrase("Quay is rate-limiting requests while {what}.", what=what)
        )
        raise QuayRateLimited(
            message,
            retry_after=retry_after,
            method=method,
            path=path,
        )
    if status in (502, 503, 504):
        reason = detail if "read-only" in detail else f"HTTP {status}"
        raise QuayUnavailable(
            Phrase("Quay is unavailable ({reason}) while {what}; try again shortly.", reason=reason, what=what),
            method=method,
            path=path,
        )
    kind, message = _classify(status, detail, what)
    raise kind(message, status=status, detail=detail, error_type=error_type, method=method, path=path)


def _classify(status: int, detail: str, what: object) -> tuple[type[QuayAPIError], Phrase]:
    if status == 401:
        return QuayUnauthorized, Phrase(
            "Quay treated the request as anonymous while {what} (401 {detail}): the Quay token is missing, "
            "invalid or expired, or lacks the scope this call needs.",
            what=what,
            detail=detail,
        )
    if status == 403 and "CSRF" in detail:
        return QuayInvalidToken, Phrase(
            "Quay refused the write while {what} as unauthenticated (CSRF check): the Quay token is probably "
            "invalid or expired.",
            what=what,
        )
    if status == 403:
        return QuayForbidden, Phrase(
            "Quay answered 403 Unauthorized while {what}: the token lacks the permission or scope for this, or "
            "it does not exist (Quay answers 403 for both).",
            what=what,
        )
    if status == 404:
        return QuayNotFound, Phrase("Not found while {what}.", what=what)
    if status == 400 and detail.startswith("No repository notification found"):
        return QuayNotFound, Phrase("Not found while {what}: {detail}", what=what, detail=detail)
    if status == 400 and detail == "Repository already exists":
        return QuayAlreadyExists, Phrase("Could not finish {what}: the repository already exists.", what=what)
    if status in (400, 402, 405, 415):
        return QuayBadRequest, Phrase("Quay refused the request while {what}: {detail}", what=what, detail=detail)
    if status >= 500:
        return QuayServerError, Phrase(
            "Quay failed with HTTP {status} while {what}: {detail}", status=status, what=what, detail=detail
        )
    return QuayUnexpectedResponse, Phrase(
        "Unexpected HTTP {status} from Quay while {what}: {detail}", status=status, what=what, detail=detail
    )


def json_body(response: httpx.Response, *, what: object) -> Any:
    try:
        return response.json()
    except ValueError:
        raise QuayUnexpectedResponse(
            Phrase(
                "Quay answered HTTP {status} with a body that is not JSON while {what}.",
                status=response.status_code,
                what=what,
            ),
            status=response.status_code,
            detail=first_line(response.text),
            method=response.request.method,
            path=response.request.url.path,
        ) from None


def unexpected(response: httpx.Response, *, what: object, why: object) -> QuayAPIError:
    return QuayUnexpectedResponse(
        Phrase("Unexpected answer from Quay while {what}: {why}.", what=what, why=why),
        status=response.status_code,
        detail=first_line(response.text),
        method=response.request.method,
        path=response.request.url.path,
    )
