"""Everything a verification takes from outside the evidence: the time, roots and collateral.

Time and trust come in through this one object (as go-sev-guest's ``verify.Options``);
nothing in :mod:`enarx.attestation` reads the clock, the network or the filesystem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509


@dataclass(frozen=True)
class Collateral:
    """Vendor collateral that did not come inside the evidence.

    Raw bytes exactly as served: Intel's TCB info and QE identity signatures cover the
    served JSON, so they are never re-serialised.
    """

    certificates: tuple[x509.Certificate, ...] = ()  # e.g. a VCEK/ASK from the host cache
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    tcb_info: bytes | None = None  # Intel PCS TCB info response body (JSON)
    tcb_info_issuer_chain: tuple[x509.Certificate, ...] = ()
    qe_identity: bytes | None = None  # Intel PCS QE identity response body (JSON)
    qe_identity_issuer_chain: tuple[x509.Certificate, ...] = ()


@dataclass(frozen=True)
class VerifyOptions:
    """The instant to verify at, extra trust anchors and collateral.

    ``now`` must be timezone-aware. The vendors' roots (AMD ARKs for Milan, Genoa and Turin;
    the Intel SGX Root CA) are pinned by fingerprint inside the library and trusted when
    ``trust_vendor_roots`` is true; ``extra_roots`` adds anchors, e.g. a test-only ARK or a
    test PCK root that signs a simulated Keep's evidence. Never pin an intermediate.
    """

    now: datetime
    extra_roots: tuple[x509.Certificate, ...] = ()
    trust_vendor_roots: bool = True
    collateral: Collateral = Collateral()

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("VerifyOptions.now must be timezone-aware (UTC)")
