"""Name resolution for tests: this machine has no DNS, so the names tests give webhooks resolve here.

The documentation domains (`*.example`, `*.example.com`, …) resolve to one public address, as
such a name would on the internet; anything else fails as an unknown name does. Tests of the egress
policy itself give it resolvers of their own (`resolving`).
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Mapping

PUBLIC = "93.184.215.14"  # globally routable; nothing is ever sent to it
DOCUMENTATION = (".example", ".example.com", ".example.net", ".example.org")


async def documentation_names(host: str) -> list[str]:
    if host.endswith(DOCUMENTATION) or host in ("example.com", "hooks.slack.com"):
        return [PUBLIC]
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def resolving(table: Mapping[str, list[str]]) -> Callable[[str], Awaitable[list[str]]]:
    """A resolver that knows exactly `table` (name -> addresses) and nothing else."""

    async def resolve(host: str) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(table[host])

    return resolve
