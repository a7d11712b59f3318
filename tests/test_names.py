"""Every name, id and token the bot validates is matched whole: no accepted value carries whitespace
or a control character (`re.match` with `$` accepted "web\\n")."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.access import CHANNEL_ID, ENV_NAME, USER_ID
from bot.quay.catalogue import InvalidNotification, validate_method
from bot.quay.names import InvalidName, RepositoryRef, check_namespace, check_notification_uuid, check_repository_name
from bot.subscriptions import tokens

# Names that look right, with something unseen around or inside them.
NEAR = st.sampled_from(["team-a", "web", "api/v2", "C0READ", "U0ALICE", "QUAY_TOKEN_A", "a" * 40]).flatmap(
    lambda good: st.builds(
        lambda i, junk: good[:i] + junk + good[i:],
        st.integers(0, len(good)),
        st.sampled_from(["\n", "\r\n", "\t", " ", "\x00", "\x0b", "\x0c", "\u2028", "\u00a0", "\x7f"]),
    )
)


def unseen(value: str) -> bool:
    return any(char.isspace() or not char.isprintable() for char in value)


@given(st.one_of(NEAR, st.text(max_size=80)))
@example("web\n")
@example("team-a\n")
@example("3f2b6f1e-0c1d-4e5f-8a9b-0c1d2e3f4a5b\n")
@pytest.mark.parametrize(
    "check",
    [check_namespace, check_repository_name, check_notification_uuid, RepositoryRef.parse],
    ids=["namespace", "repository", "uuid", "ref"],
)
def test_no_accepted_quay_name_contains_whitespace_or_control_characters(check, value):
    try:
        accepted = check(value)
    except InvalidName:
        return
    assert not unseen(str(accepted)) and not unseen(value)


@given(st.one_of(NEAR, st.text(max_size=40)))
@example("C0READ\n")
@example("U0ALICE\n")
@example("QUAY_TOKEN\n")
def test_access_file_ids_are_matched_whole(value):
    for pattern in (CHANNEL_ID, USER_ID, ENV_NAME):
        if pattern.fullmatch(value):
            assert not unseen(value)


@given(st.one_of(NEAR, st.text(max_size=200)))
@example("A" * 43 + "\n")
def test_subscription_tokens_are_matched_whole(value):
    if tokens.well_formed(value):
        assert not unseen(value)


@given(st.text(max_size=60))
@example("ops@example.com\n")
@example("ops@example.com\nBcc: all@example.com")
def test_email_targets_are_matched_whole(local):
    address = local if "@" in local else f"{local}@example.com"
    try:
        validate_method("email", {"email": address}, "team-a")
    except InvalidNotification:
        return
    assert not unseen(address)


def test_the_reported_cases_are_refused():
    for bad in ("web\n", "web\r\n"):
        with pytest.raises(InvalidName):
            check_repository_name(bad)
    with pytest.raises(InvalidName):
        RepositoryRef.parse("team-a/web\n")
    with pytest.raises(InvalidName):
        check_namespace("team-a\n")
