"""Action IDs and button values shared by the renderers and the Slack listeners (a listing's page
buttons carry values of their own: `bot/slices/repo_list.py`)."""

from __future__ import annotations

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
