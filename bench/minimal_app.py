"""The baseline for the cost of a command: a minimal hand-written Bolt app doing the same job as
`/quay repo info` (ack, the two Quay GETs of its card with aiohttp: the repository with its tags, then
its notifications; one response_url post), with no checks at all.

The issue that asked for this baseline named one GET; the card has read the notifications too
since it shows their health, so the baseline reads them as well.

`MINIMAL_SLOTS=N` bounds its work to N commands at once, as the bot's own bound does (16 by
default): without a bound it takes a whole burst at once, and a busy event loop handles many events
per wakeup, which makes each command cheaper than under any bound."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck

from bench.bolt_server import bolt_app, serve


async def main() -> None:
    app = bolt_app()
    quay = os.environ["QUAY_URL"]
    headers = {"Authorization": f"Bearer {os.environ['QUAY_TOKEN']}"}
    session = aiohttp.ClientSession()
    slots = int(os.environ.get("MINIMAL_SLOTS", "0"))
    bound = asyncio.Semaphore(slots) if slots else contextlib.nullcontext()

    async def repo_info(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        async with bound:
            await card(command["response_url"])

    async def card(response_url: str) -> None:
        async with session.get(f"{quay}/api/v1/repository/team-a/api?includeTags=true", headers=headers) as response:
            repository = await response.json()
        async with session.get(f"{quay}/api/v1/repository/team-a/api/notification/", headers=headers) as response:
            notifications = (await response.json())["notifications"]
        text = f"{repository['namespace']}/{repository['name']}: {repository.get('description')}, {len(notifications)}"
        async with session.post(response_url, json={"text": text}) as posted:
            await posted.read()

    app.command("/quay")(repo_info)
    await serve(app, "minimal")


if __name__ == "__main__":
    asyncio.run(main())
