"""Adding a command is one module and one registry line: here a command defined in this test module
alone (`repo kind`), registered at run time, is parsed, helped, authorised, run against the fake
Quay, rendered and answered through Slack and `quaybot run`, and written back for the audit log,
without any other file knowing of it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, code, section
from bot.cli import main
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, repository
from bot.commands.model import UsageError
from bot.quay.names import RepositoryRef
from bot.slices import REGISTRY
from bot.slices.spec import CommandSpec, Run
from tests.conftest import T
from tests.e2e.conftest import ALICE
from tests.fakes.quay import FakeQuay, FakeQuayServer
from tests.fakes.slack_driver import SlackDriver

# The whole command: its type, grammar, Quay call, result and rendering ----------------------------


@dataclass(frozen=True)
class RepoKind:
    repo: RepositoryRef
    command_name: ClassVar[str] = "repo kind"


@dataclass(frozen=True)
class KindShown:
    repo: RepositoryRef
    kind: str


def build(bound: Bound, context: ParseContext) -> RepoKind:
    return RepoKind(repository(bound.args[0], context))


async def run(command: RepoKind, ctx: Run) -> KindShown:
    found = await ctx.quay.get_repository(command.repo, include_tags=False)
    return KindShown(command.repo, found.kind)


def render(result: KindShown, ctx: RenderContext) -> Message:
    return Message(f"{result.repo} holds {result.kind}s", [section(f"{code(str(result.repo))} holds {result.kind}s")])


KIND = CommandSpec(
    command=RepoKind,
    definition=Definition(
        "repo", "kind", "say what a repository holds", Role.READ, build, (Arg("repo"),), topic="repo"
    ),
    words=lambda command, masked: [str(command.repo)],
    run=run,
    render=render,
    results=(KindShown,),
    changes=False,
)


@pytest.fixture
def registered() -> Iterator[CommandSpec]:
    REGISTRY.register(KIND)
    yield KIND
    REGISTRY.unregister(KIND)


def test_it_is_unknown_until_registered():
    assert isinstance(REGISTRY.parse("repo kind team-a/api"), UsageError)


def test_slash_command_help_and_rendering(registered, driver: SlackDriver, world: FakeQuay):
    reply = driver.reply(driver.slash("repo kind api", user=ALICE, channel="C0READ"))
    assert "`team-a/api` holds images" in reply.text
    assert reply.body["response_type"] == "ephemeral"
    helped = driver.reply(driver.slash("help repo", user=ALICE, channel="C0READ"))
    assert "/quay repo kind &lt;ns&gt;/&lt;name&gt;" in helped.text and "say what a repository holds" in helped.text
    near = driver.reply(driver.slash("repo kinf api", user=ALICE, channel="C0READ"))
    assert "did you mean `repo kind`?" in near.text
    outside = driver.reply(driver.slash("repo kind other-team/x", user=ALICE, channel="C0READ"))
    assert "Not allowed" in outside.text  # the access policy applies to it as to any command
    assert REGISTRY.text(RepoKind(RepositoryRef("team-a", "api"))) == "repo kind team-a/api"


def test_the_cli_runs_it(registered, quay: FakeQuayServer, world: FakeQuay, tmp_path: Path, monkeypatch, capsys):
    access = tmp_path / "access.yml"
    access.write_text("channels:\n  C0READ:\n    namespaces: [team-a]\n    role: read\n")
    for name, value in {"QUAY_URL": quay.url, "QUAY_TOKEN": T, "QUAYBOT_ACCESS_FILE": str(access)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--channel", "C0READ", "--user", "U0ANY", "--", "repo", "kind", "web"]) == 0
    assert "team-a/web holds images" in capsys.readouterr().out


# Every command the registry holds: each parses from its own usage line and writes back the same ---

SAMPLES: dict[str, list[str]] = {
    "repo": ["team-a/api"],
    "namespace": ["team-a"],
    "text": ["a description"],
    "visibility": ["private"],
    "uuid": [str(uuid.UUID(int=7))],
    "event": ["repo_push"],
    "method": ["webhook", "url=https://ci.example.com/hook"],
    "topic": ["repo"],
    "target": ["team-a/api"],
    "quay-username": ["freshuser"],
    "tag": ["team-a/api:prod"],
    "digest": ["sha256:" + "a" * 64],
    "manifest": ["latest"],
    "when": ["7d"],
}


def sample_words(definition: Definition) -> list[str]:
    words = definition.words.split()
    for arg in definition.args:
        words += SAMPLES[arg.kind]
    return words


@pytest.mark.parametrize("spec", REGISTRY.specs, ids=[s.definition.words for s in REGISTRY.specs])
def test_every_registered_command_reads_its_own_usage_and_writes_back_the_same(spec: CommandSpec):
    from shlex import join

    parsed: Any = REGISTRY.parse(join(sample_words(spec.definition)), ParseContext())
    assert isinstance(parsed, spec.command), parsed
    assert REGISTRY.parse(REGISTRY.text(parsed, masked=False), ParseContext()) == parsed
    assert spec.results and spec.definition.summary
    assert spec.definition.topic is not None or spec.definition.verb == "help"
    assert (spec.preview is not None) == (spec.destructive is not CommandSpec.destructive)
