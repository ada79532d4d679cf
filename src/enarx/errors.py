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


class FieldError(EnarxError):
    """A refusal about one part of the input: ``field``, and what was ``expected`` and ``got``.

    The verifier's and the identity package's errors are this shape; services copy the
    attributes into problem+json, so they are data, not only words in the message.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        expected: object = None,
        got: object = None,
    ) -> None:
        super().__init__(message, code=code)
        self.field = field
        self.expected = expected
        self.got = got

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "reason": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.expected is not None:
            out["expected"] = jsonable(self.expected)
        if self.got is not None:
            out["got"] = jsonable(self.got)
        return out


def jsonable(value: object) -> object:
    """Bytes as lowercase hex, sequences element-wise, numbers and strings as they are."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)
