"""`/quay login [QUAY_USERNAME]`, `/quay logout`, `/quay whoami`: a person's own Quay account.

`login` answers, to its caller only, with a button to the bot's start page (a single-use link for
ten minutes), which sends the browser on to Quay. Quay lets only admins of the application's
organization authorize it; anyone else asks with `login QUAY_USERNAME` (said in the audit channel)
for an admin to assign it, and then approves it on Quay's own page, where the same kind of button
takes them. No password is ever asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import quote

from slack_sdk.models.blocks import Block

from bot.access import Allowed, ChannelAccess, Role
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, actions, code, context, escape, link, section
from bot.blocks.people import login_button
from bot.blocks.render import plain_fallback
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, usage
from bot.i18n import t
from bot.outcomes import NotAvailable
from bot.quay.names import InvalidName, check_namespace
from bot.slices.spec import CommandSpec, Run


@dataclass(frozen=True)
class Login:
    username: str | None = None  # the Quay account to ask an admin to assign the application to
    command_name: ClassVar[str] = "login"


@dataclass(frozen=True)
class Logout:
    command_name: ClassVar[str] = "logout"


@dataclass(frozen=True)
class WhoAmI:
    command_name: ClassVar[str] = "whoami"


@dataclass(frozen=True)
class LoginOffered:
    url: str
    linked_as: str | None
    username: str | None  # asked to be assigned
    organization: str | None  # the OAuth application's, when Quay said
    assign_page: str | None
    redirect_uri: str
    scopes: str
    audit_channel: str | None  # where the request was posted


@dataclass(frozen=True)
class LoggedOut:
    username: str | None
    revoke_page: str | None


@dataclass(frozen=True)
class Identity:
    user_id: str
    linked_as: str | None
    scopes: tuple[str, ...]
    linked_at: float | None
    access: ChannelAccess | None
    guardrails: tuple[str, ...] = ()  # those that apply to this channel's namespaces
    login_enabled: bool = False


def build_login(bound: Bound, context: ParseContext) -> Login:
    if not bound.args:
        return Login()
    try:
        return Login(check_namespace(bound.args[0]))
    except InvalidName:
        raise usage("{value} is not a Quay username", value=bound.args[0][:60]) from None


def _not_set_up(command: Login | Logout, ctx: Run) -> NotAvailable:
    loc = ctx.policy.locale_of(ctx.caller.channel_id)
    missing = ", ".join(ctx.identities.missing) if ctx.identities is not None else ""
    return NotAvailable(
        command,
        t(loc, "Linking Quay accounts is not set up in this quaybot."),
        t(
            loc,
            "An operator sets QUAY_OAUTH_CLIENT_ID, QUAY_OAUTH_CLIENT_SECRET, QUAYBOT_PUBLIC_URL and "
            "QUAYBOT_SECRET_KEY (see the README)",
        )
        + (f" ({t(loc, 'missing:')} {missing})." if missing else "."),
    )


async def run_login(command: Login, ctx: Run) -> object:
    identities = ctx.identities
    if identities is None or not identities.enabled or identities.app is None:
        return _not_set_up(command, ctx)
    app = identities.app
    link_ = await identities.link_of(ctx.caller)
    url = await identities.login_url(ctx.caller)
    organization = await identities.organization()
    told = None
    if command.username is not None:
        url += "&assigned=" + quote(command.username, safe="")
        if await identities.request_assignment(ctx.caller, command.username):
            told = ctx.policy.audit_channel
    return LoginOffered(
        url,
        link_.quay_username if link_ is not None else None,
        command.username,
        organization,
        app.assign_page(organization) if organization else None,
        app.redirect_uri,
        app.scopes,
        told,
    )


def render_login(offer: LoginOffered, ctx: RenderContext) -> Message:
    org = code(offer.organization) if offer.organization else ctx.t("the application's organization")
    lines: list[str] = []
    if offer.linked_as:
        lines.append(ctx.t("You are linked to the Quay account {account}.", account=code(offer.linked_as)))
    if offer.username is None:
        lines.append(
            ctx.t(
                ":link: *Link your Quay account.* The button opens Quay, which asks you to approve quaybot. Quay lets "
                "only admins of {org} approve it themselves: if Quay answers *Forbidden*, run `/quay login "
                "YOUR_QUAY_USERNAME` to ask an admin to assign it to you.",
                org=org,
            )
        )
        label = ctx.t("Link your Quay account")
    else:
        page = link(offer.assign_page, ctx.t("its Applications page")) if offer.assign_page else ""
        lines.append(
            ctx.t(
                ":raised_hand: *Asked for quaybot to be assigned to the Quay user {user}.* An admin of {org} assigns "
                "it on {page} (quaybot, Generate token, Assign another user) with the redirect URI {uri} and the "
                "scopes {scopes}.",
                user=code(offer.username),
                org=org,
                page=page or org,
                uri=code(offer.redirect_uri),
                scopes=code(offer.scopes),
            )
        )
        if offer.audit_channel:
            lines.append(ctx.t("The request is posted in {channel}.", channel=f"<#{offer.audit_channel}>"))
        lines.append(
            ctx.t(
                "Once it is assigned, this button opens Quay's page where you approve it, and the link is made: "
                "open it in the browser you use for Quay."
            )
        )
        label = ctx.t("Approve the assignment in Quay")
    blocks: list[Block] = [
        section("\n".join(lines)),
        actions(login_button(label, offer.url)),
        context(ctx.t("The link lasts 10 minutes. quaybot never asks for your Quay password.")),
    ]
    return Message(plain_fallback(ctx.t("Link your Quay account")), blocks)


async def run_logout(command: Logout, ctx: Run) -> object:
    identities = ctx.identities
    if identities is None or not identities.enabled or identities.app is None:
        return _not_set_up(command, ctx)
    username = await identities.forget(ctx.caller)
    page = identities.app.approve_assignment_url(username) if username else None
    return LoggedOut(username, page)


def render_logout(result: LoggedOut, ctx: RenderContext) -> Message:
    if result.username is None:
        return Message(ctx.t("No Quay account was linked."), [section(ctx.t("No Quay account was linked."))])
    text = ctx.t(
        ":wave: quaybot forgot your link to the Quay account {account} and no longer holds its token. The "
        "authorization itself stays in Quay until you revoke it: Account settings, Authorized Applications, quaybot, "
        "Revoke.",
        account=code(result.username),
    )
    blocks: list[Block] = [section(text)]
    if result.revoke_page:
        blocks.append(context(link(result.revoke_page, ctx.t("Open your authorized applications in Quay"))))
    return Message(plain_fallback(ctx.t("Unlinked from {account}", account=result.username)), blocks)


async def run_whoami(command: WhoAmI, ctx: Run) -> object:
    identities = ctx.identities
    link_ = await identities.link_of(ctx.caller) if identities is not None and identities.enabled else None
    access = ctx.decision.access if isinstance(ctx.decision, Allowed) else None
    rails: tuple[str, ...] = ()
    if access is not None:
        rails = tuple(
            rail.summary for rail in ctx.policy.guardrails.rails if any(rail.covers(ns) for ns in access.namespaces)
        )
    return Identity(
        ctx.caller.user_id,
        link_.quay_username if link_ else None,
        link_.scopes if link_ else (),
        link_.linked_at if link_ else None,
        access,
        rails,
        identities is not None and identities.enabled,
    )


def render_whoami(who: Identity, ctx: RenderContext) -> Message:
    lines = [ctx.t("*Slack:* {user}", user=f"<@{who.user_id}>")]
    if who.linked_as:
        lines.append(
            ctx.t(
                "*Quay:* {account} (scopes: {scopes}), linked <!date^{when}^{{date_short}}|{iso}>.",
                account=code(who.linked_as),
                scopes=", ".join(who.scopes) or "?",
                when=int(who.linked_at or 0),
                iso=int(who.linked_at or 0),
            )
        )
    elif who.login_enabled:
        lines.append(ctx.t("*Quay:* not linked; `/quay login` links your account."))
    else:
        lines.append(ctx.t("*Quay:* linking accounts is not set up in this quaybot."))
    access = who.access
    if access is None:
        lines.append(ctx.t("This channel is not mapped to any Quay namespace."))
    else:
        namespaces = ", ".join(code(n) for n in access.namespaces)
        lines.append(
            ctx.t(
                "*Here:* {namespaces}, up to the *{role}* role.", namespaces=namespaces, role=ctx.t(access.role.label)
            )
        )
        if access.acts_as_person:
            lines.append(
                ctx.t(
                    "Commands here run as *your own Quay account*: Quay allows what it allows you, within this "
                    "channel's role, and its logs name you. (Subscriptions and the watch use the bot's token.)"
                )
            )
        else:
            lines.append(
                ctx.t("Commands here run with the *bot's Quay token*: Quay's logs name the token's owner, not you.")
            )
        if access.approval:
            names = ", ".join(code(n) for n in sorted(access.approval))
            lines.append(ctx.t("Need a second person's approval here: {commands}.", commands=names))
        for rail in who.guardrails:
            lines.append(ctx.t("Guardrail: {rule}", rule=escape(rail)))
    text = "\n".join(lines)
    return Message(plain_fallback(text), [section(text)])


def _nothing(command: object, masked: bool) -> list[str]:
    return []


LOGIN = CommandSpec(
    command=Login,
    definition=Definition(
        None,
        "login",
        "link your own Quay account (Quay asks you to approve)",
        Role.READ,
        build_login,
        (Arg("quay-username", optional=True),),
        note="with your Quay username: ask an admin to assign quaybot to you",
        topic="people",
    ),
    words=lambda command, masked: [command.username] if command.username else [],
    run=run_login,
    render=render_login,
    results=(LoginOffered,),
    namespace=lambda command: None,
    subject=lambda command: None,
    changes=False,
    answers_anywhere=True,
    needs_database=True,
)
LOGOUT = CommandSpec(
    command=Logout,
    definition=Definition(
        None, "logout", "forget your linked Quay account", Role.READ, lambda b, c: Logout(), topic="people"
    ),
    words=_nothing,
    run=run_logout,
    render=render_logout,
    results=(LoggedOut,),
    namespace=lambda command: None,
    subject=lambda command: None,
    changes=False,
    answers_anywhere=True,
    needs_database=True,
)
WHOAMI = CommandSpec(
    command=WhoAmI,
    definition=Definition(
        None,
        "whoami",
        "your Quay account, and who commands run as here",
        Role.READ,
        lambda b, c: WhoAmI(),
        topic="people",
    ),
    words=_nothing,
    run=run_whoami,
    render=render_whoami,
    results=(Identity,),
    namespace=lambda command: None,
    subject=lambda command: None,
    changes=False,
    answers_anywhere=True,
    needs_database=True,
)
