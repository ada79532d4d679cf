"""Evidence from Intel DCAP quotes (sans-IO): our TDX extension and Enarx's SGX extension."""

from __future__ import annotations

from typing import Final

from enarx.attestation.dcap.abi import Quote
from enarx.attestation.dcap.enarx import encode_enarx_sgx_evidence, encode_enarx_tdx_evidence
from enarx.attestation.errors import AttestationError
from enarx.keep.backends.base import BackendError
from enarx.keep.backends.hostcache import IntelCollateral

HINT_QUOTE: Final = "the TEE returned something that is not a DCAP quote; check the quoting service (QGS/AESM) and dmesg"


def check_quote(raw: bytes, tee: str, report_data: bytes) -> Quote:
    """Parse the Keep's own quote: the right TEE, and our report_data in it."""
    try:
        quote = Quote.from_bytes(raw)
        body = quote.td_body if tee == "tdx" else quote.sgx_body
    except AttestationError as exc:
        raise BackendError(f"{tee}: the quote does not parse: {exc.message}", code=f"{tee}.quote", hint=HINT_QUOTE) from None
    if body.report_data != report_data:
        raise BackendError(
            f"{tee}: the quote carries report_data {body.report_data.hex()}, not the {report_data.hex()} written",
            code="tsm.report_data" if tee == "tdx" else "sgx.report_data",
            hint="another writer or the driver changed the request; retry",
        )
    return quote


def build_tdx_evidence(quote: bytes, report_data: bytes, collateral: IntelCollateral) -> bytes:
    """``TdxEvidence`` (OID :data:`enarx.attestation.dcap.OID_EVIDENCE_TDX`); collateral when cached."""
    check_quote(quote, "tdx", report_data)
    return encode_enarx_tdx_evidence(
        quote,
        crls=[crl for _, crl in collateral.crls],
        tcb_signing_chain=collateral.tcb_signing_chain,
        tcb_info=collateral.tcb_info,
        qe_identity=collateral.qe_identity,
        include_collateral=not collateral.empty,
    )


def build_sgx_evidence(quote: bytes, report_data: bytes, collateral: IntelCollateral) -> bytes:
    """Enarx's ``SgxEvidence`` (OID ``1.3.6.1.4.1.58270.1.2``): quote, CRLs and TCB package."""
    check_quote(quote, "sgx", report_data)
    if collateral.tcb_info is None:  # HostCache(required=True) never returns this
        raise BackendError("sgx: no TCB info cached", code="cache.missing", hint="run `enarx platform update` on the host")
    return encode_enarx_sgx_evidence(
        quote, crls=collateral.crls, tcb_signing_chain=collateral.tcb_signing_chain, tcb_info=collateral.tcb_info
    )
