"""From observations to stored alert states and queued Slack messages.

Read what the channels were told (a snapshot), decide (pure, `decide.py`), render the messages, then
write states and messages in one transaction that first checks the snapshot still holds; when
another watcher got there first, start again from a fresh snapshot. No rendering happens inside a
transaction, and a change is never announced twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from bot.alerts.decide import Decision, Known, Seen, decide, digests
from bot.alerts.states import ALERTING, State
from bot.blocks.alerts import AlertView, render_alert, render_digest, render_thread_line
from bot.blocks.message import code
from bot.i18n import t
from bot.store.alerts import AlertRecord, AlertStore, AlertWrite, Conflict, NewPost, Snapshot
from bot.store.db import Database
from bot.store.outbox import Payload

log = logging.getLogger(__name__)
ATTEMPTS = 5


@dataclass
class AnnounceResult:
    new_alerts: int = 0
    digests: int = 0
    edits: int = 0
    thread_lines: int = 0
    muted: int = 0

    def add(self, other: AnnounceResult) -> None:
        for name in ("new_alerts", "digests", "edits", "thread_lines", "muted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Announcer:
    def __init__(
        self, db: Database, store: AlertStore, quay_url: str, locale_of: Callable[[str], str] = lambda channel: "en"
    ) -> None:
        self.db = db
        self.store = store
        self.quay_url = quay_url
        self.locale_of = locale_of  # a channel's language, from the access policy in force

    async def observe(
        self, namespace: str, observed: Mapping[str, Sequence[Seen]], channels: Sequence[str], now: float
    ) -> AnnounceResult:
        """Record what the notifications of these repositories look like now; queue what to say."""
        if not observed:
            return AnnounceResult()
        seen = [item.uuid for items in observed.values() for item in items]
        take_snapshot = partial(self.store.snapshot, namespace, observed, now, also_uuids=seen)
        for _ in range(ATTEMPTS):
            snapshot = await self.db.run(take_snapshot)
            known = {key: _known(record) for key, record in snapshot.records.items()}
            decisions = decide(known, observed, channels, snapshot.muted, snapshot.subscribers)
            writes, posts, result = self._render(namespace, decisions)
            try:
                await self.db.run(partial(self.store.apply, writes, posts, now))
                return result
            except Conflict as conflict:
                log.info("alert changed meanwhile by another watcher; deciding again", extra={"why": str(conflict)})
        raise RuntimeError("alert state kept changing under this watcher")

    async def note_reset(self, uuid: str, user_id: str, now: float) -> int:
        """Someone reset the failures through the bot: open alerts say who, and are marked recovered."""
        return await self._note_reset(
            uuid, now, lambda locale: t(locale, "Failures reset by {who}.", who=f"<@{user_id}>")
        )

    async def note_reset_in_quay(self, uuid: str, username: str, now: float) -> int:
        """The usage logs say someone reset the failures in Quay's UI: open alerts say who, by their
        Quay name (the bot does not know their Slack one), and are marked recovered."""
        return await self._note_reset(
            uuid, now, lambda locale: t(locale, "Failures reset in Quay by {who}.", who=code(username))
        )

    async def note_deleted_in_quay(self, uuid: str, username: str, now: float) -> int:
        """The usage logs say someone deleted the notification in Quay's UI: open alerts say who and
        end as gone (the read that follows finds it gone and has nothing more to say)."""
        return await self._note(
            uuid, now, "gone", lambda locale: t(locale, "Notification deleted in Quay by {who}.", who=code(username))
        )

    async def _note_reset(self, uuid: str, now: float, said_in: Callable[[str], str]) -> int:
        return await self._note(uuid, now, "recovered", said_in)

    async def _note(self, uuid: str, now: float, state: State, said_in: Callable[[str], str]) -> int:
        """Open alerts of one notification say a line in their thread and take `state`."""
        for _ in range(ATTEMPTS):
            snapshot: Snapshot = await self.db.run(lambda: self.store.notification_snapshot(uuid, now))
            open_alerts = [r for r in snapshot.records.values() if r.state in ALERTING]
            writes = []
            for record in open_alerts:
                said = said_in(self.locale_of(record.channel))
                line = render_thread_line(said).to_dict()
                view = _view(record, state=state, failures=0 if state == "recovered" else record.failures)
                messages: tuple[tuple[str, Payload], ...] = (("thread", line),)
                if not record.in_digest:
                    messages = (("update", self._alert(view, record.channel)), *messages)
                writes.append(_write(record, state, view.failures, messages))
            try:
                await self.db.run(partial(self.store.apply, writes, [], now))
                return len(open_alerts)
            except Conflict:
                continue
        raise RuntimeError(f"alert state kept changing while noting it {state}")

    def _alert(self, view: AlertView, channel: str) -> Payload:
        return render_alert(view, self.quay_url, self.locale_of(channel)).to_dict()

    def _render(
        self, namespace: str, decisions: Sequence[Decision]
    ) -> tuple[list[AlertWrite], list[NewPost], AnnounceResult]:
        result = AnnounceResult()
        grouped = digests(decisions)
        in_digest = {d.key for items in grouped.values() for d in items}
        posts = [
            NewPost(
                channel,
                render_digest(
                    [_decision_view(namespace, d) for d in items], self.quay_url, self.locale_of(channel)
                ).to_dict(),
                tuple(d.seen.uuid for d in items),
                digest=True,
            )
            for channel, items in grouped.items()
        ]
        result.digests = len(posts)
        writes: list[AlertWrite] = []
        for decision in decisions:
            view = _decision_view(namespace, decision)
            messages: list[tuple[str, Payload]] = []
            if decision.announce and decision.key not in in_digest:
                posts.append(NewPost(decision.channel, self._alert(view, decision.channel), (decision.seen.uuid,)))
            if decision.announce:
                result.new_alerts += 1
            result.muted += decision.muted
            if decision.edit:
                messages.append(("update", self._alert(view, decision.channel)))
                result.edits += 1
            if decision.thread:
                said = t(self.locale_of(decision.channel), decision.thread, **dict(decision.thread_params))
                if decision.thread_subject:
                    said = f"{decision.thread_subject}: {said}"
                messages.append(("thread", render_thread_line(said).to_dict()))
                result.thread_lines += 1
            writes.append(
                AlertWrite(
                    decision.channel,
                    decision.seen.uuid,
                    namespace,
                    decision.repository,
                    decision.state,
                    decision.seen.failures,
                    decision.seen.event,
                    decision.seen.method,
                    decision.seen.target,
                    decision.seen.title,
                    (decision.known.state, decision.known.failures) if decision.known else None,
                    new_episode=decision.announce or decision.muted,
                    messages=tuple(messages),
                )
            )
        return writes, posts, result


def _known(record: AlertRecord) -> Known:
    seen = Seen(record.uuid, record.event, record.method, record.target, record.failures, record.title)
    state: State = record.state  # type: ignore[assignment]
    return Known(record.repository, state, record.failures, seen, record.parent_item_id is not None, record.in_digest)


def _decision_view(namespace: str, decision: Decision) -> AlertView:
    seen = decision.seen
    return AlertView(
        namespace,
        decision.repository,
        seen.uuid,
        seen.event,
        seen.method,
        seen.target,
        seen.failures,
        decision.state,
        seen.title,
    )


def _view(record: AlertRecord, *, state: str, failures: int) -> AlertView:
    return AlertView(
        record.namespace,
        record.repository,
        record.uuid,
        record.event,
        record.method,
        record.target,
        failures,
        state,
        record.title,
    )


def _write(record: AlertRecord, state: str, failures: int, messages: tuple[tuple[str, Payload], ...]) -> AlertWrite:
    return AlertWrite(
        record.channel,
        record.uuid,
        record.namespace,
        record.repository,
        state,
        failures,
        record.event,
        record.method,
        record.target,
        record.title,
        (record.state, record.failures),
        messages=messages,
    )
