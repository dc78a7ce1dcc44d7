"""What a page tells the user after an action, and how that travels across the redirect that follows it."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

MESSAGE_COOKIE = "rp_message"
# A message lives for the one redirect it follows; a minute covers a slow phone.
MESSAGE_COOKIE_SECONDS = 60


class _KeptArgs(dict[str, str | int]):
    def __missing__(self, name: str) -> str:
        return f"{{{name}}}"


@dataclass(frozen=True)
class Message:
    """What the page tells the user after an action: a catalogue key, its arguments, and whether it says
    the action was done (`done`, shown as a notice) or refused (`error`, shown as an alert)."""

    key: str
    args: Mapping[str, str | int] = field(default_factory=dict)
    kind: Literal["done", "error"] = "error"

    @classmethod
    def done(cls, key: str, **args: str | int) -> Message:
        return cls(key, args, "done")

    @classmethod
    def error(cls, key: str, **args: str | int) -> Message:
        return cls(key, args, "error")

    def text(self, words: Mapping[str, str]) -> str:
        """The message in the page's words; an argument it lacks stays a visible `{name}`, never a crash."""
        return words[self.key].format_map(_KeptArgs(self.args))

    def to_cookie(self) -> str:
        # Only numbers travel as arguments: a cookie's text is never shown as if the page said it.
        args = {name: value for name, value in self.args.items() if isinstance(value, int)}
        raw = json.dumps([self.key, args, self.kind], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_cookie(cls, value: str | None) -> Message | None:
        if not value:
            return None
        try:
            key, args, kind = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        except (ValueError, TypeError, binascii.Error):
            return None
        if not isinstance(key, str) or not isinstance(args, dict) or kind not in ("done", "error"):
            return None
        return cls(key, {name: value for name, value in args.items() if isinstance(value, int)}, kind)
