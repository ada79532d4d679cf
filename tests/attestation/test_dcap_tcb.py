"""TCB evaluation: MANIFEST's expected statuses for every vector, and each Intel status."""

from __future__ import annotations

import pytest

from enarx.attestation.dcap import DcapPolicy, verify_sgx_quote, verify_tdx_quote
from enarx.attestation.dcap.abi import Quote
from enarx.attestation.dcap.collateral import parse_qe_identity, parse_tcb_info
from enarx.attestation.dcap.enarx import decode_enarx_sgx_evidence
from enarx.attestation.dcap.pck import PckExtensions, parse_pck_extensions
from enarx.attestation.dcap.tcb import TcbEvaluation, evaluate, evaluate_qe
from enarx.attestation.dcap.testing import (
    test_only_module_identity,
    test_only_sgx_body,
    test_only_tcb_level,
    test_only_td_body,
)
from enarx.attestation.dcap.validate import TCB_STATUSES
from enarx.attestation.dcap.verify import load_pem_chain
from enarx.attestation.errors import AttestationError, PolicyViolation, VerificationFailed
from tests.attestation.dcap_cases import (
    GO_TDX,
    I5_CSR,
    OCCLUM,
    SPR_E4,
    TRUSTEE_4,
    TRUSTEE_5,
    TRUSTEE_6,
    V5_SAMPLE,
    XEON_CSR,
    csr_parts,
    fake_options,
    fake_pki,
)
from tests.vectors import vector


def _pck(quote: Quote) -> PckExtensions:
    return parse_pck_extensions(load_pem_chain(quote.signature_data.qe.certification_data.data, "pck")[0])


def _evaluate(quote_path: str | Quote, tcb_path: str | bytes, qe_path: str | None = None) -> TcbEvaluation:
    quote = quote_path if isinstance(quote_path, Quote) else Quote.from_bytes(vector(quote_path))
    tee = "tdx" if quote.is_tdx else "sgx"
    info = parse_tcb_info(tcb_path if isinstance(tcb_path, bytes) else vector(tcb_path)).value
    qe_level = None
    if qe_path is not None:
        qe_level = evaluate_qe(tee, quote.signature_data.qe.qe_report_body, parse_qe_identity(vector(qe_path)).value)
    return evaluate(tee, _pck(quote), info, qe_level=qe_level, td_body=quote.td_body if quote.is_tdx else None)


def test_pck_extensions_of_the_vectors() -> None:
    xeon, _ = decode_enarx_sgx_evidence(csr_parts(XEON_CSR).evidence)
    ext = _pck(xeon)
    assert (ext.fmspc.hex().upper(), ext.pce_svn, ext.cpu_svn.hex()) == ("00606A000000", 11, "04040303ffff00000000000000000000")
    assert ext.tcb_components == (4, 4, 3, 3, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    i5, _ = decode_enarx_sgx_evidence(csr_parts(I5_CSR).evidence)
    assert (_pck(i5).fmspc.hex().upper(), _pck(i5).pce_svn) == ("00706E470000", 10)
    assert _pck(i5).cpu_svn.hex() == "06060202020104000000000000000000"
    expected = {
        SPR_E4: ("50806F000000", 11, "03030202020100020000000000000000"),
        TRUSTEE_4: ("50806F000000", 11, "05050d02030100030000000000000000"),
        V5_SAMPLE: ("90C06F000000", 13, "04040202040100050000000000000000"),
        TRUSTEE_5: ("90C06F000000", 13, "01010202030100030000000000000000"),
        TRUSTEE_6: ("00A06D080000", 11, "02020707040100020000000000000000"),
        OCCLUM: ("00606A000000", 11, "04040303ffff00000000000000000000"),
    }
    for path, (fmspc, pce_svn, cpu_svn) in expected.items():
        ext = _pck(Quote.from_bytes(vector(path)))
        assert (ext.fmspc.hex().upper(), ext.pce_svn, ext.cpu_svn.hex()) == (fmspc, pce_svn, cpu_svn), path


def test_manifest_statuses() -> None:
    # SPR_E4 with its own collateral: QE UpToDate, but no platform level (CPUSVN[0]=3 < 5).
    with pytest.raises(VerificationFailed) as info:
        _evaluate(SPR_E4, GO_TDX + "sample_tcbInfo_response", GO_TDX + "sample_qeIdentity_response")
    assert info.value.code == "tdx.tcb.no_level"
    # trustee tdx_quote_4: platform level 2023-02-15 UpToDate, QE UpToDate.
    ev = _evaluate(TRUSTEE_4, GO_TDX + "sample_tcbInfo_response", GO_TDX + "sample_qeIdentity_response")
    assert (ev.status, ev.platform_status, ev.qe_status, ev.tcb_date.date().isoformat()) == (
        "UpToDate", "UpToDate", "UpToDate", "2023-02-15")  # fmt: skip
    # v5 sample: level 2024-11-13 UpToDate, module TDX_01 (SVN 11 >= 6) UpToDate.
    ev = _evaluate(V5_SAMPLE, GO_TDX + "sample_tcbinfo_response_v5")
    assert (ev.status, ev.module_status, ev.tcb_date.date().isoformat()) == ("UpToDate", "UpToDate", "2024-11-13")
    # trustee tdx_quote_5: no level (CPUSVN[0]=1 < 2).
    with pytest.raises(VerificationFailed) as info:
        _evaluate(TRUSTEE_5, GO_TDX + "sample_tcbinfo_response_v5")
    assert info.value.code == "tdx.tcb.no_level"
    # trustee tdx_quote_6: PCESVN 11 < 13 -> 2018-01-04 OutOfDate, no advisories; module TDX_03
    # UpToDate; QE UpToDate -> OutOfDate.
    ev = _evaluate(TRUSTEE_6, "tdx/trustee/tcbInfo.json", "tdx/trustee/enclaveIdentity.json")
    assert (ev.status, ev.advisory_ids, ev.module_status, ev.qe_status) == ("OutOfDate", (), "UpToDate", "UpToDate")


def test_manifest_sgx_statuses() -> None:
    for path, advisories in (
        (XEON_CSR, ("INTEL-SA-00586", "INTEL-SA-00614", "INTEL-SA-00615", "INTEL-SA-00657")),
        (I5_CSR, ("INTEL-SA-00381", "INTEL-SA-00389", "INTEL-SA-00477", "INTEL-SA-00289",
                  "INTEL-SA-00614", "INTEL-SA-00617", "INTEL-SA-00615", "INTEL-SA-00657")),
    ):  # fmt: skip
        quote, carried = decode_enarx_sgx_evidence(csr_parts(path).evidence)
        assert carried.tcb_info is not None
        ev = _evaluate(quote, carried.tcb_info)
        assert (ev.status, ev.advisory_ids) == ("OutOfDate", advisories)
    # occlum shares the Xeon's FMSPC and CPUSVN: same level.
    _, xeon = decode_enarx_sgx_evidence(csr_parts(XEON_CSR).evidence)
    assert xeon.tcb_info is not None
    ev = _evaluate(OCCLUM, xeon.tcb_info)
    assert (ev.status, ev.tcb_date.date().isoformat()) == ("OutOfDate", "2021-11-10")


def test_fmspc_and_type_must_match() -> None:
    with pytest.raises(VerificationFailed) as info:
        _evaluate(TRUSTEE_6, GO_TDX + "sample_tcbInfo_response")
    assert (info.value.code, info.value.field) == ("tdx.tcb.fmspc", "tcbInfo.fmspc")
    _, xeon = decode_enarx_sgx_evidence(csr_parts(XEON_CSR).evidence)
    assert xeon.tcb_info is not None
    with pytest.raises(VerificationFailed) as info:
        _evaluate(TRUSTEE_4, xeon.tcb_info)
    assert (info.value.code, info.value.got) == ("tdx.tcb.type", "SGX")


# --- each Intel status, synthetic ----------------------------------------------------------

PLATFORM = (1,) * 16


def _sgx_with(levels: list[dict[str, object]], qe_levels: tuple[tuple[int, str, tuple[str, ...]], ...] = ((1, "UpToDate", ()),),
              policy: DcapPolicy | None = None) -> tuple[str | None, tuple[str, ...]]:  # fmt: skip
    pki = fake_pki()
    options = fake_options(pki, "sgx", tcb_info=pki.tcb_info("sgx", levels=levels), qe_identity=pki.qe_identity("sgx", levels=qe_levels))
    policy = policy or DcapPolicy(accepted_tcb_statuses=frozenset(s for s in TCB_STATUSES if s != "Revoked"),
                                  allowed_advisories=frozenset({"INTEL-SA-1", "INTEL-SA-2", "INTEL-SA-3"}))  # fmt: skip
    verdict = verify_sgx_quote(pki.quote(test_only_sgx_body()), options=options, policy=policy)
    return verdict.tcb_status, verdict.advisories


@pytest.mark.parametrize("status", [s for s in TCB_STATUSES if s != "Revoked"])
def test_each_platform_status(status: str) -> None:
    levels = [test_only_tcb_level(PLATFORM, 13, status, advisories=["INTEL-SA-1"] if status != "UpToDate" else [])]
    assert _sgx_with(levels) == (status, ("INTEL-SA-1",) if status != "UpToDate" else ())


def test_newest_matching_level_wins_whatever_the_order() -> None:
    newer = test_only_tcb_level((2,) * 16, 13, "UpToDate", date="2024-06-01T00:00:00Z")
    match = test_only_tcb_level(PLATFORM, 13, "SWHardeningNeeded", advisories=["INTEL-SA-2"], date="2024-03-01T00:00:00Z")
    older = test_only_tcb_level(PLATFORM, 5, "OutOfDate", advisories=["INTEL-SA-3"], date="2018-01-04T00:00:00Z")
    assert _sgx_with([older, match, newer]) == ("SWHardeningNeeded", ("INTEL-SA-2",))


def test_pcesvn_too_low_for_every_level() -> None:
    with pytest.raises(VerificationFailed) as info:
        _sgx_with([test_only_tcb_level(PLATFORM, 14, "UpToDate")])
    assert info.value.code == "sgx.tcb.no_level"


def test_revoked_platform_is_a_verification_failure() -> None:
    with pytest.raises(VerificationFailed) as info:
        _sgx_with([test_only_tcb_level(PLATFORM, 13, "Revoked", advisories=["INTEL-SA-1"])])
    assert (info.value.code, info.value.got) == ("sgx.tcb.revoked", "Revoked")
    with pytest.raises(AttestationError) as refused:  # no policy accepts Revoked
        DcapPolicy(accepted_tcb_statuses=frozenset({"Revoked"}))
    assert refused.value.code == "dcap.policy.invalid"


@pytest.mark.parametrize(
    ("platform", "qe", "converged"),
    [
        ("UpToDate", "OutOfDate", "OutOfDate"),
        ("SWHardeningNeeded", "OutOfDate", "OutOfDate"),
        ("ConfigurationNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"),
        ("ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"),
        ("ConfigurationNeeded", "UpToDate", "ConfigurationNeeded"),
    ],
)
def test_qe_status_converges_with_platform(platform: str, qe: str, converged: str) -> None:
    levels = [test_only_tcb_level(PLATFORM, 13, platform)]
    qe_levels = ((5, "UpToDate", ()), (1, qe, ("INTEL-SA-3",) if qe != "UpToDate" else ()))
    status, advisories = _sgx_with(levels, qe_levels)
    assert status == converged
    assert advisories == (("INTEL-SA-3",) if qe != "UpToDate" else ())


def test_revoked_qe() -> None:
    with pytest.raises(VerificationFailed) as info:
        _sgx_with([test_only_tcb_level(PLATFORM, 13, "UpToDate")], ((1, "Revoked", ()),))
    assert info.value.code == "sgx.tcb.revoked"


def test_qe_svn_below_every_level() -> None:
    with pytest.raises(VerificationFailed) as info:
        _sgx_with([test_only_tcb_level(PLATFORM, 13, "UpToDate")], ((2, "UpToDate", ()),))
    assert (info.value.code, info.value.got) == ("dcap.qe.tcb", 1)


def _tdx_with(module_levels: list[tuple[int, str, list[str]]], platform: str = "UpToDate", tee_tcb_svn: bytes | None = None) -> tuple[str | None, object]:
    pki = fake_pki()
    tcb_info = pki.tcb_info(
        "tdx",
        levels=[test_only_tcb_level(PLATFORM, 13, platform, tdx=True, tdx_components=(0, 0, 1) + (0,) * 13)],
        module_identities=[test_only_module_identity("TDX_01", module_levels)],
    )
    body = test_only_td_body(tee_tcb_svn=tee_tcb_svn) if tee_tcb_svn else test_only_td_body(tee_tcb_svn=bytes([3, 1, 1]) + bytes(13))
    policy = DcapPolicy(accepted_tcb_statuses=frozenset(s for s in TCB_STATUSES if s != "Revoked"),
                        allowed_advisories=frozenset({"INTEL-SA-9"}))  # fmt: skip
    verdict = verify_tdx_quote(pki.quote(body), options=fake_options(pki, "tdx", tcb_info=tcb_info), policy=policy)
    return verdict.tcb_status, verdict.claims["tdx_module_tcb_status"]


def test_tdx_module_levels() -> None:
    assert _tdx_with([(3, "UpToDate", [])]) == ("UpToDate", "UpToDate")
    assert _tdx_with([(5, "UpToDate", []), (2, "OutOfDate", ["INTEL-SA-9"])]) == ("OutOfDate", "OutOfDate")
    assert _tdx_with([(5, "UpToDate", []), (2, "OutOfDate", [])], platform="ConfigurationNeeded") == (
        "OutOfDateConfigurationNeeded", "OutOfDate")  # fmt: skip
    with pytest.raises(VerificationFailed) as info:
        _tdx_with([(5, "UpToDate", []), (3, "Revoked", [])])
    assert info.value.code == "tdx.tcb.revoked"
    with pytest.raises(VerificationFailed) as info:
        _tdx_with([(5, "UpToDate", [])])
    assert info.value.code == "tdx.tcb.module_level"


def test_tdx_module_identity_must_exist_and_tee_tcb_svn_counts() -> None:
    with pytest.raises(VerificationFailed) as info:
        _tdx_with([(0, "UpToDate", [])], tee_tcb_svn=bytes([3, 2, 1]) + bytes(13))  # module TDX_02
    assert (info.value.code, info.value.expected) == ("tdx.tcb.module_identity", "TDX_02")
    # TEE_TCB_SVN[2] = 0 < the level's 1: no platform level.
    with pytest.raises(VerificationFailed) as info:
        _tdx_with([(0, "UpToDate", [])], tee_tcb_svn=bytes([3, 1, 0]) + bytes(13))
    assert info.value.code == "tdx.tcb.no_level"


def test_policy_on_status_and_advisories() -> None:
    levels = [test_only_tcb_level(PLATFORM, 13, "SWHardeningNeeded", advisories=["INTEL-SA-1", "INTEL-SA-2"])]
    with pytest.raises(PolicyViolation) as info:
        _sgx_with(levels, policy=DcapPolicy(allowed_advisories=frozenset({"INTEL-SA-1"})))
    assert [v.code for v in info.value.violations] == ["sgx.tcb.status", "sgx.tcb.advisory"]
    assert info.value.violations[1].got == ["INTEL-SA-2"]
