"""Verify TEE evidence (AMD SEV-SNP, Intel SGX and TDX) against the vendors' roots.

Sans-IO: every function takes bytes, collateral and ``now``; nothing here reads the clock or
the network. Layered per TEE as parse (``abi``) -> verify (signatures, chains, CRLs) ->
validate (policy).
"""

from enarx.attestation.errors import (
    AttestationError,
    MalformedEvidence,
    PolicyViolation,
    VerificationFailed,
)
from enarx.attestation.verdict import Tee, Verdict

__all__ = [
    "AttestationError",
    "MalformedEvidence",
    "PolicyViolation",
    "Tee",
    "Verdict",
    "VerificationFailed",
]
