"""The bot scopes the code needs, and why; manifest.yml must ask for exactly these (a test checks)."""

BOT_SCOPES: dict[str, str] = {
    "commands": "the /quay slash command; replies go through response_url, which needs no scope",
    "chat:write": "notification-failure alerts: chat.postMessage and chat.update in channels the bot was invited to",
}
