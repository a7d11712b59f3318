"""Where the bot lets Quay's notification worker send: the egress policy for every webhook target a
user creates, tests or resets.

Quay itself refuses only the literal hosts `localhost` and `127.0.0.1`, so without this a member of
a channel with the write role could point Quay at the cloud's metadata service, at loopback spelt
another way (`127.1`, `[::ffff:127.0.0.1]`, `2130706433`), or at a CI server on the internal network,
and fire it on demand with `notify test`. The checks follow Quay's own `util/security/ssrf.py`:

- http and https only, no user name or password, a host that is a valid name or address;
- the host normalised: IPv4 in every notation the C resolver accepts (decimal, octal, hex, short
  forms), IPv6 with the IPv4 it carries (mapped, NAT64, 6to4, Teredo), names lowercased, IDNA-encoded
  and without a trailing dot; a name is resolved and every address it has is checked;
- never: loopback, link-local (cloud metadata at 169.254.169.254), "this host", multicast, broadcast,
  reserved, and the metadata host names, whatever the operator allows;
- not by default: every other address that is not globally routable (10/8, 172.16/12, 192.168/16,
  100.64/10, fc00::/7 and the documentation and benchmarking ranges) and the `.internal` and `.local`
  names: an operator allows networks with `QUAYBOT_NOTIFY_ALLOWED_NETWORKS` and host names with
  `QUAYBOT_NOTIFY_ALLOWED_HOSTS`, as GitLab's "allow requests to the local network" setting does;
- a `slack` target only at Slack's incoming-webhook hosts (`catalogue.SLACK_HOOK_HOSTS`, checked there).

Refusals say why and what an operator could allow; never the address a name resolved to, which
would map the internal network for whoever asks. A name is resolved when the target is checked: a
name that later resolves elsewhere (DNS rebinding) is Quay's to refuse at delivery.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from bot.i18n import Translatable

if TYPE_CHECKING:
    from bot.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Awaitable[list[str]]]
Reach = Literal["public", "private", "never"]

RESOLVE_TIMEOUT = 5.0
# Cloud metadata services and their aliases: never a webhook target, whatever resolves.
NEVER_HOSTS = frozenset(
    {
        "localhost",
        "metadata",
        "metadata.google.internal",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
# Names that only mean something inside a network: private unless an operator names them.
PRIVATE_SUFFIXES = (".internal", ".local", ".localdomain", ".lan", ".home.arpa", ".cluster.local", ".svc")
PRIVATE_HOSTS = frozenset({"kubernetes", "kubernetes.default", "kubernetes.default.svc"})
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+")  # what inet_aton might read as an IPv4 address
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class EgressRefused(Translatable):
    """A webhook target the policy refuses; `remedy` says what an operator could allow, if anything."""

    def __init__(self, message: str, /, remedy: str = "", **params: object) -> None:
        super().__init__(message, **params)
        self.remedy = remedy


async def system_resolver(host: str) -> list[str]:
    """Every address the machine's resolver gives `host` (the C resolver, as Quay's worker uses)."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(RESOLVE_TIMEOUT):
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def reach_of(address: IPAddress) -> Reach:
    """How far an address is from the public internet, with an embedded IPv4 judged as itself."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return reach_of(embedded)
    if (
        address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
        or (isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK)
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    ):
        return "never"
    return "public" if address.is_global else "private"


_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    return None


def literal_address(host: str) -> IPAddress | None:
    """`host` as an address, in any notation the C resolver takes for one, or None for a name."""
    try:
        return ipaddress.ip_address(host.partition("%")[0])  # an IPv6 zone index changes nothing here
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))  # 127.1, 0x7f000001, 2130706433, 0177.0.0.1
        except OSError:
            return None
    return None


def normal_host(host: str) -> str:
    """The host as a resolver sees it: lowercased, IDNA-encoded, without the root's trailing dot."""
    host = host.lower()
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]
    if literal_address(host) is not None:
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise EgressRefused("{host} is not a valid host name", host=_show(host)) from None
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in ascii_host.split(".")):
        raise EgressRefused("{host} is not a valid host name", host=_show(host))
    return ascii_host


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Networks as an operator writes them (`10.20.0.0/16`, `fd00::/8`, a lone address)."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


@dataclass(frozen=True)
class EgressPolicy:
    """What the operator allows beyond the public internet, and the bot's own receiver (whose URL
    the operator configured, for subscriptions)."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()
    own_receiver: str | None = None
    resolver: Resolver | None = None  # None: `system_resolver`, looked up when a name is resolved

    async def check_notification(self, method: str, config: Mapping[str, Any]) -> None:
        """Refuse a notification whose target the policy does not allow; other methods pass (e-mail
        and Quay users are Quay's to deliver, and `slack` hosts are fixed by the catalogue)."""
        url = config.get("url")
        if method == "webhook" and isinstance(url, str):
            await self.check_url(url)

    async def check_url(self, url: str) -> None:
        if self.own_receiver is not None and url.startswith(self.own_receiver):
            return  # a subscription's webhook, at the address the operator set for Quay to reach the bot
        try:
            parts = urlsplit(url)
            hostname, _ = parts.hostname, parts.port  # port: ValueError when it is not a number
        except ValueError:
            raise EgressRefused("the webhook URL cannot be read as a URL") from None
        if parts.scheme not in ("http", "https") or not hostname:
            raise EgressRefused("the webhook URL must be an http(s) URL with a host")
        if parts.username is not None or parts.password is not None:
            raise EgressRefused("the webhook URL must not contain a user name or password")
        host = normal_host(hostname)
        address = literal_address(host)
        if address is not None:
            self._check_address(host, address, named=False)
            return
        if host in NEVER_HOSTS or host.endswith(".localhost"):
            raise _never(host)
        try:
            resolved = await (self.resolver or system_resolver)(host)
        except (OSError, TimeoutError):
            raise EgressRefused(
                "the webhook host {host} cannot be resolved from the bot, so where it points cannot be checked",
                remedy="Check the name; the bot must be able to resolve it as Quay does.",
                host=_show(host),
            ) from None
        if not resolved:
            raise EgressRefused("the webhook host {host} has no address", host=_show(host))
        addresses = [ipaddress.ip_address(text.partition("%")[0]) for text in resolved]
        for resolved_address in addresses:
            self._check_address(host, resolved_address, named=True)
        private_name = host in PRIVATE_HOSTS or host.endswith(PRIVATE_SUFFIXES)
        if (
            private_name
            and host not in self.allowed_hosts
            and not all(_within(each, self.allowed_networks) for each in addresses)
        ):
            raise _private(host)

    def _check_address(self, host: str, address: IPAddress, *, named: bool) -> None:
        reach = reach_of(address)
        if reach == "never":
            raise _never(host)
        if reach == "private" and not (
            (named and host in self.allowed_hosts) or _within(address, self.allowed_networks)
        ):
            raise _private(host)


def _within(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    candidates = [address] + ([embedded] if (embedded := _embedded_ipv4(address)) is not None else [])
    return any(
        candidate in network for candidate in candidates for network in networks if candidate.version == network.version
    )


def _never(host: str) -> EgressRefused:
    return EgressRefused(
        "the webhook URL points at {host}, which is this machine, a link-local address such as a cloud "
        "metadata service, or another address no notification may reach",
        remedy="No setting allows it.",
        host=_show(host),
    )


def _private(host: str) -> EgressRefused:
    return EgressRefused(
        "the webhook URL points at {host}, which is on a private or internal network",
        remedy=(
            "An operator can allow internal targets with QUAYBOT_NOTIFY_ALLOWED_HOSTS (host names) or "
            "QUAYBOT_NOTIFY_ALLOWED_NETWORKS (networks such as 10.20.0.0/16)."
        ),
        host=_show(host),
    )


def _show(host: str, limit: int = 80) -> str:
    return f"`{host if len(host) <= limit else host[:limit] + '…'}`"


def egress_policy(settings: Settings, own_receiver: str | None) -> EgressPolicy:
    """The policy the operator's settings give; `own_receiver` is where the bot's own subscription
    webhooks point (under the public URL), which the operator set."""
    return EgressPolicy(
        allowed_networks=parse_networks(settings.notify_allowed_networks),
        allowed_hosts=frozenset(settings.notify_allowed_hosts),
        own_receiver=own_receiver,
    )
