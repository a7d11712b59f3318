"""`#name` to a channel ID, for the access file (names change, IDs do not). Slack lists channels only
to an app with `channels:read` (and `groups:read` for private ones), which quaybot's manifest does
not ask for: then the answer says to give the ID instead."""

from __future__ import annotations

from pydantic import SecretStr

from bot.setup.probe import Problem

MAX_PAGES = 50


async def resolve_channels(api_url: str, bot_token: SecretStr, names: list[str]) -> dict[str, str]:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=bot_token.get_secret_value(), base_url=api_url, timeout=10)
    wanted = {name.removeprefix("#") for name in names}
    found: dict[str, str] = {}
    cursor: str | None = None
    try:
        for _ in range(MAX_PAGES):
            page = await client.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
            )
            for channel in page.get("channels") or []:
                if channel.get("name") in wanted:
                    found["#" + str(channel["name"])] = str(channel["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None or len(found) == len(wanted):
                break
    except SlackApiError as error:
        code = str(error.response.get("error", ""))
        if code == "missing_scope":
            raise Problem(
                f"Slack does not tell this app channel names ({', '.join(sorted(names))}): it has no channels:read.",
                "Go back to Access and give each channel's ID instead (in Slack: the channel's name, then "
                "About; the ID is at the bottom, like C0123ABCD).",
            ) from None
        raise Problem(f"Slack did not list the channels ({code}).", "Give the channels' IDs instead.") from None
    missing = sorted(set(names) - set(found))
    if missing:
        raise Problem(
            f"Slack knows no channel named {', '.join(missing)} (or the app may not see it).",
            "Check the spelling, or give the channel's ID.",
        )
    return found
