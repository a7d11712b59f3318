"""What Quay accepts for repository notifications (quay-api.md §5), and how to show them safely.

Quay answers an HTML 500 to an unknown event or method name, to a malformed `quay_notification`
target and to a non-string webhook template, so those are refused here before anything is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.i18n import Translatable
from bot.spelling import closest

# Quay stops delivering once a notification has failed this many times in a row (a literal 3 in
# data/model/notification.py); only a reset brings it back.
FAILURES_BEFORE_DISABLED = 3

VULNERABILITY_LEVELS = ("Critical", "High", "Medium", "Low", "Negligible", "Unknown")


class InvalidNotification(Translatable):
    """The event, method, config or eventConfig would be refused (or crash Quay)."""


@dataclass(frozen=True)
class EventSpec:
    name: str
    summary: str
    config_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class MethodSpec:
    name: str
    summary: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    secret_keys: frozenset[str] = field(default_factory=frozenset)


_BUILD = ("ref-regex",)
EVENTS: dict[str, EventSpec] = {
    spec.name: spec
    for spec in (
        EventSpec("repo_push", "an image is pushed"),
        EventSpec("build_queued", "a build is queued", _BUILD),
        EventSpec("build_start", "a build starts", _BUILD),
        EventSpec("build_success", "a build succeeds", _BUILD),
        EventSpec("build_failure", "a build fails", _BUILD),
        EventSpec("build_cancelled", "a build is cancelled", _BUILD),
        EventSpec("vulnerability_found", "a vulnerability is found", ("level",)),
        EventSpec("repo_mirror_sync_started", "a mirror sync starts"),
        EventSpec("repo_mirror_sync_success", "a mirror sync succeeds"),
        EventSpec("repo_mirror_sync_failed", "a mirror sync fails"),
        EventSpec("repo_image_expiry", "tags are about to expire", ("days",)),
    )
}

# Accepted by the repository API but only ever fired for organization notifications (§5.1).
ORG_ONLY_EVENTS = frozenset({"quota_warning", "quota_error"})

METHODS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec("webhook", "POST the event as JSON to a URL", ("url",), ("template",), frozenset({"url"})),
        MethodSpec("slack", "post to a Slack incoming webhook", ("url",), (), frozenset({"url"})),
        MethodSpec("email", "e-mail an authorized, confirmed address", ("email",)),
        MethodSpec("quay_notification", "notify a Quay user, organization or team", ("target",)),
        MethodSpec(
            "flowdock",
            "post to Flowdock (legacy)",
            ("flow_api_token",),
            (),
            frozenset({"flow_api_token"}),
        ),
        MethodSpec(
            "hipchat",
            "post to HipChat (legacy)",
            ("notification_token", "room_id"),
            (),
            frozenset({"notification_token"}),
        ),
    )
}

# Every notification the bot makes for a subscription has a title starting with this: how the bot,
# its alerts and its cards tell its own webhooks from the ones people made.
TITLE_PREFIX = "quaybot"
# Slack's incoming webhooks, commercial and GovSlack: the only hosts a `slack` notification may post to.
SLACK_HOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TARGET_KINDS = ("user", "org", "team")


def validate_event(event: str, event_config: Mapping[str, Any]) -> dict[str, Any]:
    """Return a normalised eventConfig for `event`, or raise `InvalidNotification`."""
    if event in ORG_ONLY_EVENTS:
        raise InvalidNotification(
            "{event} only fires for organization notifications; on a repository it would never fire", event=event
        )
    spec = EVENTS.get(event)
    if spec is None:
        suggestion = closest(event, EVENTS)
        if suggestion is not None:
            raise InvalidNotification(
                "unknown event {event}, did you mean {suggestion}? Known events: {events}",
                event=repr(event),
                suggestion=suggestion,
                events=", ".join(EVENTS),
            )
        raise InvalidNotification(
            "unknown event {event}; known events: {events}", event=repr(event), events=", ".join(EVENTS)
        )
    unknown = sorted(set(event_config) - set(spec.config_keys))
    if unknown:
        allowed = ", ".join(spec.config_keys) or "none"
        raise InvalidNotification(
            "{event} does not take event config {keys} (it takes: {allowed})",
            event=event,
            keys=", ".join(unknown),
            allowed=allowed,
        )
    normalised = dict(event_config)
    if "ref-regex" in normalised:
        pattern = normalised["ref-regex"]
        if not isinstance(pattern, str):
            raise InvalidNotification("ref-regex must be a string")
        try:
            re.compile(pattern)
        except re.error as error:
            # Quay would accept it and then never fire: say so now.
            raise InvalidNotification(
                "ref-regex is not a valid regular expression: {error}", error=str(error)
            ) from None
    if "level" in normalised:
        normalised["level"] = _vulnerability_level(normalised["level"])
    if event == "repo_image_expiry":
        days = normalised.get("days")
        if days is None:
            raise InvalidNotification("repo_image_expiry needs days=<N>: Quay skips it without a number of days")
        normalised["days"] = _positive_int(days, "days")
    return normalised


def _vulnerability_level(value: Any) -> int:
    # A non-numeric level makes Quay's should_perform throw, so the event is never delivered.
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        names = {name.lower(): index for index, name in enumerate(VULNERABILITY_LEVELS)}
        if value.strip().lower() in names:
            return names[value.strip().lower()]
        raise InvalidNotification(
            "level must be a severity ({levels}) or its index 0-5", levels=", ".join(VULNERABILITY_LEVELS)
        )
    level = _positive_int(value, "level", minimum=0)
    if level >= len(VULNERABILITY_LEVELS):
        raise InvalidNotification("level must be between 0 (Critical) and 5 (Unknown)")
    return level


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool):
        raise InvalidNotification("{name} must be a whole number", name=name)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidNotification("{name} must be a whole number, not {value}", name=name, value=repr(value)) from None
    if number < minimum:
        raise InvalidNotification("{name} must be at least {minimum}", name=name, minimum=minimum)
    return number


def validate_method(method: str, config: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """Return the config for `method`, or raise `InvalidNotification`."""
    spec = METHODS.get(method)
    if spec is None:
        suggestion = closest(method, METHODS)
        if suggestion is not None:
            raise InvalidNotification(
                "unknown method {method}, did you mean {suggestion}? Known methods: {methods}",
                method=repr(method),
                suggestion=suggestion,
                methods=", ".join(METHODS),
            )
        raise InvalidNotification(
            "unknown method {method}; known methods: {methods}", method=repr(method), methods=", ".join(METHODS)
        )
    unknown = sorted(set(config) - set(spec.required) - set(spec.optional))
    if unknown:
        raise InvalidNotification(
            "{method} does not take {keys} (it takes: {allowed})",
            method=method,
            keys=", ".join(unknown),
            allowed=", ".join([*spec.required, *spec.optional]),
        )
    missing = [key for key in spec.required if config.get(key) in (None, "", {})]
    if missing:
        raise InvalidNotification("{method} needs {keys}", method=method, keys=", ".join(f"{key}=…" for key in missing))
    if method in ("webhook", "slack"):
        _check_url(str(config["url"]), method)
    if method == "webhook" and "template" in config:
        template = config["template"]
        if not isinstance(template, str):
            raise InvalidNotification("template must be a JSON document written as a string")
        try:
            json.loads(template)
        except ValueError as error:
            raise InvalidNotification("template is not valid JSON: {error}", error=str(error)) from None
    if method == "email" and not _is_email(str(config["email"])):
        raise InvalidNotification("{value} is not an e-mail address", value=repr(config["email"]))
    if method == "quay_notification":
        _check_target(config["target"], namespace)
    return dict(config)


def _is_email(value: str) -> bool:
    return bool(_EMAIL.fullmatch(value)) and value.isprintable()  # no NUL or escape hiding in it


def _check_url(url: str, method: str) -> None:
    """The URL's shape. Where it may point is the egress policy's to say (`bot/egress.py`), with the
    operator's settings and a resolver; this is what needs neither."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidNotification("{method} url is not a URL", method=method) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidNotification("{method} url must be an http(s) URL with a host", method=method)
    if parts.username is not None or parts.password is not None:
        raise InvalidNotification("{method} url must not contain a user name or password", method=method)
    if any(char.isspace() or not char.isprintable() for char in url):
        raise InvalidNotification("{method} url must not contain spaces or control characters", method=method)
    if method == "slack" and (
        parts.scheme != "https" or parts.hostname not in SLACK_HOOK_HOSTS or port not in (None, 443)
    ):
        raise InvalidNotification(
            "a slack notification posts to a Slack incoming webhook: https://hooks.slack.com/services/… "
            "(or GovSlack's https://hooks.slack-gov.com/…)"
        )
    if parts.hostname in ("localhost", "127.0.0.1"):
        raise InvalidNotification("Quay refuses webhook URLs on localhost or 127.0.0.1")


def _check_target(target: Any, namespace: str) -> None:
    if not isinstance(target, Mapping):
        raise InvalidNotification("target must be given as <kind>:<name>, e.g. target=team:owners")
    kind, name = target.get("kind"), target.get("name")
    if kind not in _TARGET_KINDS:
        raise InvalidNotification("target kind must be one of {kinds}", kinds=", ".join(_TARGET_KINDS))
    if not isinstance(name, str) or not name:
        raise InvalidNotification("target needs a name, e.g. target=user:alice")
    if kind == "org" and name != namespace:
        # Quay crashes (HTTP 500) on an organization target other than the repository's own.
        raise InvalidNotification(
            "an org target must be the repository's own organization, {namespace}", namespace=namespace
        )


def mask_config(method: str, config: Mapping[str, Any]) -> dict[str, str]:
    """A view of a notification config that is safe to post in a channel."""
    spec = METHODS.get(method)
    secret_keys = spec.secret_keys if spec else frozenset(config)
    masked: dict[str, str] = {}
    for key, value in config.items():
        if key in ("url",) and isinstance(value, str):
            masked[key] = mask_url(value)
        elif key == "template":
            masked[key] = "(custom template)"
        elif key == "target" and isinstance(value, Mapping):
            masked[key] = f"{value.get('kind', '?')}:{value.get('name', '?')}"
        elif key in secret_keys or not isinstance(value, str | int):
            masked[key] = "••••••"
        else:
            masked[key] = str(value)
    return masked


def mask_url(url: str) -> str:
    """Keep the scheme and host, hide the path, query and any credentials."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "••••••"
    if not parts.scheme or not host:
        return "••••••"
    hidden = "/••••••" if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme}://{host}{port}{hidden}"


def describe_target(method: str, config: Mapping[str, Any]) -> str:
    """One short, masked phrase for where a notification goes."""
    masked = mask_config(method, config)
    if method in ("webhook", "slack"):
        return masked.get("url", "?")
    if method == "email":
        return masked.get("email", "?")
    if method == "quay_notification":
        return masked.get("target", "?")
    if method == "hipchat":
        return f"room {masked.get('room_id', '?')}"
    return "(configured)"
