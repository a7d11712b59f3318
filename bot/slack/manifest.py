"""The Slack app manifest, in one place: `manifest.yml` (Socket Mode) is this, written out, and the
setup page shows it for the mode chosen, with the bot's public URL filled in for HTTP mode."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

CREATE_APP = "https://api.slack.com/apps?new_app=1&manifest_json="


def manifest(public_url: str | None = None) -> dict[str, Any]:
    """Socket Mode without a public URL; HTTP mode (every request to `<public_url>/slack/events`) with one."""
    events_url = f"{public_url.rstrip('/')}/slack/events" if public_url else None
    command: dict[str, Any] = {
        "command": "/quay",
        "description": "Manage Quay repositories and repository notifications",
        "usage_hint": "help | repo … | notify … | subscribe <ns>[/<name>] | unsubscribe … | subscriptions",
        "should_escape": False,
    }
    events: dict[str, Any] = {"bot_events": ["app_home_opened"]}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if events_url:
        command["url"] = events_url
        events["request_url"] = events_url
        interactivity["request_url"] = events_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "quaybot",
            "description": "Manage Red Hat Quay repositories and notifications from Slack, safely.",
            "background_color": "#1f3a5f",
        },
        "features": {
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": False},
            "bot_user": {"display_name": "quaybot", "always_online": False},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": ["commands", "chat:write"]}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": events_url is None,
            "token_rotation_enabled": False,
        },
    }


def create_app_link(public_url: str | None = None) -> str:
    """Slack's create-from-manifest page with this manifest filled in (Slack asks for the workspace)."""
    return CREATE_APP + quote(json.dumps(manifest(public_url), separators=(",", ":")), safe="")
