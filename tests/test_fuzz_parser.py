"""Fuzzing the parser: any text gives a command or a usage error, never an exception, and every
usage error renders to a valid Slack message."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.blocks.context import RenderContext
from bot.commands.grammar import ParseContext
from bot.commands.model import UsageError
from bot.outcomes import Unparsed
from bot.quay.names import RepositoryRef
from bot.slices import REGISTRY, parse, render
from tests.conftest import examples
from tests.fakes import blockkit

DEFINITIONS = REGISTRY.definitions
namespace_of = REGISTRY.namespace_of

CONTEXTS = st.sampled_from([ParseContext(), ParseContext(("team-a",)), ParseContext(("team-a", "team-b"))])
WORDS = st.sampled_from(
    sorted(
        {w for d in DEFINITIONS for w in d.usage.replace("[", " ").replace("]", " ").replace("|", " ").split()}
        | {
            "repo",
            "notify",
            "notification",
            "get",
            "show",
            "team-a/api",
            "api",
            "../x",
            "%2F",
            "?",
            "#",
            "--",
            "=",
            "a=b",
            "url=<https://h.example/x|x>",
            "email=<mailto:a@b.example|a@b.example>",
            "&amp;",
            "&lt;",
            '"',
            "'",
            "“",
            "”",
            "repo_push",
            "webhook",
            "slack",
            "3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d",
            "level=high",
            "days=3",
            "target=user:x",
            "\\",
            "\x00",
            "\u202e",
            "𝕏",
            "--title=",
            "--event-config=",
            "public",
            "private",
        }
    )
)
TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(WORDS, max_size=12).map(" ".join),
    st.lists(st.one_of(WORDS, st.text(alphabet=string.printable, max_size=12)), max_size=10).map(" ".join),
)
FAST = settings(max_examples=examples(600), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(TEXT, CONTEXTS)
def test_any_text_parses_to_a_command_or_a_usage_error(text, context):
    result = parse(text, context)
    if isinstance(result, UsageError):
        assert result.message
        message = render(Unparsed(result), RenderContext("https://quay.example.com")).to_dict()
        assert blockkit.problems(message) == []
        return
    namespace = namespace_of(result)
    if namespace is not None:
        repo = getattr(result, "repo", None)
        if repo is not None:
            # Whatever was typed, a parsed repository is a valid name that cannot change a URL path.
            assert RepositoryRef.parse(repo.full_name) == repo
            assert not set(repo.path) & set("?#% \\") and ".." not in repo.path.split("/")


@FAST
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=4000))
def test_oversized_and_unicode_text(text):
    result = parse("repo describe team-a/api " + repr(text), ParseContext())
    assert result is not None


NAME_CHARS = string.ascii_lowercase + string.digits
NAMESPACES = st.text(NAME_CHARS, min_size=2, max_size=12).filter(lambda s: s[0].isalpha())
REPO_NAMES = st.lists(
    st.text(NAME_CHARS + "-_.", min_size=1, max_size=10).filter(lambda s: s[0].isalnum()), min_size=1, max_size=3
).map("/".join)
UUIDS = st.uuids().map(str)


@st.composite
def destructive_commands(draw):
    """What a confirmation stores: every command that asks to be confirmed, with any valid names."""
    from bot.slices.notify_delete import NotifyDelete
    from bot.slices.repo_delete import RepoDelete
    from bot.slices.repo_visibility import RepoVisibility

    try:
        repo = RepositoryRef(draw(NAMESPACES), draw(REPO_NAMES))
    except ValueError:
        from hypothesis import reject

        reject()
    kind = draw(st.sampled_from(["repo delete", "repo visibility", "notify delete"]))
    if kind == "repo delete":
        return RepoDelete(repo)
    if kind == "repo visibility":
        return RepoVisibility(repo, "public")
    return NotifyDelete(repo, draw(UUIDS))


@settings(max_examples=examples(300), deadline=None)
@given(command=destructive_commands(), context=CONTEXTS)
def test_stored_confirmation_text_parses_back_to_the_same_command(command, context):
    """A click runs what `command_text` stored, parsed again (with no channel context): it must be the
    very command that was confirmed."""
    is_destructive, command_text = REGISTRY.is_destructive, REGISTRY.text

    assert is_destructive(command)
    stored = command_text(command, masked=False)
    assert parse(stored, ParseContext()) == command
    assert parse(stored, context) == command  # a channel's own namespaces change nothing about it
