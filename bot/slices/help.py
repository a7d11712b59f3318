"""`/quay help [repo|notify|subscribe]`: what this channel may run, from the same definitions the
parser reads. It answers everywhere, also where no other command may run (with why not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from slack_sdk.models.blocks import Block

from bot.access import Allowed, Denied, Role
from bot.blocks.context import RenderContext
from bot.blocks.ids import NO_VALUE, OPEN_NOTIFY_CREATE, OPEN_REPO_CREATE
from bot.blocks.message import Message, actions, button, chunk_lines, code, context, escape, header, section
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, usage
from bot.commands.help import HelpPage, help_page
from bot.commands.model import HelpTopic
from bot.i18n import plural, t
from bot.slices.spec import CommandSpec, Run

TOPICS: dict[str, HelpTopic] = {
    "repo": "repo",
    "notify": "notify",
    "notification": "notify",
    "notifications": "notify",
    "subscribe": "subscribe",
    "subscriptions": "subscribe",
    "people": "people",
    "login": "people",
}


@dataclass(frozen=True)
class Help:
    topic: HelpTopic | None = None
    command_name: ClassVar[str] = "help"


def build(bound: Bound, context: ParseContext) -> Help:
    topic = bound.args[0].lower() if bound.args else None
    if topic is not None and topic not in TOPICS:
        raise usage(
            "there is no help on `{topic}`; try `help repo`, `help notify`, `help subscribe` or `help people`",
            topic=topic,
        )
    return Help(TOPICS[topic] if topic else None)


async def run(command: Help, ctx: Run) -> HelpPage:
    decision = ctx.decision
    access = decision.access if isinstance(decision, Allowed) else None
    unavailable = f"{decision.reason} {decision.remedy}" if isinstance(decision, Denied) else None
    namespaces = access.namespaces if access is not None else ()
    guardrails = ctx.policy.guardrails
    return help_page(
        ctx.definitions,
        command.topic,
        access,
        unavailable,
        denied=lambda words: guardrails.denies_outright(words, namespaces),
    )


def render(page: HelpPage, ctx: RenderContext) -> Message:
    locale = ctx.locale
    blocks: list[Block] = [header("quaybot: /quay" + (f" {page.topic}" if page.topic else ""))]
    if page.access is not None:
        namespaces = ", ".join(code(n) for n in page.access.namespaces)
        role = t(locale, page.access.role.label)
        blocks.append(
            section(
                t(locale, "This channel acts on {namespaces} with the *{role}* role.", namespaces=namespaces, role=role)
            )
        )
    if page.unavailable:
        blocks.append(section(f":no_entry: {page.unavailable}"))
    if page.entries:
        lines = [f"`/quay {escape(e.usage)}`\n      {escape(t(locale, e.summary))}" for e in page.entries]
        blocks += [section(chunk) for chunk in chunk_lines(lines)]
    if page.topic is None and page.access is not None and page.access.role >= Role.WRITE:
        # `/quay` alone: the forms, for those who would rather not type.
        blocks.append(
            actions(
                button(t(locale, "Create a repository"), OPEN_REPO_CREATE, NO_VALUE, style="primary"),
                button(t(locale, "Add a notification"), OPEN_NOTIFY_CREATE, NO_VALUE),
            )
        )
    if page.hidden and page.access is not None:
        blocks.append(
            context(
                plural(
                    locale,
                    page.hidden,
                    "{count} more command needs a higher role than this channel has.",
                    "{count} more commands need a higher role than this channel has.",
                )
            )
        )
    if page.guarded and page.access is not None:
        blocks.append(
            context(
                plural(
                    locale,
                    page.guarded,
                    "{count} more command is denied here by a guardrail (`/quay whoami` names them).",
                    "{count} more commands are denied here by guardrails (`/quay whoami` names them).",
                )
            )
        )
    notes = [escape(t(locale, n)) for n in page.notes]
    if page.topic is None:
        notes.append(t(locale, "`/quay help repo`, `/quay help notify` and `/quay help subscribe` show details."))
    blocks += [context(note) for note in notes]
    summary = "; ".join(e.usage for e in page.entries) or (page.unavailable or t(locale, "nothing to run here"))
    return Message(f"/quay help: {summary}", blocks)


SPEC = CommandSpec(
    command=Help,
    definition=Definition(None, "help", "show what you can run here", Role.READ, build, (Arg("topic", optional=True),)),
    words=lambda command, masked: [command.topic] if command.topic else [],
    run=run,
    render=render,
    results=(HelpPage,),
    namespace=lambda command: None,
    subject=lambda command: None,
    changes=False,
    answers_anywhere=True,
)
