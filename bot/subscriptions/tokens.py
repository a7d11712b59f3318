"""The secret in a subscription's webhook URL: Quay sends no signature, so the URL is the credential.

256 random bits, URL-safe; only its SHA-256 is stored. A lookup by hash, then a constant-time
comparison, so neither the database nor the timing tells anything about a token one does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import parse_qs, urlsplit

EVENTS_PATH = "/quay/events/"
_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,128}")


def mint() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    return bool(_SHAPE.fullmatch(token))


def matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)


def receiver_prefix(public_url: str | None) -> str | None:
    """What every subscription webhook's URL starts with, or None without a public URL."""
    return f"{public_url.rstrip('/')}{EVENTS_PATH}" if public_url else None


def hook_url(public_url: str, token: str, event: str) -> str:
    """Where Quay POSTs one event of one subscription. Quay's body names no event, so the URL does."""
    return f"{public_url.rstrip('/')}{EVENTS_PATH}{token}?event={event}"


def token_in(url: str, public_url: str | None = None) -> str | None:
    """The token of a hook URL the bot made (at `public_url`, or at any base when None), else None."""
    if public_url is not None and not url.startswith(public_url.rstrip("/") + EVENTS_PATH):
        return None
    head, _, token = urlsplit(url).path.rpartition("/")
    return token if head.endswith(EVENTS_PATH.rstrip("/")) and well_formed(token) else None


def event_in(url: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get("event")
    return values[0] if values else None
