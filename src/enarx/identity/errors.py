"""Typed refusals of the identity package (digests, names, claims, peers)."""

from __future__ import annotations

from enarx.errors import EnarxError


class IdentityError(EnarxError):
    """A name, digest, claims extension or peer certificate is not what it must be.

    ``code`` is stable (``identity.app_name``, ``claims.malformed``, ``peer.name``...);
    ``field``/``got``/``expected`` say which part and how, when there is one.
    """

    code = "identity"

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
            out["expected"] = str(self.expected)
        if self.got is not None:
            out["got"] = str(self.got)
        return out
