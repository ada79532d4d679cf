"""Raw quote in, :class:`Verdict` out: parse, verify, validate, and name the verified claims."""

from __future__ import annotations

from enarx.attestation.dcap.abi import Quote, SgxReportBody, TdReportBody
from enarx.attestation.dcap.validate import DcapPolicy, enforce, sgx_violations, tdx_violations
from enarx.attestation.dcap.verify import EvidenceCollateral, VerifiedQuote, verify_quote
from enarx.attestation.errors import AttestationError
from enarx.attestation.options import VerifyOptions
from enarx.attestation.verdict import Verdict


def _tcb_claims(verified: VerifiedQuote) -> dict[str, object]:
    tcb = verified.tcb
    ext = verified.pck_extensions
    return {
        "tcb_status": tcb.status,
        "advisory_ids": list(tcb.advisory_ids),
        "platform_tcb_status": tcb.platform_status,
        "qe_tcb_status": tcb.qe_status,
        "qe_identity_checked": verified.qe_identity_checked,
        "tcb_date": tcb.tcb_date.isoformat(),
        "tcb_evaluation_data_number": tcb.tcb_evaluation_data_number,
        "fmspc": ext.fmspc.hex(),
        "pce_svn": ext.pce_svn,
        "cpu_svn": ext.cpu_svn.hex(),
        "pck_tcb_components": list(ext.tcb_components),
        "qe_svn": verified.quote.signature_data.qe.qe_report_body.isv_svn,
        "quote_version": verified.quote.header.version,
    }


def sgx_verdict(verified: VerifiedQuote, policy: DcapPolicy, *, extra: list[AttestationError] | None = None) -> Verdict:
    """Validate a verified SGX quote against ``policy`` and return its claims."""
    body = verified.quote.sgx_body
    enforce([*(extra or []), *sgx_violations(body, verified.tcb, policy)])
    return Verdict(
        tee="sgx",
        measurement=body.mr_enclave,
        report_data=body.report_data,
        debug=body.debug,
        tcb_status=verified.tcb.status,
        advisories=verified.tcb.advisory_ids,
        claims={**_sgx_claims(body), **_tcb_claims(verified)},
    )


def _sgx_claims(body: SgxReportBody) -> dict[str, object]:
    return {
        "mrenclave": body.mr_enclave.hex(),
        "mrsigner": body.mr_signer.hex(),
        "isv_prod_id": body.isv_prod_id,
        "isv_svn": body.isv_svn,
        "attributes": body.attributes.hex(),
        "attribute_flags": body.attribute_flags,
        "xfrm": body.xfrm,
        "debug": body.debug,
        "misc_select": body.misc_select,
        "cpu_svn_report": body.cpu_svn.hex(),
        "config_id": body.config_id.hex(),
        "config_svn": body.config_svn,
        "isv_ext_prod_id": body.isv_ext_prod_id.hex(),
        "isv_family_id": body.isv_family_id.hex(),
        "report_data": body.report_data.hex(),
    }


def tdx_verdict(verified: VerifiedQuote, policy: DcapPolicy, *, extra: list[AttestationError] | None = None) -> Verdict:
    """Validate a verified TDX quote against ``policy`` and return its claims."""
    body = verified.quote.td_body
    enforce([*(extra or []), *tdx_violations(body, verified.tcb, policy)])
    claims = {**_tdx_claims(body), **_tcb_claims(verified), "tdx_module_tcb_status": verified.tcb.module_status}
    return Verdict(
        tee="tdx",
        measurement=body.mr_td,
        report_data=body.report_data,
        debug=body.debug,
        tcb_status=verified.tcb.status,
        advisories=verified.tcb.advisory_ids,
        claims=claims,
    )


def _tdx_claims(body: TdReportBody) -> dict[str, object]:
    out: dict[str, object] = {
        "mrtd": body.mr_td.hex(),
        "rtmr0": body.rtmrs[0].hex(),
        "rtmr1": body.rtmrs[1].hex(),
        "rtmr2": body.rtmrs[2].hex(),
        "rtmr3": body.rtmrs[3].hex(),
        "mrconfigid": body.mr_config_id.hex(),
        "mrowner": body.mr_owner.hex(),
        "mrownerconfig": body.mr_owner_config.hex(),
        "td_attributes": body.td_attributes.hex(),
        "debug": body.debug,
        "xfam": body.xfam.hex(),
        "tee_tcb_svn": body.tee_tcb_svn.hex(),
        "mrseam": body.mr_seam.hex(),
        "mrsignerseam": body.mr_signer_seam.hex(),
        "seam_attributes": body.seam_attributes.hex(),
        "report_data": body.report_data.hex(),
    }
    if body.tee_tcb_svn2 is not None and body.mr_service_td is not None:
        out["tee_tcb_svn2"] = body.tee_tcb_svn2.hex()
        out["mrservicetd"] = body.mr_service_td.hex()
    return out


def verify_sgx_quote(quote: bytes, *, options: VerifyOptions, policy: DcapPolicy) -> Verdict:
    """Verify a raw SGX DCAP quote (v3, or v4/v5 with an SGX body) with supplied collateral."""
    verified = verify_quote(Quote.from_bytes(quote), tee="sgx", options=options, policy=policy)
    return sgx_verdict(verified, policy)


def verify_tdx_quote(quote: bytes, *, options: VerifyOptions, policy: DcapPolicy) -> Verdict:
    """Verify a raw TDX DCAP quote (v4 or v5) with supplied collateral."""
    verified = verify_quote(Quote.from_bytes(quote), tee="tdx", options=options, policy=policy)
    return tdx_verdict(verified, policy)


__all__ = ["EvidenceCollateral", "sgx_verdict", "tdx_verdict", "verify_sgx_quote", "verify_tdx_quote"]
