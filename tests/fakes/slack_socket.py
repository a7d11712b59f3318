"""A fake Socket Mode endpoint: a loopback WebSocket that pushes envelopes and waits for their acks."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from typing import Any

from aiohttp import WSMsgType, web


class FakeSocketMode:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.connections: list[web.WebSocketResponse] = []
        self.received: list[dict[str, Any]] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._connected = threading.Event()
        self._hung_up = threading.Event()  # the bot closed a connection
        self._runner: web.AppRunner | None = None
        self.port = 0

    def start(self) -> FakeSocketMode:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.add_routes([web.get("/link", self._socket)])
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": len(self.connections)}))
        self._connected.set()
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            self.received.append(data)
            future = self._acks.pop(data.get("envelope_id", ""), None)
            if future is not None and not future.done():
                future.set_result(data)
        self._hung_up.set()
        return ws

    def wait_connected(self, timeout: float = 10) -> None:
        assert self._connected.wait(timeout), "the bot never opened the Socket Mode connection"

    def wait_hung_up(self, timeout: float) -> bool:
        """Whether the bot closed its connection within `timeout` seconds."""
        return self._hung_up.wait(timeout)

    def push(self, kind: str, payload: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        """Send an envelope; return the bot's ack for it."""
        return asyncio.run_coroutine_threadsafe(self._push(kind, payload, timeout), self.loop).result(timeout + 1)

    async def _push(self, kind: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        envelope_id = str(uuid.uuid4())
        future: asyncio.Future[dict[str, Any]] = self.loop.create_future()
        self._acks[envelope_id] = future
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await self.connections[-1].send_str(json.dumps(envelope))
        return await asyncio.wait_for(future, timeout)

    def stop(self) -> None:
        if not self.thread.is_alive():
            return  # stopped already

        async def close() -> None:
            for ws in self.connections:
                await ws.close()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
