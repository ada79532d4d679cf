"""AMD SEV-SNP: parse (:mod:`.abi`), verify (:mod:`.verify`, :mod:`.certs`), validate (:mod:`.validate`)."""

from enarx.attestation.snp.abi import (
    REPORT_SIZE,
    SIGNED_SIZE,
    FirmwareVersion,
    GuestPolicy,
    PlatformInfo,
    Product,
    Report,
    SignerInfo,
    TcbParts,
)
from enarx.attestation.snp.certs import AmdKeyInfo, amd_key_info, verify_chain
from enarx.attestation.snp.verify import VerifiedReport, verify_report

__all__ = [
    "REPORT_SIZE",
    "SIGNED_SIZE",
    "AmdKeyInfo",
    "FirmwareVersion",
    "GuestPolicy",
    "PlatformInfo",
    "Product",
    "Report",
    "SignerInfo",
    "TcbParts",
    "VerifiedReport",
    "amd_key_info",
    "verify_chain",
    "verify_report",
]
