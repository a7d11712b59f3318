"""manifest.yml: valid for Slack's own schema, and asking for exactly what the code uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import yaml

from bot.blocks.ids import CANCEL_ACTION, CONFIRM_ACTION, RESET_ACTION
from bot.slack.requests import COMMAND
from bot.slack.scopes import BOT_SCOPES

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
SCHEMA = json.loads((ROOT / "tests/data/slack/manifest.schema.1.0.0.json").read_text())


def test_manifest_is_valid_for_slacks_schema():
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(MANIFEST))
    assert errors == [], [e.message for e in errors]


def test_the_schema_catches_mistakes():
    broken = json.loads(json.dumps(MANIFEST))
    broken["features"]["slash_commands"][0]["command"] = "quay"
    broken["settings"]["socket_mode"] = True
    assert len(list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken))) >= 2


def test_the_command_is_the_one_the_code_listens_to():
    commands = [c["command"] for c in MANIFEST["features"]["slash_commands"]]
    assert commands == [COMMAND] == ["/quay"]
    assert "help" in MANIFEST["features"]["slash_commands"][0]["usage_hint"]


def test_interactivity_is_on_for_the_buttons():
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert {CONFIRM_ACTION, CANCEL_ACTION, RESET_ACTION}  # buttons exist, so interactivity is needed


def test_socket_mode_manifest_has_no_urls():
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert "url" not in MANIFEST["features"]["slash_commands"][0]
    assert "request_url" not in MANIFEST["settings"]["interactivity"]


def test_scopes_are_exactly_what_the_code_needs():
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert scopes == set(BOT_SCOPES)
    source = "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py"))
    posts = re.search(r"\.chat_(postMessage|update)\(|api_call\(\s*[\"']chat\.", source)  # call sites
    assert ("chat:write" in scopes) == bool(posts), "chat:write is needed exactly when the bot posts or edits messages"
    if "chat:write.public" in scopes:
        assert "chat:write" in scopes


def test_manifest_yml_is_the_manifest_the_setup_page_offers():
    from bot.slack.manifest import manifest

    assert manifest() == MANIFEST  # one source: bot/slack/manifest.py; the file is it, written out


def test_the_http_mode_manifest_is_valid_and_points_every_request_at_the_public_url():
    from bot.slack.manifest import create_app_link, manifest

    http = manifest("https://quaybot.example.com/")
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(http))
    assert errors == [], [e.message for e in errors]
    url = "https://quaybot.example.com/slack/events"
    assert http["features"]["slash_commands"][0]["url"] == url
    assert http["settings"]["interactivity"]["request_url"] == url
    assert http["settings"]["event_subscriptions"]["request_url"] == url
    assert http["settings"]["socket_mode_enabled"] is False
    link = create_app_link("https://quaybot.example.com")
    from urllib.parse import parse_qs, urlparse

    assert json.loads(parse_qs(urlparse(link).query)["manifest_json"][0]) == http
