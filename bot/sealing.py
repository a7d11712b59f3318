"""Secrets at rest: linked people's Quay tokens are stored encrypted with Fernet (`cryptography`),
under the keys of `QUAYBOT_SECRET_KEY`.

The setting holds one or more keys, comma-separated: the first encrypts, every one decrypts, so an
operator rotates by putting a new key first and keeping the old one until `quaybot rotate-key` has
re-encrypted every stored token. Without the keys a stored token is unreadable bytes.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr


class Unsealable(Exception):
    """A stored secret none of the configured keys opens (the key was changed, or the row is damaged)."""


def _keys(text: str) -> list[str]:
    return [key.strip() for key in text.split(",") if key.strip()]


def key_problem(text: str) -> str | None:
    """Why `text` is not a list of Fernet keys; never quotes the value."""
    keys = _keys(text)
    if not keys:
        return "must be one or more Fernet keys, comma-separated"
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return (
                f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes); make one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
            )
    return None


class Sealer:
    def __init__(self, keys: SecretStr) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in _keys(keys.get_secret_value())])

    def seal(self, secret: SecretStr) -> bytes:
        return self._fernet.encrypt(secret.get_secret_value().encode())

    def open(self, sealed: bytes) -> SecretStr:
        try:
            return SecretStr(self._fernet.decrypt(sealed).decode())
        except InvalidToken:
            raise Unsealable("a stored token cannot be decrypted with QUAYBOT_SECRET_KEY") from None

    def reseal(self, sealed: bytes) -> bytes:
        """The same secret under the first key (rotation)."""
        try:
            return self._fernet.rotate(sealed)
        except InvalidToken:
            raise Unsealable("a stored token cannot be decrypted with QUAYBOT_SECRET_KEY") from None


def generate_key() -> str:
    return Fernet.generate_key().decode()
