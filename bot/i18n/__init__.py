"""The message catalogue: every string shown to users is written in English at its call site,
`t(locale, "text with {placeholders}", **params)`, and looked up in the locale's catalogue
(`bot/i18n/zh_cn.py`). English is the key, so the code reads as before and a missing translation
falls back to English instead of failing; a test finds every `t(...)` call and requires its message
in each catalogue, with the same placeholders.

A channel picks its language in the access file (`locale: zh-CN`; default `en`). Command words,
Quay's names and values stay as they are.
"""

from __future__ import annotations

from typing import Literal

from bot.i18n.zh_cn import MESSAGES as ZH_CN
from bot.i18n.zh_cn_people import MESSAGES as ZH_CN_PEOPLE

Locale = Literal["en", "zh-CN"]
LOCALES: tuple[Locale, ...] = ("en", "zh-CN")
DEFAULT: Locale = "en"
CATALOGUES: dict[str, dict[str, str]] = {"zh-CN": {**ZH_CN, **ZH_CN_PEOPLE}}


def t(locale: str, message: str, /, **params: object) -> str:
    """`message` in `locale`, with `params` filled in (`str.format` placeholders); a `Phrase` among
    them is said in `locale` too."""
    template = CATALOGUES.get(locale, {}).get(message, message) if locale != DEFAULT else message
    if not params:
        return template
    return template.format(**{k: v.said(locale) if isinstance(v, Phrase) else v for k, v in params.items()})


def plural(locale: str, count: int, one: str, many: str, /, **params: object) -> str:
    """`one` when `count` is 1, else `many`, with `count` filled in as {count} (English needs two
    forms; Chinese's two entries read the same)."""
    return t(locale, one if count == 1 else many, count=count, **params)


class Phrase:
    """A message and what fills it in, said later in whichever language its reader has (a Quay error is
    made before anyone knows to whom it will be shown). `str()` is the English."""

    __slots__ = ("message", "params")

    def __init__(self, message: str, /, **params: object) -> None:
        self.message = message
        self.params = params

    def said(self, locale: str) -> str:
        return t(locale, self.message, **self.params)

    def __str__(self) -> str:
        return self.said(DEFAULT)

    def __repr__(self) -> str:
        return f"Phrase({str(self)!r})"


class Translatable(ValueError):
    """An error whose message is a catalogue message (English) filled in with `params`: `str()` is the
    English text, `said(locale)` the text in a channel's language."""

    def __init__(self, message: str, /, **params: object) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.params = params

    def said(self, locale: str) -> str:
        return t(locale, self.message, **self.params)
