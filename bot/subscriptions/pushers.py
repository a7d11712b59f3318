"""Who pushed: Quay's push webhook does not say, its usage logs do (`push_repo` with the performer,
within half a second of the push, so before the webhook arrives). Read after the message is queued,
never before the answer to Quay, with the namespace's own token; a namespace whose logs the token
may not read (they need admin on the repository) is not asked again for an hour."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence

from pydantic import SecretStr

from bot.access import AccessPolicy
from bot.quay import QuayClient
from bot.quay.errors import QuayError
from bot.quay.names import RepositoryRef
from bot.quay.tags import Tags, pusher_of

log = logging.getLogger(__name__)

UNREADABLE_FOR = 3600.0


class WhoPushed:
    def __init__(
        self,
        quay: QuayClient,
        default_token: SecretStr | None,
        policy: Callable[[], AccessPolicy],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quay = quay
        self.default_token = default_token
        self.policy = policy
        self.clock = clock
        self._unreadable: dict[str, float] = {}  # namespace: when its logs were last refused

    async def __call__(self, repo: RepositoryRef, tags: Sequence[str]) -> Mapping[str, str]:
        """Each tag's pusher, where the logs of the last day say it; {} when they cannot be read."""
        refused_at = self._unreadable.get(repo.namespace)
        if refused_at is not None and self.clock() - refused_at < UNREADABLE_FOR:
            return {}
        quay = self.quay.with_token(self.policy().token_for(repo.namespace, self.default_token))
        try:
            logs = await Tags(quay).logs(repo)
        except QuayError as error:  # an answer that does not parse: the message stays as it is
            log.info("who pushed could not be read", extra={"repository": repo.full_name, "why": str(error)})
            return {}
        if logs is None:
            self._unreadable[repo.namespace] = self.clock()
            return {}
        found = {tag: pusher_of(logs, tag) for tag in tags}
        return {tag: pusher.who for tag, pusher in found.items() if pusher is not None}
