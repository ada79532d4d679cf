"""TCB evaluation: which of Intel's statuses a verified platform, QE and TDX module have.

Follows Intel's Quote Verification Library (and go-tdx-guest / dcap-qvl, which mirror it):

1. The TCB info must be for this platform: FMSPC and PCE-ID from the PCK certificate, id SGX
   or TDX matching the quote.
2. Platform level: the first level (newest first) whose 16 SGX component SVNs and PCESVN are
   all <= the PCK certificate's; for TDX also the TEE TCB SVN components (bytes 0-1 are skipped
   when the TDX module major version, byte 1, is non-zero: the module identity covers them).
3. TDX module: for module version v > 0 the identity ``TDX_<v:02X>`` must exist and match
   MRSIGNERSEAM and SEAM attributes; its level is the first with isvsvn <= TEE_TCB_SVN[0].
   An OutOfDate module makes the platform OutOfDate(ConfigurationNeeded); Revoked revokes.
4. QE identity: MRSIGNER, ISVPRODID, masked MISCSELECT and ATTRIBUTES must match; its level is
   the first with isvsvn <= the QE's ISVSVN. An OutOfDate QE makes the platform OutOfDate
   (ConfigurationNeeded); Revoked revokes.
5. Advisory IDs are the union of the platform, module and QE levels' lists.

No level at all, or a final status of Revoked, is a verification failure (``<tee>.tcb.*``):
no policy can accept it. Which other statuses are acceptable is the policy's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from enarx.attestation.dcap.abi import SgxReportBody, TdReportBody
from enarx.attestation.dcap.collateral import IsvTcbLevel, QeIdentity, TcbInfo, TcbLevel
from enarx.attestation.dcap.pck import PckExtensions
from enarx.attestation.errors import VerificationFailed

DcapTee = Literal["sgx", "tdx"]

_QE_IDS: Final = {"sgx": "QE", "tdx": "TD_QE"}
_TCB_IDS: Final = {"sgx": "SGX", "tdx": "TDX"}
_CONFIG_NEEDED: Final = ("ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded")


@dataclass(frozen=True)
class TcbEvaluation:
    """The converged status and what it was made of."""

    status: str
    advisory_ids: tuple[str, ...]
    platform_status: str
    tcb_date: datetime
    tcb_evaluation_data_number: int
    qe_status: str | None = None
    module_status: str | None = None


def _fail(tee: DcapTee, what: str, message: str, *, field: str, expected: object = None, got: object = None) -> VerificationFailed:
    return VerificationFailed(f"{tee}.tcb.{what}", message, field=field, expected=expected, got=got)


def check_tcb_info_matches(tee: DcapTee, pck: PckExtensions, info: TcbInfo) -> None:
    """Step 1: the TCB info describes this platform (FMSPC compared as bytes: case-free)."""
    if info.id != _TCB_IDS[tee]:
        raise _fail(tee, "type", f"tcbInfo.id is {info.id}, expected {_TCB_IDS[tee]}", field="tcbInfo.id", expected=_TCB_IDS[tee], got=info.id)
    if info.fmspc != pck.fmspc:
        raise _fail(
            tee,
            "fmspc",
            f"tcbInfo.fmspc is {info.fmspc.hex()}, expected the PCK certificate's {pck.fmspc.hex()}",
            field="tcbInfo.fmspc",
            expected=pck.fmspc,
            got=info.fmspc,
        )
    if info.pce_id != pck.pce_id:
        raise _fail(
            tee,
            "pce_id",
            f"tcbInfo.pceId is {info.pce_id.hex()}, expected the PCK certificate's {pck.pce_id.hex()}",
            field="tcbInfo.pceId",
            expected=pck.pce_id,
            got=info.pce_id,
        )


def _levels_newest_first(levels: Sequence[TcbLevel]) -> list[TcbLevel]:
    # Intel serves levels newest first; sort (stably) anyway so a reordered document cannot
    # make an older, worse level match first.
    return sorted(levels, key=lambda level: level.tcb_date, reverse=True)


def _platform_level(tee: DcapTee, pck: PckExtensions, info: TcbInfo, tee_tcb_svn: bytes | None) -> TcbLevel:
    for level in _levels_newest_first(info.tcb_levels):
        if any(have < want.svn for have, want in zip(pck.tcb_components, level.sgx_components, strict=True)):
            continue
        if pck.pce_svn < level.pce_svn:
            continue
        if tee_tcb_svn is not None:
            if level.tdx_components is None:
                continue
            start = 2 if tee_tcb_svn[1] > 0 else 0
            if any(tee_tcb_svn[i] < level.tdx_components[i].svn for i in range(start, len(level.tdx_components))):
                continue
        return level
    detail = f"PCK TCB components {list(pck.tcb_components)} PCESVN {pck.pce_svn}"
    if tee_tcb_svn is not None:
        detail += f", TEE_TCB_SVN {tee_tcb_svn.hex()}"
    raise _fail(
        tee,
        "no_level",
        f"no matching TCB level in tcbInfo for {detail}",
        field="tcbInfo.tcbLevels",
        expected="a level the platform meets",
        got=detail,
    )


def _isv_level(levels: Sequence[IsvTcbLevel], isv_svn: int) -> IsvTcbLevel | None:
    for level in sorted(levels, key=lambda lv: lv.isv_svn, reverse=True):
        if isv_svn >= level.isv_svn:
            return level
    return None


def _module_level(body: TdReportBody, info: TcbInfo) -> IsvTcbLevel | None:
    """Step 3; ``None`` for module version 0 (then ``tdxModule`` alone is checked)."""
    version = body.tee_tcb_svn[1]
    if version == 0:
        identity = info.tdx_module
        if identity is not None:
            _check_module_identity(body, identity.mrsigner, identity.attributes, identity.attributes_mask, "tdxModule")
        return None
    module_id = f"TDX_{version:02X}"
    for identity in info.tdx_module_identities:
        if identity.id.upper() == module_id:
            _check_module_identity(body, identity.mrsigner, identity.attributes, identity.attributes_mask, module_id)
            level = _isv_level(identity.tcb_levels, body.tee_tcb_svn[0])
            if level is None:
                raise _fail(
                    "tdx",
                    "module_level",
                    f"no TCB level of {module_id} for TDX module SVN {body.tee_tcb_svn[0]}",
                    field="td_report_body.tee_tcb_svn",
                    got=body.tee_tcb_svn[0],
                )
            return level
    if not info.tdx_module_identities and info.tdx_module is not None:
        # v3 TCB info without module identities (older PCS responses): only the module
        # signer/attributes can be checked.
        _check_module_identity(body, info.tdx_module.mrsigner, info.tdx_module.attributes, info.tdx_module.attributes_mask, "tdxModule")
        return None
    raise _fail(
        "tdx",
        "module_identity",
        f"tcbInfo has no TDX module identity {module_id}",
        field="tcbInfo.tdxModuleIdentities",
        expected=module_id,
        got=[m.id for m in info.tdx_module_identities],
    )


def _check_module_identity(body: TdReportBody, mrsigner: bytes, attributes: bytes, mask: bytes, name: str) -> None:
    if body.mr_signer_seam != mrsigner:
        raise _fail(
            "tdx",
            "module_identity",
            f"MRSIGNERSEAM {body.mr_signer_seam.hex()} is not {name}.mrsigner {mrsigner.hex()}",
            field="td_report_body.mr_signer_seam",
            expected=mrsigner,
            got=body.mr_signer_seam,
        )
    masked = bytes(a & m for a, m in zip(body.seam_attributes, mask, strict=True))
    if masked != attributes:
        raise _fail(
            "tdx",
            "module_identity",
            f"SEAM attributes {body.seam_attributes.hex()} (masked {masked.hex()}) are not {name}.attributes {attributes.hex()}",
            field="td_report_body.seam_attributes",
            expected=attributes,
            got=masked,
        )


def evaluate_qe(tee: DcapTee, qe_report: SgxReportBody, identity: QeIdentity) -> IsvTcbLevel:
    """Step 4: the QE is Intel's QE for this TEE, and at which TCB level."""
    expected_id = _QE_IDS[tee]
    checks: list[tuple[str, object, object]] = [
        ("enclaveIdentity.id", expected_id, identity.id),
        ("qe_report.mr_signer", identity.mrsigner, qe_report.mr_signer),
        ("qe_report.isv_prod_id", identity.isv_prod_id, qe_report.isv_prod_id),
        ("qe_report.misc_select", identity.miscselect, qe_report.misc_select & identity.miscselect_mask),
        (
            "qe_report.attributes",
            identity.attributes,
            bytes(a & m for a, m in zip(qe_report.attributes, identity.attributes_mask, strict=True)),
        ),
    ]
    for field, expected, got in checks:
        if expected != got:
            shown_e = expected.hex() if isinstance(expected, bytes) else expected
            shown_g = got.hex() if isinstance(got, bytes) else got
            raise VerificationFailed(
                "dcap.qe.identity",
                f"{field} is {shown_g}, expected {shown_e} (QE identity)",
                field=field,
                expected=expected,
                got=got,
            )
    level = _isv_level(identity.tcb_levels, qe_report.isv_svn)
    if level is None:
        raise VerificationFailed(
            "dcap.qe.tcb",
            f"no QE identity TCB level for QE ISVSVN {qe_report.isv_svn}",
            field="qe_report.isv_svn",
            expected=f">= {min(lv.isv_svn for lv in identity.tcb_levels)}",
            got=qe_report.isv_svn,
        )
    return level


def _converge(platform: str, other: str | None) -> str:
    """Intel's convergence of the platform status with a QE or TDX module status."""
    if other == "Revoked":
        return "Revoked"
    if other == "OutOfDate":
        if platform in ("UpToDate", "SWHardeningNeeded"):
            return "OutOfDate"
        if platform in _CONFIG_NEEDED:
            return "OutOfDateConfigurationNeeded"
    return platform


def _union(*lists: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for advisories in lists:
        out.extend(a for a in advisories if a not in out)
    return tuple(out)


def evaluate(
    tee: DcapTee,
    pck: PckExtensions,
    info: TcbInfo,
    *,
    qe_level: IsvTcbLevel | None,
    td_body: TdReportBody | None = None,
) -> TcbEvaluation:
    """Steps 1-5 for a verified quote; ``qe_level`` is ``None`` when the policy waived QE identity."""
    check_tcb_info_matches(tee, pck, info)
    level = _platform_level(tee, pck, info, td_body.tee_tcb_svn if td_body is not None else None)
    module = _module_level(td_body, info) if td_body is not None else None
    status = _converge(level.tcb_status, module.tcb_status if module else None)
    status = _converge(status, qe_level.tcb_status if qe_level else None)
    advisories = _union(
        level.advisory_ids, module.advisory_ids if module else (), qe_level.advisory_ids if qe_level else ()
    )
    if status == "Revoked":
        raise _fail(
            tee,
            "revoked",
            f"TCB status is Revoked (platform {level.tcb_status}, "
            f"module {module.tcb_status if module else 'n/a'}, QE {qe_level.tcb_status if qe_level else 'n/a'})",
            field="tcb_status",
            expected="not Revoked",
            got="Revoked",
        )
    return TcbEvaluation(
        status=status,
        advisory_ids=advisories,
        platform_status=level.tcb_status,
        tcb_date=level.tcb_date,
        tcb_evaluation_data_number=info.tcb_evaluation_data_number,
        qe_status=qe_level.tcb_status if qe_level else None,
        module_status=module.tcb_status if module else None,
    )
