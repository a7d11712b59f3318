"""Turning Quay's error answers (five body shapes, quay-api.md §2) into `QuayError`s."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx

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


def raise_for_error(response: httpx.Response, *, what: str) -> None:
    """Raise the `QuayError` that `response` means; return if it is a success (< 300)."""
    status = response.status_code
    if status < 300:
        return
    method, path = response.request.method, response.request.url.path
    detail, error_type = error_detail(response)
    if status == 429:
        retry_after = retry_after_seconds(response)
        wait = f" Retry after {retry_after:g} s." if retry_after is not None else ""
        raise QuayRateLimited(
            f"Quay is rate-limiting requests while {what}.{wait}",
            retry_after=retry_after,
            method=method,
            path=path,
        )
    if status in (502, 503, 504):
        reason = detail if "read-only" in detail else f"HTTP {status}"
        raise QuayUnavailable(
            f"Quay is unavailable ({reason}) while {what}; try again shortly.", method=method, path=path
        )
    kind, message = _classify(status, detail, what)
    raise kind(message, status=status, detail=detail, error_type=error_type, method=method, path=path)


def _classify(status: int, detail: str, what: str) -> tuple[type[QuayAPIError], str]:
    if status == 401:
        return QuayUnauthorized, (
            f"Quay treated the request as anonymous while {what} (401 {detail}): the Quay token is "
            "missing, invalid or expired, or lacks the scope this call needs."
        )
    if status == 403 and "CSRF" in detail:
        return QuayInvalidToken, (
            f"Quay refused the write while {what} as unauthenticated (CSRF check): the Quay token is "
            "probably invalid or expired."
        )
    if status == 403:
        return QuayForbidden, (
            f"Quay answered 403 Unauthorized while {what}: the token lacks the permission or scope for "
            "this, or it does not exist (Quay answers 403 for both)."
        )
    if status == 404:
        return QuayNotFound, f"Not found while {what}."
    if status == 400 and detail.startswith("No repository notification found"):
        return QuayNotFound, f"Not found while {what}: {detail}"
    if status == 400 and detail == "Repository already exists":
        return QuayAlreadyExists, f"Could not finish {what}: the repository already exists."
    if status in (400, 402, 405, 415):
        return QuayBadRequest, f"Quay refused the request while {what}: {detail}"
    if status >= 500:
        return QuayServerError, f"Quay failed with HTTP {status} while {what}: {detail}"
    return QuayUnexpectedResponse, f"Unexpected HTTP {status} from Quay while {what}: {detail}"


def json_body(response: httpx.Response, *, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise QuayUnexpectedResponse(
            f"Quay answered HTTP {response.status_code} with a body that is not JSON while {what}.",
            status=response.status_code,
            detail=first_line(response.text),
            method=response.request.method,
            path=response.request.url.path,
        ) from None


def unexpected(response: httpx.Response, *, what: str, why: str) -> QuayAPIError:
    return QuayUnexpectedResponse(
        f"Unexpected answer from Quay while {what}: {why}.",
        status=response.status_code,
        detail=first_line(response.text),
        method=response.request.method,
        path=response.request.url.path,
    )
