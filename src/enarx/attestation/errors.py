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

from enarx.errors import FieldError


class AttestationError(FieldError):
    """Base of every refusal the verifier gives."""

    code = "attestation"


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
