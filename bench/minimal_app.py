"""The baseline for the cost of a command: a minimal hand-written Bolt app doing the same job as
`/quay repo info` (ack, one Quay GET with aiohttp, one response_url post), with no checks at all."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


async def main() -> None:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"], process_before_response=False)
    quay = os.environ["QUAY_URL"]
    headers = {"Authorization": f"Bearer {os.environ['QUAY_TOKEN']}"}
    session = aiohttp.ClientSession()

    async def repo_info(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        async with session.get(f"{quay}/api/v1/repository/team-a/api?includeTags=true", headers=headers) as response:
            repository = await response.json()
        text = f"{repository['namespace']}/{repository['name']}: {repository.get('description')}"
        async with session.post(command["response_url"], json={"text": text}) as posted:
            await posted.read()

    app.command("/quay")(repo_info)

    async def events(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.add_routes([web.post("/slack/events", events)])
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"minimal listening {runner.addresses[0][1]}", file=sys.stderr, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
