"""Action IDs and button values shared by the renderer and the Slack listeners."""

from __future__ import annotations

import json

from bot.commands.model import ListPosition, RepoList
from bot.quay.names import InvalidName, RepositoryRef, check_namespace

CONFIRM_ACTION = "quaybot_confirm"
CANCEL_ACTION = "quaybot_cancel"
RESET_ACTION = "quaybot_notify_reset"


def reset_value(repo: RepositoryRef, uuid: str) -> str:
    return f"{repo.full_name} {uuid}"


def parse_reset_value(value: str) -> tuple[RepositoryRef, str]:
    """Raises ValueError for anything that is not `<ns>/<name> <uuid>` with valid names."""
    full_name, _, uuid = value.partition(" ")
    return RepositoryRef.parse(full_name), uuid


ALERT_TEST_ACTION = "quaybot_alert_test"
ALERT_DELETE_ACTION = "quaybot_alert_delete"
ALERT_MUTE_ACTION = "quaybot_alert_mute"
OPEN_REPO_CREATE = "quaybot_open_repo_create"
OPEN_NOTIFY_CREATE = "quaybot_open_notify_create"
REPO_MENU_ACTION = "quaybot_repo_menu"
NO_VALUE = "-"  # a button that carries nothing (Slack wants a value)

LIST_PREVIOUS_ACTION = "quaybot_list_previous"
LIST_NEXT_ACTION = "quaybot_list_next"
MAX_VALUE = 2000  # Slack's limit on a button value


def list_value(command: RepoList, position: ListPosition) -> str:
    """A page of a listing, as a button value: the listing and where it is (Quay tokens included,
    while they fit; without them the page is walked to from the start)."""
    data = {
        "ns": command.namespace,
        "pub": command.public,
        "star": command.starred,
        "p": position.page,
        "t": [list(pair) for pair in position.tokens],
        "f": position.first,
    }
    text = json.dumps(data, separators=(",", ":"))
    if len(text) > MAX_VALUE:
        text = json.dumps(data | {"t": []}, separators=(",", ":"))
    return text


def parse_list_value(value: str) -> RepoList:
    """Raises ValueError for anything list_value did not make."""
    try:
        data = json.loads(value)
        tokens = tuple((int(q), str(t)) for q, t in data["t"])
        page, first = int(data["p"]), data["f"]
        namespace = check_namespace(str(data["ns"]))
        if page < 0 or page > 10_000 or not (first is None or isinstance(first, str)):
            raise ValueError("page out of range")
        return RepoList(namespace, bool(data["pub"]), bool(data["star"]), ListPosition(page, tokens, first))
    except (KeyError, TypeError, InvalidName) as error:
        raise ValueError(str(error)) from None


HOME_REFRESH_ACTION = "quaybot_home_refresh"
HOME_ALERT_TEST_ACTION = "quaybot_home_alert_test"
HOME_RESET_ACTION = "quaybot_home_alert_reset"
HOME_ALERT_DELETE_ACTION = "quaybot_home_alert_delete"
HOME_ALERT_MUTE_ACTION = "quaybot_home_alert_mute"
