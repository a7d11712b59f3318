"""Simplified Chinese (zh-CN). Keys are the English messages exactly as written at their call sites."""

from __future__ import annotations

MESSAGES: dict[str, str] = {}
