"""Action IDs and button values shared by the renderers and the Slack listeners (a listing's page
buttons carry values of their own: `bot/slices/repo_list.py`)."""

from __future__ import annotations

import re

from bot.quay.names import RepositoryRef

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


HOME_REFRESH_ACTION = "quaybot_home_refresh"
HOME_ALERT_TEST_ACTION = "quaybot_home_alert_test"
HOME_RESET_ACTION = "quaybot_home_alert_reset"
HOME_ALERT_DELETE_ACTION = "quaybot_home_alert_delete"
HOME_ALERT_MUTE_ACTION = "quaybot_home_alert_mute"

LOGIN_OPEN_ACTION = "quaybot_login_open"  # a link button: Slack still tells the app it was clicked
APPROVE_ACTION = "quaybot_approve"
REJECT_ACTION = "quaybot_reject"
WITHDRAW_ACTION = "quaybot_withdraw"

# A button that stands for a typed command (its value is the command's text, checked and run as if the
# clicker had typed it); the paging kind replaces the message it is on.
COMMAND_ACTION = "quaybot_command"
COMMAND_PAGE_ACTION = "quaybot_command_page"
TAG_RESTORE_PREVIOUS_ACTION = "quaybot_tag_restore_previous"  # value: <ns>/<name>:<tag>


def numbered(action_id: str, index: int) -> str:
    """Slack wants the buttons of one block to have different action ids: the first keeps `action_id`,
    the others `action_id_2`, `action_id_3`, …, all heard by one listener (`numbered_pattern`)."""
    return action_id if index == 0 else f"{action_id}_{index + 1}"


def numbered_pattern(action_id: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(action_id)}(?:_\d+)?$")
