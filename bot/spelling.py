"""The known word a mistyped one was most likely meant to be, for the "did you mean" of usage errors
(Errbot does the same with difflib)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Below this similarity a guess misleads more than it helps: `frob` is not `info`, `push` is `repo_push`.
CUTOFF = 0.6
LONGEST = 64  # a longer word is not a slip of the finger, and is not compared


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known word nearest to `word`, or None when none is near enough to be worth saying."""
    if len(word) > LONGEST:
        return None
    matches = difflib.get_close_matches(word.lower(), list(known), n=1, cutoff=CUTOFF)
    return matches[0] if matches else None
