"""`/quay help [repo|notify|subscribe]`: what this channel may run, from the same definitions the
parser reads. It answers everywhere, also where no other command may run (with why not)."""

from __future__ import annotations

import dataclasses
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
from bot.quay import QuayError
from bot.slices.spec import CommandSpec, Run

TOPICS: dict[str, HelpTopic] = {
    "repo": "repo",
    "notify": "notify",
    "notification": "notify",
    "notifications": "notify",
    "subscribe": "subscribe",
    "subscriptions": "subscribe",
    "tag": "tag",
    "tags": "tag",
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
            "there is no help on `{topic}`; try `help repo`, `help notify`, `help tag`, `help subscribe` or "
            "`help people`",
            topic=topic,
        )
    return Help(TOPICS[topic] if topic else None)


async def run(command: Help, ctx: Run) -> HelpPage:
    decision = ctx.decision
    access = decision.access if isinstance(decision, Allowed) else None
    unavailable = f"{decision.reason} {decision.remedy}" if isinstance(decision, Denied) else None
    namespaces = access.namespaces if access is not None else ()
    guardrails = ctx.policy.guardrails
    page = help_page(
        ctx.definitions,
        command.topic,
        access,
        unavailable,
        denied=lambda words: guardrails.denies_outright(words, namespaces),
    )
    if access is None or not access.acts_as_person:
        return page
    return await _as_the_person(page, ctx, namespaces)


async def _as_the_person(page: HelpPage, ctx: Run, namespaces: tuple[str, ...]) -> HelpPage:
    """Where commands run as each person: whose account, and without `repo create` when Quay says
    that account may create in none of the channel's namespaces (`GET /api/v1/user/`)."""
    identities = ctx.identities
    link = await identities.link_of(ctx.caller) if identities is not None and identities.enabled else None
    if identities is None or link is None:
        return dataclasses.replace(page, person=None)
    try:
        user = await identities.client_for(link).whoami()
    except QuayError:
        return dataclasses.replace(page, person=link.quay_username)
    creates = {o.name for o in user.organizations or [] if o.can_create_repo} | {user.username}
    entries = page.entries
    if not any(namespace in creates for namespace in namespaces):
        entries = tuple(e for e in entries if not e.usage.startswith("repo create"))
    return dataclasses.replace(
        page, entries=entries, person=link.quay_username, beyond_person=len(page.entries) - len(entries)
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
    if page.access is not None and page.access.acts_as_person:
        if page.person is None:
            blocks.append(
                context(t(locale, "Commands here run as your own Quay account, which is not linked: `/quay login`."))
            )
        else:
            blocks.append(
                context(
                    t(
                        locale,
                        "Commands here run as your Quay account {account}: Quay decides, repository by repository, "
                        "what it may do.",
                        account=code(page.person),
                    )
                )
            )
    if page.beyond_person:
        blocks.append(
            context(
                plural(
                    locale,
                    page.beyond_person,
                    "{count} more command is beyond what your Quay account may do in these namespaces.",
                    "{count} more commands are beyond what your Quay account may do in these namespaces.",
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
