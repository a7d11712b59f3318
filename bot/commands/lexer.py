"""From what Slack delivers to a list of words."""

from __future__ import annotations

import re
import shlex

from bot.i18n import Translatable

# Slack wraps links, mailto, channel and user mentions in <...>; the label after | is what the user
# saw, the part before it is what they typed (a URL or address).
_SLACK_LINK = re.compile(r"<(?P<target>[^<>|]+)(?:\|(?P<label>[^<>]*))?>")
_CURLY_DOUBLE = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_CURLY_SINGLE = str.maketrans({"‘": "'", "’": "'"})


class LexError(Translatable):
    pass


def unescape_slack(text: str) -> str:
    """Undo Slack's formatting of typed text: links and `&amp;` `&lt;` `&gt;`."""

    def target(match: re.Match[str]) -> str:
        value = match.group("target")
        if value.startswith("mailto:"):
            return value.removeprefix("mailto:")
        if value.startswith(("#", "@", "!")):
            return match.group(0)  # mentions stay as Slack wrote them; no command takes one
        return value

    text = _SLACK_LINK.sub(target, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def split_words(text: str) -> list[str]:
    """Shell-like words: straight and curly quotes group, backslash escapes."""
    text = text.translate(_CURLY_DOUBLE).translate(_CURLY_SINGLE)
    text = text.replace("\u00a0", " ")  # Slack clients sometimes send non-breaking spaces
    try:
        return shlex.split(text, posix=True)
    except ValueError as error:
        if "quotation" in str(error):
            raise LexError("a quote is not closed: put text with spaces inside a pair of quotes") from None
        raise LexError("cannot read the command: {error}", error=str(error)) from None
