"""Messages of people acting as themselves: the login button, an approval request, and an audit
channel's lines."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ButtonElement, PlainTextObject

from bot.blocks.context import RenderContext
from bot.blocks.ids import APPROVE_ACTION, LOGIN_OPEN_ACTION, REJECT_ACTION, WITHDRAW_ACTION
from bot.blocks.message import Message, actions, button, context, escape, section
from bot.blocks.render import plain_fallback


def login_button(label: str, url: str) -> ButtonElement:
    """A link button: the browser opens the bot's start page (Slack also sends the click, acked only)."""
    return ButtonElement(
        text=PlainTextObject(text=label), action_id=LOGIN_OPEN_ACTION, url=url, value="login", style="primary"
    )


def render_not_linked(name: str, reason: str, login_url: str, ctx: RenderContext) -> Message:
    text = ctx.t(":closed_lock_with_key: *`{name}` was not run.*", name=name) + f" {escape(reason)}"
    blocks: list[Block] = [
        section(text),
        actions(login_button(ctx.t("Link your Quay account"), login_url)),
        context(ctx.t("The link lasts 10 minutes. quaybot never asks for your Quay password.")),
    ]
    return Message(plain_fallback(f"{name}: {escape(reason)}"), blocks)


def render_approval_request(
    question: str, facts: list[str], requester: str, approval_id: str, ctx: RenderContext
) -> Message:
    """In the channel: who asks for what, the same facts as their confirmation, and the buttons."""
    asks = ctx.t("{who} asks for a second person's approval:", who=f"<@{requester}>")
    body = f":raised_hand: {asks} *{question}*\n" + "\n".join(f"• {fact}" for fact in facts)
    blocks: list[Block] = [
        section(body),
        actions(
            button(ctx.t("Approve"), APPROVE_ACTION, approval_id, style="danger"),
            button(ctx.t("Reject"), REJECT_ACTION, approval_id),
            button(ctx.t("Withdraw"), WITHDRAW_ACTION, approval_id),
        ),
        context(
            ctx.t(
                "Any other member allowed to run it may approve or reject; {who} may withdraw. It runs once, and "
                "expires in {minutes} minutes.",
                who=f"<@{requester}>",
                minutes=int((ctx.approval_ttl or 3600.0) / 60),
            )
        ),
    ]
    return Message(plain_fallback(ctx.t("Approval needed: {question}", question=question)), blocks, in_channel=True)
