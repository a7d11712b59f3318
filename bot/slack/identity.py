"""Who the bot is in Slack (`auth.test`), learned once at start, so that no request waits on it.

Bolt would call `auth.test` on the first request and make it wait; with Slack slow or unreachable that
first command would not ack in time. Here the answer is fetched in the background, retried with
backoff, and Bolt's `authorize` hook reads what is known (nothing the listeners need depends on it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import tokens

log = logging.getLogger(__name__)


class BotIdentity:
    def __init__(self, client: AsyncWebClient, token: str) -> None:
        self.client = client
        self._token = token
        self.known: dict[str, Any] = {}

    async def resolve(self, *, per_call: float = 10.0, first_delay: float = 1.0, max_delay: float = 60.0) -> None:
        """Until Slack answers; a refused token is said once, clearly, and not retried."""
        delay = first_delay
        while not self.known:
            try:
                response = await asyncio.wait_for(self.client.auth_test(), per_call)
                self.known = {key: response.get(key) for key in ("user_id", "bot_id", "team_id", "team", "url")}
                log.info("Slack identity known", extra={"bot_user": self.known.get("user_id")})
                return
            except SlackApiError as error:
                code = str(error.response.get("error", ""))
                if code in tokens.REFUSED:
                    log.error(f"Slack refused SLACK_BOT_TOKEN ({code}): replies still work, alerts cannot be posted")
                    return
                log.warning("auth.test failed; retrying", extra={"error": code, "retry_in": delay})
            except Exception as error:  # the network, or Slack's body: try again later
                log.warning("Slack is not reachable for auth.test; retrying", extra={"error": type(error).__name__})
            await asyncio.sleep(delay)
            delay = min(max_delay, delay * 2)

    def authorizer(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """Bolt's `authorize` hook. A plain function: Bolt passes arguments by the names it finds in
        the signature, and a bound method's `self` would be one of them."""

        async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id or self.known.get("team_id"),
                bot_user_id=self.known.get("user_id"),
                bot_id=self.known.get("bot_id"),
                bot_token=self._token,
            )

        return authorize
