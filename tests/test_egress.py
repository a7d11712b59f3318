"""The egress policy for webhook targets (`bot/egress.py`): what it refuses, what an operator can
allow, and that nothing it accepts resolves into a blocked range."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.egress import EgressPolicy, EgressRefused, parse_networks
from bot.quay.catalogue import InvalidNotification, validate_method
from tests.conftest import examples
from tests.fakes.dns import PUBLIC, resolving

NAMES = resolving(
    {
        "ci.example.com": [PUBLIC],
        "rebind.example": ["127.0.0.1"],
        "mixed.example": [PUBLIC, "10.1.2.3"],
        "inside.example": ["10.1.2.3"],
        "ci.internal.example": ["10.20.3.4"],
        "ci.corp.internal": [PUBLIC],
        "loop.internal.example": ["127.0.0.1"],
        "v6.example": ["2606:4700::1"],
        "v6inside.example": ["fd12:3456::1"],
    }
)


def check(url: str, policy: EgressPolicy | None = None) -> str | None:
    """None when the policy lets `url` through, else the refusal as said in English (and its remedy)."""
    policy = policy or EgressPolicy(resolver=NAMES)
    try:
        asyncio.run(policy.check_url(url))
    except EgressRefused as refused:
        return f"{refused} {refused.remedy}"
    return None


NEVER = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1/",
    "http://127.1/",
    "http://127.0.0.1.:8080/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://localhost/",
    "http://localhost./",
    "http://LOCALHOST/",
    "http://api.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/",
    "http://[fe80::1%25eth0]/",
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://rebind.example/",  # a name that resolves to loopback
]
PRIVATE = [
    "http://10.0.0.5/hook",
    "http://10.20.1.1/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://0xa000001/",  # 10.0.0.1
    "http://192.0.2.10/",  # documentation
    "http://mixed.example/",  # one address of several is private
    "http://inside.example/",
    "http://ci.corp.internal/",  # an internal name, whatever it resolves to here
    "http://v6inside.example/",
]


@pytest.mark.parametrize("url", NEVER)
def test_loopback_link_local_and_metadata_are_never_allowed(url):
    allow_everything = EgressPolicy(
        allowed_networks=parse_networks(["0.0.0.0/0", "::/0"]),
        allowed_hosts=frozenset({"localhost", "metadata", "rebind.example", "metadata.google.internal"}),
        resolver=NAMES,
    )
    for policy in (EgressPolicy(resolver=NAMES), allow_everything):
        said = check(url, policy)
        assert said is not None, url
        assert "No setting allows it" in said or "not a valid host" in said


@pytest.mark.parametrize("url", PRIVATE)
def test_private_networks_are_refused_by_default_with_what_an_operator_can_allow(url):
    said = check(url)
    assert said is not None and "private or internal network" in said
    assert "QUAYBOT_NOTIFY_ALLOWED_NETWORKS" in said and "QUAYBOT_NOTIFY_ALLOWED_HOSTS" in said
    assert "10.1.2.3" not in said  # what a name resolved to is never said


def test_an_operator_allows_networks_and_host_names():
    policy = EgressPolicy(
        allowed_networks=parse_networks(["10.20.0.0/16"]),
        allowed_hosts=frozenset({"ci.internal.example", "ci.corp.internal", "loop.internal.example"}),
        resolver=NAMES,
    )
    assert check("http://10.20.1.1/hook", policy) is None
    assert check("http://[::ffff:10.20.1.1]/hook", policy) is None
    assert check("https://ci.internal.example/build", policy) is None  # by name, and by network too
    assert check("https://ci.corp.internal/build", policy) is None
    assert check("http://10.21.0.1/", policy) is not None  # another network
    assert check("http://inside.example/", policy) is not None  # a name not allowed, into 10.1/16
    assert "No setting" in (check("http://loop.internal.example/", policy) or "")  # allowed name, loopback


@pytest.mark.parametrize(
    "url",
    ["https://ci.example.com/hook", "http://93.184.215.14:8080/x", "https://v6.example/", "https://[2606:4700::1]/"],
)
def test_public_targets_pass(url):
    assert check(url) is None


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://user:pw@ci.example.com/", "user name or password"),
        ("http://nowhere.example/", "cannot be resolved"),
        ("ftp://ci.example.com/", "http(s) URL"),
        ("http://ci.example.com:99999/", "cannot be read"),
        ("http://exa_mple.com/", "not a valid host name"),
        ("http://" + "a" * 64 + ".com/", "not a valid host name"),
    ],
)
def test_other_refusals_say_why(url, said):
    assert said in (check(url) or "")


def test_the_bots_own_receiver_is_allowed():
    policy = EgressPolicy(own_receiver="http://127.1:3000/quay/events/", resolver=NAMES)
    assert check("http://127.1:3000/quay/events/abc?event=repo_push", policy) is None
    assert check("http://127.1:3000/other", policy) is not None


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.slack.com/services/T0/B0/x", True),
        ("https://hooks.slack-gov.com/services/T0/B0/x", True),
        ("https://HOOKS.SLACK.COM/services/T0/B0/x", True),
        ("https://hooks.slack.com.evil.example/services/x", False),
        ("https://evil.example/hooks.slack.com/services/x", False),
        ("http://hooks.slack.com/services/x", False),
        ("https://hooks.slack.com:8443/services/x", False),
        ("https://user@hooks.slack.com/services/x", False),
    ],
)
def test_slack_targets_go_to_slack_only(url, ok):
    try:
        validate_method("slack", {"url": url}, "team-a")
    except InvalidNotification:
        assert not ok, url
    else:
        assert ok, url


# Hosts spelled every way the C resolver reads an IPv4 address, and IPv6 ones.
def _ipv4_spellings(number: int) -> st.SearchStrategy[str]:
    a, b, c, d = number.to_bytes(4, "big")
    return st.sampled_from(
        [
            f"{a}.{b}.{c}.{d}",
            str(number),
            hex(number),
            f"0{oct(number)[2:]}",
            f"{a}.{(b << 16) | (c << 8) | d}",
            f"{a}.{b}.{(c << 8) | d}",
            f"{hex(a)}.{hex(b)}.{hex(c)}.{hex(d)}",
            f"0{a:o}.{b}.{c}.{d}",
            f"[::ffff:{a}.{b}.{c}.{d}]",
            f"[64:ff9b::{a}.{b}.{c}.{d}]",
        ]
    )


HOSTS = st.one_of(
    st.integers(0, 2**32 - 1).flatmap(_ipv4_spellings),
    st.integers(0, 2**128 - 1).map(lambda n: f"[{ipaddress.IPv6Address(n)}]"),
    st.sampled_from(["127.0.0.1", "10.0.0.1", "169.254.169.254", "100.64.0.1", "192.168.0.1"]).flatmap(
        lambda v4: _ipv4_spellings(int(ipaddress.IPv4Address(v4)))
    ),
)
ALLOWED = parse_networks(["10.20.0.0/16", "fd00::/8"])


def _oracle_addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """What the C library makes of a numeric host, on its own (no code of the bot's)."""
    bare = host.strip("[]")
    infos = socket.getaddrinfo(bare, None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return _blocked(mapped)
    if address.is_loopback or address.is_link_local or address.is_unspecified or address.is_multicast:
        return True
    return not address.is_global and not any(address in n for n in ALLOWED if n.version == address.version)


@given(HOSTS)
@example("0x7f.1")
@example("[::ffff:127.0.0.1]")
@example("017700000001")
def test_nothing_the_policy_accepts_resolves_into_a_blocked_range(host):
    policy = EgressPolicy(allowed_networks=ALLOWED, resolver=NAMES)
    if check(f"http://{host}/hook", policy) is not None:
        return
    try:
        addresses = _oracle_addresses(host)
    except socket.gaierror:
        return  # the C library does not read it as an address: neither would Quay's worker
    for address in addresses:
        assert not _blocked(address), (host, str(address))


def test_the_property_runs_enough_examples():
    # Guards the strategy above from silently shrinking to nothing (a refactor that made every host
    # unparseable would pass the property vacuously).
    accepted = 0
    policy = EgressPolicy(resolver=NAMES)
    for number in range(0, 2**32, 2**32 // examples(64)):
        if check(f"http://{number}/", policy) is None:
            accepted += 1
    assert 0 < accepted < examples(64)
