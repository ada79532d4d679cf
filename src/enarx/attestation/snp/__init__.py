"""AMD SEV-SNP: parse (:mod:`.abi`), verify (:mod:`.verify`, :mod:`.certs`), validate (:mod:`.validate`).

:func:`check_report` does all three; :mod:`.tsm` reads and builds the Linux configfs-tsm form.
"""

from typing import TYPE_CHECKING

from enarx._lazy import attach

if TYPE_CHECKING:
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

__getattr__, __dir__ = attach(
    __name__,
    {
        "REPORT_SIZE": "enarx.attestation.snp.abi",
        "SIGNED_SIZE": "enarx.attestation.snp.abi",
        "FirmwareVersion": "enarx.attestation.snp.abi",
        "GuestPolicy": "enarx.attestation.snp.abi",
        "PlatformInfo": "enarx.attestation.snp.abi",
        "Product": "enarx.attestation.snp.abi",
        "Report": "enarx.attestation.snp.abi",
        "SignerInfo": "enarx.attestation.snp.abi",
        "TcbParts": "enarx.attestation.snp.abi",
        "verify_chain": "enarx.attestation.snp.certs",
        "check_report": "enarx.attestation.snp.check",
        "AmdKeyInfo": "enarx.attestation.snp.keyinfo",
        "amd_key_info": "enarx.attestation.snp.keyinfo",
        "TsmEvidence": "enarx.attestation.snp.tsm",
        "build_tsm": "enarx.attestation.snp.tsm",
        "parse_tsm": "enarx.attestation.snp.tsm",
        "SnpPolicy": "enarx.attestation.snp.validate",
        "TcbFloor": "enarx.attestation.snp.validate",
        "report_claims": "enarx.attestation.snp.validate",
        "validate_report": "enarx.attestation.snp.validate",
        "verdict_of": "enarx.attestation.snp.validate",
        "VerifiedReport": "enarx.attestation.snp.verify",
        "verify_report": "enarx.attestation.snp.verify",
    },
)
