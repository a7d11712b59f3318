"""Forms (Slack modals): which text opens one, who may open it (checked again on submit), redrawing
the notification form as its event and method are picked, and reading a submission back into the
command it stands for."""

from __future__ import annotations

from typing import cast

from slack_sdk.models.views import View

from bot.access import Caller, Denied, Role
from bot.blocks import forms as form_views
from bot.blocks.message import Message, plain
from bot.blocks.render import render_refusal
from bot.commands.model import Command
from bot.interactions.replies import Reply, Shared, malformed
from bot.quay.models import Repository
from bot.quay.names import InvalidName, RepositoryRef
from bot.slices import render, repo_describe


class FormReplies:
    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    def _may_change(self, caller: Caller, namespace: str | None, action: str) -> tuple[str, ...] | Reply:
        """The channel's namespaces, when this user may change them from here (checked again on submit)."""
        policy = self.shared.service.policy
        access = policy.channel(caller.channel_id)
        # The role is the channel's: with no namespace named, any of its own stands for all of them.
        target = namespace or (access.namespaces[0] if access is not None else "")
        decision = policy.check(caller, target, Role.WRITE, action)
        if isinstance(decision, Denied):
            return Reply(render_refusal(decision.reason, decision.remedy, self.shared.locale_of(caller)))
        return decision.access.namespaces

    def for_text(self, text: str, caller: Caller) -> View | Reply | None:
        """`repo create` with no name and `notify create <repo>` with no event or method open a form;
        anything else is a typed command (None)."""
        words = text.split()
        lowered = [w.lower() for w in words]
        if lowered == ["repo", "create"]:
            return self.repo_create(caller)
        if (
            len(words) in (2, 3)
            and lowered[1] == "create"
            and lowered[0] in ("notify", "notification", "notifications")
        ):
            repo = words[2] if len(words) == 3 else None
            default = self.shared.service.context_for(caller).default_namespace
            if repo is not None and "/" not in repo and default is not None:
                repo = f"{default}/{repo}"
            return self.notify_create(caller, repo)
        return None

    def repo_create(self, caller: Caller) -> View | Reply:
        allowed = self._may_change(caller, None, "repo create")
        if isinstance(allowed, Reply):
            return allowed
        return form_views.repo_create_modal(caller.channel_id, allowed, self.shared.locale_of(caller))

    def notify_create(self, caller: Caller, repo: str | None) -> View | Reply:
        namespace = None
        if repo is not None:
            try:
                namespace = RepositoryRef.parse(repo).namespace
            except InvalidName as error:
                return Reply(plain(f":grey_question: {error.said(self.shared.locale_of(caller))}"))
        allowed = self._may_change(caller, namespace, "notify create")
        if isinstance(allowed, Reply):
            return allowed
        return form_views.notify_create_modal(caller.channel_id, repo, loc=self.shared.locale_of(caller))

    def notify_changed(self, view: dict[str, object]) -> View:
        """The event or the method was picked: the form again, with that one's settings."""
        values = state_of(view)
        channel, repo = form_views.read_metadata(str(view.get("private_metadata") or ""))
        event, method = form_views.value(values, form_views.EVENT), form_views.value(values, form_views.METHOD)
        locale = self.shared.service.policy.locale_of(channel)
        return form_views.notify_create_modal(channel, repo, event, method, values, locale)

    def describe(self, caller: Caller, repo: str) -> View | Reply:
        try:
            namespace = RepositoryRef.parse(repo).namespace
        except InvalidName:
            return malformed(self.shared.locale_of(caller))
        allowed = self._may_change(caller, namespace, "repo describe")
        if isinstance(allowed, Reply):
            return allowed
        return form_views.describe_loading_modal(caller.channel_id, repo, self.shared.locale_of(caller))

    async def describe_loaded(self, caller: Caller, repo: str) -> View | Message:
        """The form with the current description, or why it cannot be read."""
        found = await repo_describe.current(RepositoryRef.parse(repo), caller, self.shared.service)
        if isinstance(found, Repository):
            return form_views.describe_modal(caller.channel_id, repo, found.description, self.shared.locale_of(caller))
        return render(found, self.shared.ctx(caller))

    def read(self, callback_id: str, view: dict[str, object], caller: Caller) -> Command | form_views.Invalid:
        """The command a submitted form stands for (or what to fix, per field). `caller` is who the bot
        opened it for, and where (`bot/slack/views.py`), not what the submission says."""
        _, repo = form_views.read_metadata(str(view.get("private_metadata") or ""))
        access = self.shared.service.policy.channel(caller.channel_id)
        namespaces = access.namespaces if access is not None else ()
        form = self.shared.service.registry.forms[callback_id]  # Bolt routes only the forms registered
        read = form.read(state_of(view), namespaces, repo, self.shared.locale_of(caller))
        return cast("Command | form_views.Invalid", read)


def state_of(view: dict[str, object]) -> form_views.Values:
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    return values if isinstance(values, dict) else {}
