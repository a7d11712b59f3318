"""An async client for the Quay endpoints quaybot uses, following quay-api.md to the letter.

Things worth knowing before changing it:
- Trailing slashes are exact: `…/notification/` and `/user/` need one, everything else must not.
- Several "successes" are not (200 `null` from changevisibility, 204 when deleting a missing
  repository, a notification UUID from another repository): the client checks and says so.
- Reads are retried on transient failures; writes are not, unless the connection was refused.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr

from bot import __version__
from bot.i18n import Phrase
from bot.quay.answers import checked as _checked
from bot.quay.answers import expect_status as _expect_status
from bot.quay.answers import expect_success_true as _expect_success_true
from bot.quay.answers import parse_model as _parse
from bot.quay.answers import repo_path as _repo_path
from bot.quay.catalogue import InvalidNotification, validate_event, validate_method
from bot.quay.errors import (
    QuayError,
    QuayInputError,
    QuayNotFound,
    QuayOutcomeUnknown,
    QuayRateLimited,
    QuayServerError,
    QuayTimeout,
    QuayTLSError,
    QuayUnavailable,
)
from bot.quay.models import (
    CreatedRepository,
    NewNotification,
    NewRepository,
    Notification,
    NotificationList,
    Organization,
    Repository,
    RepositoryPage,
    RepositorySummary,
    User,
    Visibility,
)
from bot.quay.names import RepositoryRef, check_namespace, check_notification_uuid
from bot.quay.responses import json_body, raise_for_error, retry_after_seconds, unexpected
from bot.quay.retry import RETRYABLE_STATUSES, RetryPolicy
from bot.quay.transport import AiohttpTransport

log = logging.getLogger(__name__)

USER_AGENT = f"quaybot/{__version__}"
DEFAULT_HEADERS = {
    "User-Agent": USER_AGENT,
    # Quay rejects browser-like GETs without it (BROWSER_API_CALLS_XHR_ONLY).
    "X-Requested-With": "XMLHttpRequest",
    "Accept": "application/json",
    # What httpx's client asks for; httpx.Response decodes either (the transport leaves bodies as sent).
    "Accept-Encoding": "gzip, deflate",
}
M = TypeVar("M", bound=BaseModel)
# Told of every HTTP exchange: (method, path, HTTP status or error kind, seconds). Metrics plug in here.
CallObserver = Callable[[str, str, str, float], None]


class QuayClient:
    """One Quay server, one token. `with_token()` gives a sibling sharing the connection pool."""

    def __init__(
        self,
        base_url: str,
        token: SecretStr | None = None,
        *,
        verify: bool | Path = True,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        observer: CallObserver | None = None,
        max_connections: int | None = None,
    ) -> None:
        """`max_connections` sizes the pool to the work allowed at once, so connections are reused
        rather than opened per request (httpx's default allows 100)."""
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._retry = retry or RetryPolicy()
        self._observer = observer
        self._timeout = httpx.Timeout(timeout).as_dict()
        self._owns_transport = True
        self._transport = transport or AiohttpTransport(
            ssl_context=_ssl_context(verify), max_connections=max_connections
        )

    def with_token(self, token: SecretStr | None) -> QuayClient:
        """The same server, pool and policies, acting with another token."""
        sibling = copy.copy(self)
        sibling._token = token
        sibling._owns_transport = False  # the pool stays with the client that made it
        return sibling

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_transport:
            await self._transport.aclose()

    def __repr__(self) -> str:
        return f"QuayClient({self.base_url!r}, token={'set' if self._token else 'none'})"

    # Identity ----------------------------------------------------------------------------------

    async def whoami(self) -> User:
        """`GET /api/v1/user/`. A 401 may only mean the token lacks `user:read`."""
        what = Phrase("reading the token's user")
        response = await self._get("/api/v1/user/", what=what)
        return _parse(User, response, what=what)

    async def get_organization(self, org: str) -> Organization:
        org = _checked(check_namespace, org)
        what = Phrase("reading organization {org}", org=org)
        response = await self._get(f"/api/v1/organization/{quote(org, safe='')}", what=what)
        return _parse(Organization, response, what=what)

    async def discovery_version(self) -> str | None:
        """The API version the server's discovery document declares, if it answers."""
        what = Phrase("reading the API discovery document")
        response = await self._get("/api/v1/discovery", what=what)
        body = json_body(response, what=what)
        info = body.get("info") if isinstance(body, dict) else None
        version = info.get("version") if isinstance(info, dict) else None
        return str(version) if version else None

    # Repositories ------------------------------------------------------------------------------

    async def create_repository(
        self, ref: RepositoryRef, *, visibility: Visibility = "private", description: str = ""
    ) -> CreatedRepository:
        what = Phrase("creating {repo}", repo=str(ref))
        body = NewRepository(
            namespace=ref.namespace, repository=ref.name, visibility=visibility, description=description
        )
        response = await self._write("POST", "/api/v1/repository", json=body.model_dump(), what=what)
        if response.status_code != 201:
            raise unexpected(
                response,
                what=what,
                why=Phrase("HTTP {status} instead of {expected}", status=response.status_code, expected=201),
            )
        return _parse(CreatedRepository, response, what=what)

    async def list_repositories(
        self,
        namespace: str | None = None,
        *,
        public: bool = False,
        starred: bool = False,
        next_page: str | None = None,
        last_modified: bool = False,
    ) -> RepositoryPage:
        """One page (100 items). Quay needs at least one of namespace, public or starred.
        `last_modified` asks for each repository's newest tag start (epoch seconds): it moves on a push."""
        params: dict[str, str] = {}
        if namespace is not None:
            params["namespace"] = _checked(check_namespace, namespace)
        if public:
            params["public"] = "true"
        if starred:
            params["starred"] = "true"
        if not params:
            raise QuayInputError(Phrase("Listing repositories needs a namespace, public or starred."))
        if last_modified:
            params["last_modified"] = "true"
        if next_page:
            params["next_page"] = next_page
        what = (
            Phrase("listing repositories of {namespace}", namespace=namespace)
            if namespace
            else Phrase("listing repositories")
        )
        response = await self._get("/api/v1/repository", params=params, what=what)
        return _parse(RepositoryPage, response, what=what)

    async def iter_repositories(
        self,
        namespace: str | None = None,
        *,
        public: bool = False,
        starred: bool = False,
        last_modified: bool = False,
        pace: Callable[[], Awaitable[object]] | None = None,
    ) -> AsyncIterator[RepositorySummary]:
        """Every repository, page after page; `pace` is awaited before each page (a request budget)."""
        seen: set[str] = set()
        next_page: str | None = None
        while True:
            if pace is not None:
                await pace()
            page = await self.list_repositories(
                namespace, public=public, starred=starred, next_page=next_page, last_modified=last_modified
            )
            if next_page and page.repositories and page.repositories[0].full_name in seen:
                # An expired or garbled token silently restarts at page 1 (§10.13): say so rather
                # than loop forever or return duplicates.
                raise QuayError(Phrase("Quay restarted the listing at page 1 (its page token expired); list again."))
            for repository in page.repositories:
                seen.add(repository.full_name)
                yield repository
            if not page.next_page:
                return
            next_page = page.next_page

    async def get_repository(
        self, ref: RepositoryRef, *, include_tags: bool = True, include_stats: bool = False
    ) -> Repository:
        what = Phrase("reading {repo}", repo=str(ref))
        params = {"includeTags": "true" if include_tags else "false"}
        if include_stats:
            params["includeStats"] = "true"
        response = await self._get(_repo_path(ref), params=params, what=what)
        return _parse(Repository, response, what=what)

    async def set_description(self, ref: RepositoryRef, description: str) -> None:
        what = Phrase("updating the description of {repo}", repo=str(ref))
        response = await self._write("PUT", _repo_path(ref), json={"description": description}, what=what)
        _expect_success_true(response, what=what)

    async def change_visibility(self, ref: RepositoryRef, visibility: Visibility) -> None:
        what = Phrase("making {repo} {visibility}", repo=str(ref), visibility=Phrase(visibility))
        response = await self._write(
            "POST", f"{_repo_path(ref)}/changevisibility", json={"visibility": visibility}, what=what
        )
        if response.status_code == 200 and response.text.strip() == "null":
            # Quay's handler returns nothing when the repository does not exist (§3.5).
            raise QuayNotFound(
                Phrase("{repo} does not exist (Quay answered 200 null).", repo=str(ref)),
                status=200,
                method="POST",
                path=_repo_path(ref),
            )
        _expect_success_true(response, what=what)

    async def delete_repository(self, ref: RepositoryRef) -> None:
        """Delete `ref`. Quay answers 204 even for a missing repository, so existence is checked first."""
        await self.get_repository(ref, include_tags=False)
        what = Phrase("deleting {repo}", repo=str(ref))
        response = await self._write("DELETE", _repo_path(ref), what=what)
        _expect_status(response, 204, what=what)

    # Notifications -----------------------------------------------------------------------------

    async def create_notification(self, ref: RepositoryRef, new: NewNotification) -> Notification:
        try:
            event_config = validate_event(new.event, new.event_config)
            config = validate_method(new.method, new.config, ref.namespace)
        except InvalidNotification as error:
            raise QuayInputError(Phrase(error.message, **error.params)) from None
        body = new.model_copy(update={"config": config, "event_config": event_config}).to_body()
        what = Phrase("creating a {event} notification on {repo}", event=new.event, repo=str(ref))
        try:
            response = await self._write("POST", f"{_repo_path(ref)}/notification/", json=body, what=what)
        except QuayServerError:
            # A missing repository makes Quay crash with a 500; tell the truth if that is why.
            await self.get_repository(ref, include_tags=False)
            raise
        _expect_status(response, 201, what=what)
        return _parse(Notification, response, what=what)

    async def list_notifications(self, ref: RepositoryRef, *, verify_repository: bool = True) -> list[Notification]:
        """All notifications of `ref` (Quay does not paginate them).

        Quay answers an empty list for a repository that does not exist; with `verify_repository`
        an empty answer is checked against the repository itself.
        """
        what = Phrase("listing notifications of {repo}", repo=str(ref))
        response = await self._get(f"{_repo_path(ref)}/notification/", what=what)
        notifications = _parse(NotificationList, response, what=what).notifications
        if not notifications and verify_repository:
            await self.get_repository(ref, include_tags=False)
        return notifications

    async def get_notification(self, ref: RepositoryRef, uuid: str) -> Notification:
        """One notification, confirmed to belong to `ref` (Quay's lookup ignores the repository)."""
        uuid = _checked(check_notification_uuid, uuid)
        what = Phrase("reading notification {uuid} of {repo}", uuid=uuid, repo=str(ref))
        response = await self._get(f"{_repo_path(ref)}/notification/{uuid}", what=what)
        notification = _parse(Notification, response, what=what)
        owned = await self.list_notifications(ref, verify_repository=False)
        if all(item.uuid != notification.uuid for item in owned):
            raise QuayNotFound(
                Phrase("Notification {uuid} does not belong to {repo}.", uuid=uuid, repo=str(ref)),
                status=404,
                method="GET",
                path=_repo_path(ref),
            )
        return notification

    async def test_notification(
        self, ref: RepositoryRef, uuid: str, *, known: Notification | None = None
    ) -> Notification:
        """Queue a test delivery. Returns the notification as it was before the test.

        Quay only queues the test, and a disabled notification (3+ failures) silently drops it.
        Pass `known` (from `get_notification`) to skip reading it again.
        """
        notification = known if known is not None else await self.get_notification(ref, uuid)
        what = Phrase("testing notification {uuid} of {repo}", uuid=notification.uuid, repo=str(ref))
        response = await self._write("POST", f"{_repo_path(ref)}/notification/{notification.uuid}/test", what=what)
        _expect_status(response, 200, what=what)
        return notification

    async def reset_notification_failures(self, ref: RepositoryRef, uuid: str) -> None:
        uuid = _checked(check_notification_uuid, uuid)
        what = Phrase("resetting the failures of notification {uuid} of {repo}", uuid=uuid, repo=str(ref))
        response = await self._write("POST", f"{_repo_path(ref)}/notification/{uuid}", what=what)
        _expect_status(response, 204, what=what)

    async def delete_notification(self, ref: RepositoryRef, uuid: str) -> None:
        uuid = _checked(check_notification_uuid, uuid)
        what = Phrase("deleting notification {uuid} of {repo}", uuid=uuid, repo=str(ref))
        response = await self._write("DELETE", f"{_repo_path(ref)}/notification/{uuid}", what=what)
        _expect_status(response, 204, what=what)

    # Transport ---------------------------------------------------------------------------------

    def _url(self, path: str, params: Mapping[str, str] | None) -> httpx.URL:
        """Absolute, with the query encoded as httpx would: httpx then parses one URL instead of
        merging a relative one into its base and then the parameters into that (a third of its cost)."""
        return _parsed_url(f"{self.base_url}{path}?{httpx.QueryParams(params)}" if params else f"{self.base_url}{path}")

    def _request(
        self, method: str, path: str, params: Mapping[str, str] | None, json: Any, form: Mapping[str, str] | None = None
    ) -> httpx.Request:
        """The request as httpx's client would build it from this client's settings. It goes to the
        transport as it is: httpx's client would only add layers this client does not use (auth
        flows, redirects, a cookie jar, event hooks), at about 40 µs a call."""
        headers = dict(DEFAULT_HEADERS)
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        return httpx.Request(
            method,
            self._url(path, params),
            headers=headers,
            json=json,
            data=form,
            extensions={"timeout": self._timeout},
        )

    async def _get(self, path: str, *, what: Phrase, params: Mapping[str, str] | None = None) -> httpx.Response:
        return await self._send("GET", path, what=what, params=params, idempotent=True)

    async def _write(self, method: str, path: str, *, what: Phrase, json: Any = None) -> httpx.Response:
        return await self._send(method, path, what=what, json=json, idempotent=False)

    async def write(self, method: str, path: str, *, what: Phrase, json: Any = None) -> httpx.Response:
        """A write this client has no method for (`bot/quay/tags.py`): sent once, never retried."""
        return await self._write(method, path, what=what, json=json)

    async def read(self, path: str, *, what: Phrase, params: Mapping[str, str] | None = None) -> httpx.Response:
        """A GET this client has no method for (`bot/quay/oauth.py`), with the same checks and retries."""
        return await self._get(path, what=what, params=params)

    async def post_form(self, path: str, form: Mapping[str, str], *, what: Phrase) -> httpx.Response:
        """A form POST outside `/api/v1` (Quay's OAuth endpoints); never retried once sent."""
        return await self._send("POST", path, what=what, idempotent=False, form=form)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        what: Phrase,
        idempotent: bool,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            call_started = time.monotonic()
            try:
                response = await self._transport.handle_async_request(self._request(method, path, params, json, form))
            except httpx.ConnectError as error:
                if _is_tls_failure(error):
                    self._observe(method, path, "tls_error", call_started)
                    raise QuayTLSError(
                        Phrase(
                            "The TLS handshake with Quay at {url} failed while {what} ({reason}). If Quay uses a "
                            "private CA, set QUAY_VERIFY_TLS to the path of its CA bundle.",
                            url=self.base_url,
                            what=what,
                            reason=_reason(error),
                        ),
                        method=method,
                        path=path,
                    ) from None
                # Nothing reached Quay, so even a write may be tried again.
                failure: QuayError = QuayUnavailable(
                    Phrase(
                        "Could not connect to Quay at {url} while {what} ({reason}).",
                        url=self.base_url,
                        what=what,
                        reason=_reason(error),
                    ),
                    method=method,
                    path=path,
                )
                self._observe(method, path, "connect_error", call_started)
                retry_after = None
            except httpx.TimeoutException as error:
                self._observe(method, path, "timeout", call_started)
                if not idempotent and not isinstance(error, httpx.ConnectTimeout | httpx.PoolTimeout):
                    raise QuayOutcomeUnknown(
                        Phrase(
                            "Quay did not answer in time while {what}; the change may or may not have happened. "
                            "Check before trying again.",
                            what=what,
                        ),
                        method=method,
                        path=path,
                    ) from None
                failure = QuayTimeout(
                    Phrase("Quay did not answer in time while {what}.", what=what), method=method, path=path
                )
                retry_after = None
            except httpx.TransportError as error:
                self._observe(method, path, "network_error", call_started)
                if not idempotent:
                    raise QuayOutcomeUnknown(
                        Phrase(
                            "The connection to Quay broke while {what} ({reason}); the change may or may not have "
                            "happened. Check before trying again.",
                            what=what,
                            reason=_reason(error),
                        ),
                        method=method,
                        path=path,
                    ) from None
                failure = QuayUnavailable(
                    Phrase("The connection to Quay broke while {what} ({reason}).", what=what, reason=_reason(error)),
                    method=method,
                    path=path,
                )
                retry_after = None
            else:
                self._observe(method, path, str(response.status_code), call_started)
                if not (idempotent and response.status_code in RETRYABLE_STATUSES):
                    raise_for_error(response, what=what)
                    return response
                retry_after = retry_after_seconds(response)
                try:
                    raise_for_error(response, what=what)
                except (QuayUnavailable, QuayRateLimited) as error:
                    failure = error
                else:  # pragma: no cover - every retryable status raises
                    return response

            delay = self._retry.delay(attempt, retry_after)
            if not self._retry.allows(attempt, time.monotonic() - started, delay):
                raise failure
            log.info("retrying Quay call", extra={"endpoint": f"{method} {path}", "attempt": attempt})
            await asyncio.sleep(delay)

    def _observe(self, method: str, path: str, outcome: str, started: float) -> None:
        if self._observer is not None:
            self._observer(method, path, outcome, time.monotonic() - started)


@functools.lru_cache(maxsize=1024)
def _parsed_url(url: str) -> httpx.URL:
    """httpx checks a URL character by character (about 35 µs a call, a tenth of a Quay read's CPU);
    the bot asks for the same few URLs again and again (each sweep reads every watched repository's
    notifications), and an httpx.URL never changes once made. URLs carry no token."""
    return httpx.URL(url)


def _is_tls_failure(error: Exception) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "SSL" in str(error) or "CERTIFICATE" in str(error)


def _ssl_context(verify: bool | Path) -> ssl.SSLContext:
    """httpx's own context (certifi's CAs), or one trusting the given CA bundle."""
    if isinstance(verify, Path):
        return ssl.create_default_context(cafile=str(verify))
    return httpx.create_ssl_context(verify=verify, trust_env=False)


def _reason(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
