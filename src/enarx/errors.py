"""The project's base error.

Every failure a user can cause is an :class:`EnarxError` (or a subclass) carrying a stable,
machine-readable ``code``. The CLI catches this one type in one place and prints one line;
services turn it into RFC 9457 problem+json. Anything else escaping is a bug.
"""

from __future__ import annotations


class EnarxError(Exception):
    """A failure the user can act on: one clear line, a stable code."""

    code: str = "enarx.error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message
