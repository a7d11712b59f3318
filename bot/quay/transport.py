"""An httpx transport over aiohttp's connection pool: what the Quay client sends its requests through.

Why not httpx's default transport: per Quay GET it costs about twice the CPU (httpcore's pool
bookkeeping and anyio grow with the requests in flight; `make bench` row 5). Why not
`httpx-aiohttp`'s transport: it reports a refused connection as a timeout, does not surface TLS
failures, and lets aiohttp resend a PUT or DELETE whose connection dropped, so the client could no
longer tell "nothing was sent" from "the change may have happened".

This transport raises exactly the httpx errors httpcore would for the same failure, each chained to
aiohttp's error (`__cause__`), so the client's retry and error rules stay as they are:

- connection refused, DNS failure, TLS failure: `ConnectError` (nothing was sent)
- no connection within the connect or pool timeout: `ConnectTimeout`
- no answer within the read timeout: `ReadTimeout`
- the connection dropped, or the answer was not HTTP: `RemoteProtocolError` / `ReadError`

Bodies are read whole before the response is returned: Quay's answers are small JSON documents, and
a failure while reading one then surfaces here, mapped, rather than later in the caller.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiohttp
import httpx

# No Quay answer the client reads comes near this; a larger one is a misbehaving server.
MAX_BODY = 16 * 1024 * 1024


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, ssl_context: ssl.SSLContext, max_connections: int | None = None) -> None:
        self._ssl = ssl_context
        self._limit = max_connections or 100  # httpx's own default
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use: an aiohttp session belongs to the event loop that creates it.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._ssl, keepalive_timeout=5.0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                # Every call carries its namespace's own token, and all tokens share this pool: a
                # cookie set in answer to one token must not ride along with another's calls.
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,  # httpx decodes Content-Encoding itself
                trust_env=False,
            )
            # aiohttp resends an idempotent request (GET, but also PUT and DELETE) once when its
            # connection drops; the client decides retries itself, and must see a dropped write.
            self._session._retry_connection = False
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        connect, pool, read = timeouts.get("connect"), timeouts.get("pool"), timeouts.get("read")
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's `connect` covers waiting for a pooled connection and opening a new one.
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        content = await request.aread()
        try:
            async with self._client().request(
                request.method,
                str(request.url),
                headers=list(request.headers.multi_items()),
                data=content or None,
                allow_redirects=False,
                timeout=timeout,
            ) as answer:
                body = await _bounded_body(answer, request)
                return httpx.Response(
                    answer.status,
                    headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.raw_headers],
                    content=body,
                    request=request,
                    extensions={"http_version": b"HTTP/1.1", "reason_phrase": (answer.reason or "").encode()},
                )
        except aiohttp.ClientError as error:
            raise _mapped(error, request) from error
        except TimeoutError as error:  # aiohttp's read timeouts may surface as plain TimeoutError
            raise httpx.ReadTimeout(str(error) or "read timed out", request=request) from error

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            # Lets the connector's transports close before the loop goes (aiohttp's advice).
            await asyncio.sleep(0)


async def _bounded_body(answer: aiohttp.ClientResponse, request: httpx.Request) -> bytes:
    if (answer.content_length or 0) > MAX_BODY:
        raise httpx.RemoteProtocolError(f"the answer is larger than {MAX_BODY} bytes", request=request)
    body = bytearray()
    while chunk := await answer.content.read(MAX_BODY + 1 - len(body)):
        body += chunk
        if len(body) > MAX_BODY:
            raise httpx.RemoteProtocolError(f"the answer is larger than {MAX_BODY} bytes", request=request)
    return bytes(body)


def _mapped(error: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    """The httpx error httpcore would raise for the same failure."""
    message = str(error) or type(error).__name__
    kind: type[httpx.TransportError]
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(error, aiohttp.ServerTimeoutError):  # includes SocketTimeoutError (sock_read)
        kind = httpx.ReadTimeout
    elif isinstance(error, aiohttp.ClientConnectorError | aiohttp.ClientSSLError):
        # Refused, unresolvable, or the TLS handshake failed: the request never left.
        kind = httpx.ConnectError
        if isinstance(error, aiohttp.ClientSSLError | aiohttp.ClientConnectorCertificateError):
            message = f"SSL: {_ssl_reason(error)}"
    elif isinstance(error, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        kind = httpx.RemoteProtocolError
    elif isinstance(error, aiohttp.ClientPayloadError):
        kind = httpx.ReadError
    else:
        kind = httpx.NetworkError  # e.g. the connection was reset while the request was written
    return kind(message, request=request)


def _ssl_reason(error: Any) -> str:
    cause = getattr(error, "certificate_error", None) or getattr(error, "os_error", None) or error
    return str(cause)
