"""Slack's answers that mean a token itself is wrong, so that retrying cannot help: said once, naming
the setting to fix, by `quaybot serve` and `quaybot check` alike."""

from __future__ import annotations

REFUSED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked"})


def app_token_problem(code: str) -> str | None:
    """What is wrong with SLACK_APP_TOKEN when `apps.connections.open` answered `code`; None when the
    token may be fine (Slack was unwell: try again)."""
    if code == "not_allowed_token_type":
        return (
            "SLACK_APP_TOKEN is not an app-level token (not_allowed_token_type): Socket Mode needs the "
            "xapp-… token of Basic Information > App-Level Tokens, with connections:write, not the bot token"
        )
    if code in REFUSED:
        return (
            f"Slack refused SLACK_APP_TOKEN ({code}): create an app-level token with connections:write "
            "and set SLACK_APP_TOKEN to it"
        )
    return None
