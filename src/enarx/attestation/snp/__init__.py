"""AMD SEV-SNP: parse (:mod:`.abi`), verify (:mod:`.verify`, :mod:`.certs`), validate (:mod:`.validate`).

:func:`check_report` does all three; :mod:`.tsm` reads and builds the Linux configfs-tsm form.
"""

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
from enarx.attestation.snp.certs import verify_chain
from enarx.attestation.snp.check import check_report
from enarx.attestation.snp.keyinfo import AmdKeyInfo, amd_key_info
from enarx.attestation.snp.tsm import TsmEvidence, build_tsm, parse_tsm
from enarx.attestation.snp.validate import (
    SnpPolicy,
    TcbFloor,
    report_claims,
    validate_report,
    verdict_of,
)
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
    "SnpPolicy",
    "TcbFloor",
    "TcbParts",
    "TsmEvidence",
    "VerifiedReport",
    "amd_key_info",
    "build_tsm",
    "check_report",
    "parse_tsm",
    "report_claims",
    "validate_report",
    "verdict_of",
    "verify_chain",
    "verify_report",
]
