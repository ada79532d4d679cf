"""Intel DCAP (SGX and TDX) quotes: parse, verify against the Intel SGX Root CA, validate.

Layered like go-tdx-guest: :mod:`.abi` (bytes to structures), :mod:`.collateral` (PCS
JSON), :mod:`.revocation` (CRLs), :mod:`.verify` (signatures, chains, revocation at an injected time),
:mod:`.tcb` (Intel's TCB statuses), :mod:`.validate` (policy; no signatures), :mod:`.enarx`
(Enarx Keep evidence in CSRs). :mod:`.testing` builds test-only chains and quotes.
"""

from typing import TYPE_CHECKING

from enarx._lazy import attach

if TYPE_CHECKING:
    from enarx.attestation.dcap.abi import Quote, SgxReportBody, TdReportBody, parse_quote
    from enarx.attestation.dcap.collateral import parse_qe_identity, parse_tcb_info
    from enarx.attestation.dcap.enarx import (
        OID_EVIDENCE_SGX,
        OID_EVIDENCE_TDX,
        decode_enarx_sgx_evidence,
        decode_enarx_tdx_evidence,
        encode_enarx_tdx_evidence,
        verify_enarx_sgx_evidence,
        verify_enarx_tdx_evidence,
    )
    from enarx.attestation.dcap.pck import parse_pck_extensions
    from enarx.attestation.dcap.tcb import TcbEvaluation
    from enarx.attestation.dcap.validate import TCB_STATUSES, DcapPolicy
    from enarx.attestation.dcap.verdicts import verify_sgx_quote, verify_tdx_quote
    from enarx.attestation.dcap.verify import INTEL_SGX_ROOT_CA_SHA256

__all__ = [
    "INTEL_SGX_ROOT_CA_SHA256",
    "OID_EVIDENCE_SGX",
    "OID_EVIDENCE_TDX",
    "TCB_STATUSES",
    "DcapPolicy",
    "Quote",
    "SgxReportBody",
    "TcbEvaluation",
    "TdReportBody",
    "decode_enarx_sgx_evidence",
    "decode_enarx_tdx_evidence",
    "encode_enarx_tdx_evidence",
    "parse_pck_extensions",
    "parse_qe_identity",
    "parse_quote",
    "parse_tcb_info",
    "verify_enarx_sgx_evidence",
    "verify_enarx_tdx_evidence",
    "verify_sgx_quote",
    "verify_tdx_quote",
]

__getattr__, __dir__ = attach(
    __name__,
    {
        "Quote": "enarx.attestation.dcap.abi",
        "SgxReportBody": "enarx.attestation.dcap.abi",
        "TdReportBody": "enarx.attestation.dcap.abi",
        "parse_quote": "enarx.attestation.dcap.abi",
        "parse_qe_identity": "enarx.attestation.dcap.collateral",
        "parse_tcb_info": "enarx.attestation.dcap.collateral",
        "OID_EVIDENCE_SGX": "enarx.attestation.dcap.enarx",
        "OID_EVIDENCE_TDX": "enarx.attestation.dcap.enarx",
        "decode_enarx_sgx_evidence": "enarx.attestation.dcap.enarx",
        "decode_enarx_tdx_evidence": "enarx.attestation.dcap.enarx",
        "encode_enarx_tdx_evidence": "enarx.attestation.dcap.enarx",
        "verify_enarx_sgx_evidence": "enarx.attestation.dcap.enarx",
        "verify_enarx_tdx_evidence": "enarx.attestation.dcap.enarx",
        "parse_pck_extensions": "enarx.attestation.dcap.pck",
        "TcbEvaluation": "enarx.attestation.dcap.tcb",
        "TCB_STATUSES": "enarx.attestation.dcap.validate",
        "DcapPolicy": "enarx.attestation.dcap.validate",
        "verify_sgx_quote": "enarx.attestation.dcap.verdicts",
        "verify_tdx_quote": "enarx.attestation.dcap.verdicts",
        "INTEL_SGX_ROOT_CA_SHA256": "enarx.attestation.dcap.verify",
    },
)
