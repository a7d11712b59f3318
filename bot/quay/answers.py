"""Reading Quay's answers into the client's models and checks, shared by the client's modules
(`client.py`, `tags.py`): a body that does not match, or a status other than the one expected, is a
`QuayUnexpectedResponse` that says what the bot was doing."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from bot.i18n import Phrase
from bot.quay.errors import QuayInputError
from bot.quay.names import InvalidName, RepositoryRef
from bot.quay.responses import json_body, unexpected

M = TypeVar("M", bound=BaseModel)


def repo_path(ref: RepositoryRef) -> str:
    return f"/api/v1/repository/{ref.path}"


def checked(check: Any, value: str) -> str:
    try:
        result: str = check(value)
    except InvalidName as error:
        raise QuayInputError(Phrase(error.message, **error.params)) from None
    return result


def parse_model(model: type[M], response: httpx.Response, *, what: Phrase) -> M:
    body = json_body(response, what=what)
    try:
        return model.model_validate(body)
    except ValidationError as error:
        count = error.error_count()
        why = (
            Phrase("the body does not match (1 problem)")
            if count == 1
            else Phrase("the body does not match ({count} problems)", count=count)
        )
        raise unexpected(response, what=what, why=why) from None


def expect_status(response: httpx.Response, status: int, *, what: Phrase) -> None:
    if response.status_code != status:
        raise unexpected(
            response,
            what=what,
            why=Phrase("HTTP {status} instead of {expected}", status=response.status_code, expected=status),
        )


def expect_success_true(response: httpx.Response, *, what: Phrase) -> None:
    body = json_body(response, what=what)
    if not (isinstance(body, dict) and body.get("success") is True):
        raise unexpected(response, what=what, why='the body is not {"success": true}')
