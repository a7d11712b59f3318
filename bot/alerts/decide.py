"""The alert decision, pure: what each channel was told, plus what a sweep saw, gives what to store and
what to say. No database, no Slack, no rendering: `bot/alerts/announce.py` does those around it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.alerts.states import State, state_of, transition

# More new alerts than this for one channel in one sweep become one digest message.
DIGEST_AFTER = 5


@dataclass(frozen=True)
class Seen:
    """A notification as the watcher saw it."""

    uuid: str
    event: str
    method: str
    target: str  # masked
    failures: int
    title: str | None = None


@dataclass(frozen=True)
class Known:
    """What a channel has been told about a notification."""

    repository: str
    state: State
    failures: int
    seen: Seen
    announced: bool  # there is a message to edit or reply to
    in_digest: bool = False  # that message is a digest: later changes go to its thread only


@dataclass(frozen=True)
class Decision:
    channel: str
    repository: str
    seen: Seen
    state: State
    known: Known | None  # what the decision was made on; the store checks it still holds
    announce: bool = False  # a new alert (the first failure of an episode)
    muted: bool = False  # an announcement the channel muted: recorded, not posted
    edit: bool = False  # edit the alert in place
    thread: str | None = None  # a line in the alert's thread: a catalogue message, filled in with thread_params
    thread_params: tuple[tuple[str, int], ...] = ()
    thread_subject: str | None = None  # in a digest's thread: which alert the line is about

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.seen.uuid)


def decide(
    known: Mapping[tuple[str, str], Known],
    observed: Mapping[str, Sequence[Seen]],
    channels: Sequence[str],
    muted: frozenset[tuple[str, str]] | set[tuple[str, str]],
    subscribers: Mapping[str, Sequence[str]] | None = None,
) -> list[Decision]:
    """`observed`: repository -> its notifications now. Notifications of those repositories that are
    known but no longer listed are gone. `subscribers`: the channels that subscribed through a
    notification (the bot's own webhooks), told about it as well as `channels`."""
    subscribers = subscribers or {}
    also = [c for uuid_channels in subscribers.values() for c in uuid_channels if c not in channels]
    decisions: list[Decision] = []
    for repository, seen in observed.items():
        current = {item.uuid for item in seen}
        for channel in [*channels, *dict.fromkeys(also)]:
            for item in seen:
                if channel not in channels and channel not in subscribers.get(item.uuid, ()):
                    continue
                decision = _one(channel, repository, item, state_of(item.failures), known.get((channel, item.uuid)))
                if decision is not None:
                    decisions.append(_muting(decision, (channel, item.uuid) in muted))
            for (where, uuid), record in known.items():
                if where == channel and record.repository == repository and uuid not in current:
                    gone = replace(record.seen, failures=record.failures)
                    decision = _one(channel, repository, gone, "gone", record)
                    if decision is not None:
                        decisions.append(_muting(decision, (channel, uuid) in muted))
    return decisions


def _one(channel: str, repository: str, item: Seen, new: State, record: Known | None) -> Decision | None:
    change = transition(record.state if record else None, record.failures if record else 0, new, item.failures)
    if change is None:
        return None
    decision = Decision(channel, repository, item, change.state, record)
    if change.new_alert:
        return replace(decision, announce=True)
    if record is None or not record.announced:
        return decision  # never announced (muted at the time): nothing to edit
    if record.in_digest:  # a digest is not rewritten for one of its alerts: its thread says what changed
        if change.thread is None:
            return replace(decision, thread=None)
        return replace(
            decision, thread=change.thread, thread_params=change.thread_params, thread_subject=_name(repository, item)
        )
    return replace(decision, edit=change.edit, thread=change.thread, thread_params=change.thread_params)


def _muting(decision: Decision, muted: bool) -> Decision:
    if not muted:
        return decision
    if decision.announce:
        return replace(decision, announce=False, muted=True)
    return replace(decision, thread=None)  # the alert is still kept accurate, but nothing new is posted


def _name(repository: str, item: Seen) -> str:
    return f"{repository} ({item.event} → {item.method})"


def digests(decisions: Sequence[Decision], limit: int = DIGEST_AFTER) -> dict[str, list[Decision]]:
    """Per channel, the announcements to post as one digest: only where there are more than `limit`."""
    by_channel: dict[str, list[Decision]] = {}
    for decision in decisions:
        if decision.announce:
            by_channel.setdefault(decision.channel, []).append(decision)
    return {channel: items for channel, items in by_channel.items() if len(items) > limit}
