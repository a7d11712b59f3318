"""Configuration, read from the environment and from `.env`.

The variable names are part of the product's interface: deployments and later features depend on
them, so each field names its variable explicitly instead of relying on a prefix.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.sealing import key_problem


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


# What a linked person's token may do: everything the bot's commands need, as that person, and who
# they are (`user:read`). Never `org:admin` or `user:admin` unless an operator asks for them.
DEFAULT_OAUTH_SCOPES = "repo:read repo:write repo:admin repo:create user:read"
OAUTH_SCOPES = frozenset(
    {"repo:read", "repo:write", "repo:admin", "repo:create", "user:read", "user:admin", "org:admin"}
)


class SettingsProblem(Exception):
    """One or more settings are missing or malformed; the message names each variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        env_ignore_empty=True,
        populate_by_name=False,
    )

    # Quay
    quay_url: str = Field(validation_alias=_env("QUAY_URL"))
    quay_token: SecretStr | None = Field(default=None, validation_alias=_env("QUAY_TOKEN"))
    quay_verify_tls: bool | Path = Field(default=True, validation_alias=_env("QUAY_VERIFY_TLS"))
    quay_timeout_seconds: float = Field(default=10.0, gt=0, validation_alias=_env("QUAY_TIMEOUT_SECONDS"))

    # Slack (used by `quaybot serve`)
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr | None = Field(default=None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))

    # quaybot itself
    access_file: Path = Field(default=Path("access.yml"), validation_alias=_env("QUAYBOT_ACCESS_FILE"))
    database_url: str = Field(default="sqlite:///quaybot.db", validation_alias=_env("QUAYBOT_DATABASE_URL"))
    mode: Literal["socket", "http"] | None = Field(default=None, validation_alias=_env("QUAYBOT_MODE"))
    http_host: str = Field(default="127.0.0.1", validation_alias=_env("QUAYBOT_HTTP_HOST"))
    http_port: int = Field(default=3000, ge=0, le=65535, validation_alias=_env("QUAYBOT_HTTP_PORT"))
    alert_interval_seconds: float = Field(default=60.0, gt=0, validation_alias=_env("QUAYBOT_ALERT_INTERVAL_SECONDS"))
    inventory_interval_seconds: float = Field(
        default=600.0, gt=0, validation_alias=_env("QUAYBOT_INVENTORY_INTERVAL_SECONDS")
    )
    watch_concurrency: int = Field(default=4, ge=1, le=64, validation_alias=_env("QUAYBOT_WATCH_CONCURRENCY"))
    watch_requests_per_second: float = Field(
        default=5.0, gt=0, validation_alias=_env("QUAYBOT_WATCH_REQUESTS_PER_SECOND")
    )
    confirm_ttl_seconds: float = Field(default=600.0, gt=0, validation_alias=_env("QUAYBOT_CONFIRM_TTL_SECONDS"))
    max_concurrent_commands: int = Field(
        default=16, ge=1, le=1024, validation_alias=_env("QUAYBOT_MAX_CONCURRENT_COMMANDS")
    )
    command_queue_size: int = Field(default=1000, ge=0, validation_alias=_env("QUAYBOT_COMMAND_QUEUE_SIZE"))
    access_reload_seconds: float = Field(default=5.0, gt=0, validation_alias=_env("QUAYBOT_ACCESS_RELOAD_SECONDS"))
    # The base URL at which Quay can reach this bot: subscriptions point Quay's webhooks at
    # PUBLIC_URL/quay/events/<token>. Without it, `subscribe` says what is missing.
    public_url: str | None = Field(default=None, validation_alias=_env("QUAYBOT_PUBLIC_URL"))
    # Where users may point webhook notifications beyond the public internet (`bot/egress.py`):
    # comma-separated networks (10.20.0.0/16) and host names (ci.internal.example).
    notify_allowed_networks: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias=_env("QUAYBOT_NOTIFY_ALLOWED_NETWORKS")
    )
    notify_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias=_env("QUAYBOT_NOTIFY_ALLOWED_HOSTS")
    )
    # People acting as themselves (`/quay login`): Quay's OAuth application for the bot, and the key
    # their tokens are encrypted with (comma-separated Fernet keys: the first encrypts, all decrypt).
    quay_oauth_client_id: str | None = Field(default=None, validation_alias=_env("QUAY_OAUTH_CLIENT_ID"))
    quay_oauth_client_secret: SecretStr | None = Field(default=None, validation_alias=_env("QUAY_OAUTH_CLIENT_SECRET"))
    quay_oauth_scopes: str = Field(default=DEFAULT_OAUTH_SCOPES, validation_alias=_env("QUAY_OAUTH_SCOPES"))
    secret_key: SecretStr | None = Field(default=None, validation_alias=_env("QUAYBOT_SECRET_KEY"))
    approval_ttl_seconds: float = Field(default=3600.0, gt=0, validation_alias=_env("QUAYBOT_APPROVAL_TTL_SECONDS"))
    shutdown_grace_seconds: float = Field(default=20.0, ge=0, validation_alias=_env("QUAYBOT_SHUTDOWN_GRACE_SECONDS"))
    # `serve` and `watch` wait this long at start for a database server that does not answer yet (a
    # PostgreSQL starting beside the bot) before giving up; 0 gives up at once.
    database_wait_seconds: float = Field(default=60.0, ge=0, validation_alias=_env("QUAYBOT_DATABASE_WAIT_SECONDS"))

    @field_validator("quay_url", "public_url", "slack_api_url")
    @classmethod
    def _no_credentials_in_urls(cls, value: str | None) -> str | None:
        # Checked before the other URL checks, whose messages never quote the value either: a
        # password in a URL would otherwise reach logs, `quaybot check` and the Quay client.
        if value is not None and "@" in urlsplit(value.strip()).netloc:
            raise ValueError(
                "must not contain a user name or password (user:password@); the tokens carry the credentials"
            )
        return value

    @field_validator("quay_url")
    @classmethod
    def _quay_url_is_http(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")) or "://" not in value or not value.split("://", 1)[1]:
            raise ValueError("must be an http(s) URL such as https://quay.example.com")
        if "/api/" in value + "/":
            raise ValueError("must be the Quay base URL, without /api/v1")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_is_a_base(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")) or not value.split("://", 1)[1]:
            raise ValueError("must be an http(s) URL such as https://quaybot.internal.example.com")
        if "?" in value or "#" in value:
            raise ValueError("must be a base URL, without a query or fragment")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("notify_allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        words = _comma_separated(value)
        for word in words:
            try:
                ipaddress.ip_network(word, strict=False)
            except ValueError:
                raise ValueError(f"{word[:60]!r} is not a network; write networks such as 10.20.0.0/16") from None
        return words

    @field_validator("notify_allowed_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        words = tuple(word.lower().rstrip(".") for word in _comma_separated(value))
        for word in words:
            if "/" in word or ":" in word or not word:
                raise ValueError(f"{word[:60]!r} is not a host name; networks go in QUAYBOT_NOTIFY_ALLOWED_NETWORKS")
        return words

    @field_validator("secret_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        problem = key_problem(value.get_secret_value())
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("quay_oauth_scopes")
    @classmethod
    def _scopes(cls, value: str) -> str:
        scopes = value.replace(",", " ").split()
        unknown = [s for s in scopes if s not in OAUTH_SCOPES]
        if unknown or not scopes:
            raise ValueError(f"must be Quay scopes separated by spaces, from: {' '.join(sorted(OAUTH_SCOPES))}")
        if "user:read" not in scopes and "user:admin" not in scopes:
            raise ValueError("must include user:read: the bot reads who a token belongs to")
        return " ".join(dict.fromkeys(scopes))

    @property
    def linking_missing(self) -> list[str]:
        """The variables `/quay login` needs and does not have."""
        needed = {
            "QUAY_OAUTH_CLIENT_ID": self.quay_oauth_client_id,
            "QUAY_OAUTH_CLIENT_SECRET": self.quay_oauth_client_secret,
            "QUAYBOT_PUBLIC_URL": self.public_url,
            "QUAYBOT_SECRET_KEY": self.secret_key,
        }
        return [name for name, value in needed.items() if value is None]

    @field_validator("quay_verify_tls", mode="before")
    @classmethod
    def _verify_tls_bool_or_bundle(cls, value: object) -> object:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in {"true", "1", "yes", "on"}:
                return True
            if lowered in {"false", "0", "no", "off"}:
                return False
            path = Path(value.strip())
            if not path.is_file():
                raise ValueError(f"must be true, false or the path of a CA bundle; {value!r} is not a file")
            return path
        return value

    @model_validator(mode="after")
    def _default_mode(self) -> Settings:
        if self.mode is None:
            self.mode = "socket" if self.slack_app_token is not None else "http"
        return self

    @property
    def effective_mode(self) -> Literal["socket", "http"]:
        return self.mode or "http"


def _comma_separated(value: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in value.split(",") if word.strip())


# Maps field names back to the environment variable a person would set.
ENV_NAMES: dict[str, str] = {
    name: str(field.validation_alias.choices[0])
    for name, field in Settings.model_fields.items()
    if isinstance(field.validation_alias, AliasChoices)
}


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, naming the variable, never a pydantic traceback."""
    lines = []
    for problem in error.errors():
        location = problem.get("loc", ())
        field = str(location[0]) if location else ""
        variable = ENV_NAMES.get(field, field.upper() or "settings")
        if problem.get("type") == "missing":
            lines.append(f"{variable} is not set")
            continue
        message = str(problem.get("msg", "is invalid"))
        message = message.removeprefix("Value error, ")
        lines.append(f"{variable}: {message}")
    return "; ".join(dict.fromkeys(lines))


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read settings, turning validation errors into a `SettingsProblem` with a readable message."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as error:
        raise SettingsProblem(describe_validation_error(error)) from None
