"""The baseline for ack latency: a minimal Bolt AsyncApp that only acks, served the same way."""

from __future__ import annotations

import asyncio

from slack_bolt.async_app import AsyncAck

from bench.bolt_server import bolt_app, serve


async def main() -> None:
    app = bolt_app()

    async def just_ack(ack: AsyncAck) -> None:
        await ack()

    app.command("/quay")(just_ack)
    await serve(app, "baseline")


if __name__ == "__main__":
    asyncio.run(main())
