"""Typed refusals of the attestation library.

Three families, as in sigstore and go-sev-guest: the input is malformed
(:class:`MalformedEvidence`), a signature, chain or revocation check failed
(:class:`VerificationFailed`), or verified evidence does not meet a policy
(:class:`PolicyViolation`, which lists every violation, not only the first).

Every error carries a stable ``code`` (``snp.signature``, ``sgx.tcb.revoked``,
``binding.report_data``...) and, where it is about one field, ``field``, ``expected`` and
``got`` as attributes, not only as words in the message.
"""

from __future__ import annotations

from collections.abc import Sequence

from enarx.errors import EnarxError


class AttestationError(EnarxError):
    """Base of every refusal the verifier gives."""

    code = "attestation"

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
            out["expected"] = _jsonable(self.expected)
        if self.got is not None:
            out["got"] = _jsonable(self.got)
        return out


class MalformedEvidence(AttestationError):
    """The bytes are not well-formed evidence or collateral."""


class VerificationFailed(AttestationError):
    """A signature, certificate chain, validity period or revocation check failed."""


class PolicyViolation(AttestationError):
    """Verified evidence does not satisfy the policy; ``violations`` holds every reason."""

    def __init__(self, violations: Sequence[AttestationError]) -> None:
        if not violations:
            raise ValueError("PolicyViolation needs at least one violation")
        first = violations[0]
        message = "; ".join(v.message for v in violations)
        super().__init__(first.code, message, field=first.field, expected=first.expected, got=first.got)
        self.violations = tuple(violations)

    def to_json(self) -> dict[str, object]:
        out = super().to_json()
        out["violations"] = [v.to_json() for v in self.violations]
        return out


def _jsonable(value: object) -> object:
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)
