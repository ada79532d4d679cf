"""Secure, test and unsafe runs, and the insecure reasons that tell them apart.

``enarx run`` is secure by default: it refuses a deployment with any insecure reason and
lists them all. ``--test`` runs against a test Steward (the ``[test]`` overlay's, or an
embedded one) and ``--unsafe`` permits insecure features; in both the reasons travel in
the Keep's claims, so its certificate says what it is. Both need the debug build.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from enarx.cli.status import ExitStatus
from enarx.config.effective import EffectiveConfig
from enarx.errors import EnarxError


class Mode(Enum):
    SECURE = "secure"
    TEST = "test"
    UNSAFE = "unsafe"


# reason -> why it is insecure, for the refusal message
EXPLANATIONS: dict[str, str] = {
    "nil-backend": "no TEE: the host can read and change everything (backend nil)",
    "host-stdio": "stdin/stdout/stderr are connected to the host",
    "host-dirs": "host directories are pre-opened into the Keep",
    "raw-tcp": "plaintext TCP sockets (prot = \"tcp\"): the host sees every byte",
    "http-steward": "the Steward is reached over plain http",
    "tee-debug": "the TEE's debug policy lets the host inspect the Keep",
}


def insecure_reasons(
    config: EffectiveConfig, *, backend: str, steward_url: str | None, tee_debug: bool = False
) -> list[str]:
    """Every reason this deployment is insecure, in a stable order."""
    kinds = {f.kind for f in config.files}
    reasons = []
    if backend == "nil":
        reasons.append("nil-backend")
    if kinds & {"stdin", "stdout", "stderr"}:
        reasons.append("host-stdio")
    if "dir" in kinds:
        reasons.append("host-dirs")
    if any(f.kind in ("listen", "connect") and f.prot == "tcp" for f in config.files):
        reasons.append("raw-tcp")
    if steward_url is not None and steward_url.startswith("http://"):
        reasons.append("http-steward")
    if tee_debug:
        reasons.append("tee-debug")
    return reasons


def evidence_shows_debug(oid: str, value: bytes) -> bool:
    """Whether a TEE's own evidence says its debug policy is on (the host can read the Keep):
    the SNP guest policy's DEBUG bit, the SGX enclave's or the TD's DEBUG attribute.

    Parsing only, of evidence this Keep's backend just produced; the Steward verifies it, and
    refuses a debug TEE itself unless its policy allows one. Raises ``AttestationError``
    (``MalformedEvidence``) for evidence that does not parse.
    """
    from enarx.attestation import oids  # the verifier's parsers load only for attested runs

    if oid == oids.OID_EVIDENCE_SNP:
        from enarx.attestation.csr import decode_snp_evidence
        from enarx.attestation.snp.abi import Report

        return Report.from_bytes(decode_snp_evidence(value).report).policy.debug
    if oid in (oids.OID_EVIDENCE_SGX, oids.OID_EVIDENCE_TDX):
        from enarx.attestation.dcap.enarx import (
            decode_enarx_sgx_evidence,
            decode_enarx_tdx_evidence,
        )

        decode = decode_enarx_sgx_evidence if oid == oids.OID_EVIDENCE_SGX else decode_enarx_tdx_evidence
        quote, _ = decode(value)
        return quote.body.debug
    return False  # the nil backend's marker: nothing to inspect (it is insecure on its own account)


class InsecureDeployment(EnarxError):
    """A secure run was asked of an insecure deployment; ``reasons`` lists every one."""

    code = "run.insecure"
    exit_status = ExitStatus.INSECURE

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        listed = "; ".join(f"{r} ({EXPLANATIONS.get(r, r)})" for r in self.reasons)
        super().__init__(
            f"refusing an insecure deployment: {listed}. Use --test to run against a test Steward, "
            "or --unsafe to permit insecure features"
        )
