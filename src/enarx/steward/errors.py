"""The Steward's own refusals, and how every refusal becomes an HTTP status."""

from __future__ import annotations

from enarx.errors import EnarxError


class StewardError(EnarxError):
    """A refusal or failure of the Steward: a stable ``code`` and the HTTP status it maps to.

    ``field``/``expected``/``got`` as in :class:`enarx.attestation.errors.AttestationError`;
    ``violations`` lists every reason when a policy refuses several things at once.
    """

    code = "steward"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        field: str | None = None,
        expected: object = None,
        got: object = None,
        violations: tuple[StewardError, ...] = (),
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.field = field
        self.expected = expected
        self.got = got
        self.violations = violations

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "reason": self.message}
        for key in ("field", "expected", "got"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value if isinstance(value, int | str | bool | list) else str(value)
        if self.violations:
            out["violations"] = [v.to_json() for v in self.violations]
        return out


class ConfigError(StewardError):
    """The Steward's configuration file or environment is invalid (found at start)."""

    def __init__(self, message: str, *, code: str = "config.invalid", field: str | None = None) -> None:
        super().__init__(code, message, status=500, field=field)
