"""The tdx backend (simulated configfs-tsm, fake PCK) and the sgx backend (simulated Gramine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from enarx.attestation.csr import verify_enarx_csr
from enarx.attestation.dcap import OID_EVIDENCE_SGX, OID_EVIDENCE_TDX, DcapPolicy
from enarx.attestation.dcap.enarx import decode_enarx_sgx_evidence, decode_enarx_tdx_evidence
from enarx.attestation.dcap.testing import TestOnlyIntelPki
from enarx.attestation.errors import VerificationFailed
from enarx.attestation.options import Collateral
from enarx.attestation.policy import AttestationPolicy
from enarx.keep.backends import BackendError, HostCache, SgxBackend, TdxBackend
from enarx.keep.backends.cachefmt import decode_tcb_package
from tests.keep.backend_cases import (
    T0,
    dcap_report_data,
    intel_options,
    make_csr,
    write_intel_cache,
)
from tests.keep.tsm_sim import SimulatedGramine, SimulatedTsm, tdx_generator

MR_TD = b"\x5a" * 48


@pytest.fixture(scope="module")
def pki() -> TestOnlyIntelPki:
    return TestOnlyIntelPki.create(not_before=T0, not_after=T0.replace(year=T0.year + 1))


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


# --- TDX -------------------------------------------------------------------------------------


@pytest.fixture
def tdx_sim(tmp_path: Path, pki: TestOnlyIntelPki) -> SimulatedTsm:
    return SimulatedTsm(tmp_path / "tsm", "tdx_guest", tdx_generator(pki, mr_td=MR_TD))


def test_tdx_evidence_with_cached_collateral_verifies(tmp_path: Path, tdx_sim: SimulatedTsm, pki: TestOnlyIntelPki, key: ec.EllipticCurvePrivateKey) -> None:
    write_intel_cache(tmp_path / "cache", pki, "tdx")
    tdx = TdxBackend(tsm_root=tdx_sim.root, cache=HostCache(tmp_path / "cache"), fs=tdx_sim)
    assert (tdx.name, tdx.key_curve, tdx.insecure) == ("tdx", "P-256", False)
    evidence = tdx.evidence(dcap_report_data(key))
    assert evidence.oid == OID_EVIDENCE_TDX
    quote, carried = decode_enarx_tdx_evidence(evidence.value)
    assert quote.td_body.report_data == dcap_report_data(key)
    # Carried exactly as cached (ECDSA signatures differ per signing, so compare with the files).
    _, cached_tcb = decode_tcb_package((tmp_path / "cache" / "intel-tdx" / "tcb.der").read_bytes())
    assert carried.tcb_info == cached_tcb and carried.qe_identity == (tmp_path / "cache" / "intel-tdx" / "qe-identity.json").read_bytes()
    policy = AttestationPolicy(tdx=DcapPolicy(mrtd=frozenset({MR_TD})))
    verdict = verify_enarx_csr(make_csr(key, evidence), options=intel_options(pki), policy=policy).verdict
    assert (verdict.tee, verdict.measurement, verdict.tcb_status) == ("tdx", MR_TD, "UpToDate")
    assert tdx_sim.removed == tdx_sim.created and len(tdx_sim.created) == 1


def test_tdx_evidence_without_a_cache_carries_the_quote_only(tmp_path: Path, tdx_sim: SimulatedTsm, pki: TestOnlyIntelPki, key: ec.EllipticCurvePrivateKey) -> None:
    tdx = TdxBackend(tsm_root=tdx_sim.root, cache=HostCache(tmp_path / "nothing"), fs=tdx_sim)
    evidence = tdx.evidence(dcap_report_data(key))
    _, carried = decode_enarx_tdx_evidence(evidence.value)
    assert carried.tcb_info is None and carried.crls == ()
    # The verifier's own collateral completes it.
    collateral = Collateral(crls=pki.crls(), tcb_info=pki.tcb_info("tdx"), tcb_info_issuer_chain=pki.tcb_signing_chain, qe_identity=pki.qe_identity("tdx"))
    verdict = verify_enarx_csr(make_csr(key, evidence), options=intel_options(pki, collateral), policy=AttestationPolicy()).verdict
    assert verdict.tee == "tdx"
    assert all(c.passed for c in tdx.checks()) and tdx.available()


def test_tdx_evidence_is_bound_to_its_key(tmp_path: Path, tdx_sim: SimulatedTsm, pki: TestOnlyIntelPki, key: ec.EllipticCurvePrivateKey) -> None:
    write_intel_cache(tmp_path / "cache", pki, "tdx")
    evidence = TdxBackend(tsm_root=tdx_sim.root, cache=HostCache(tmp_path / "cache"), fs=tdx_sim).evidence(dcap_report_data(key))
    thief = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_csr(make_csr(thief, evidence), options=intel_options(pki), policy=AttestationPolicy())
    assert info.value.code == "binding.report_data"


def test_tdx_backend_refuses_an_snp_guest(tmp_path: Path, pki: TestOnlyIntelPki, key: ec.EllipticCurvePrivateKey) -> None:
    sim = SimulatedTsm(tmp_path / "tsm", "sev_guest", tdx_generator(pki))
    tdx = TdxBackend(tsm_root=sim.root, cache=HostCache(tmp_path / "cache"), fs=sim)
    with pytest.raises(BackendError) as info:
        tdx.evidence(dcap_report_data(key))
    assert info.value.code == "tsm.provider" and "'sev_guest'" in info.value.reason
    assert not tdx.available() and sim.reports == 0


def test_tdx_generation_race(tdx_sim: SimulatedTsm, tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    tdx_sim.after_read = lambda path: tdx_sim.bump(path.parent) if path.name == "outblob" else None
    with pytest.raises(BackendError) as info:
        TdxBackend(tsm_root=tdx_sim.root, cache=HostCache(tmp_path), fs=tdx_sim).evidence(dcap_report_data(key))
    assert info.value.code == "tsm.generation"
    assert tdx_sim.removed == tdx_sim.created


def test_tdx_backend_refuses_an_sgx_quote(tmp_path: Path, pki: TestOnlyIntelPki, key: ec.EllipticCurvePrivateKey) -> None:
    from enarx.attestation.dcap.testing import test_only_sgx_body

    sim = SimulatedTsm(tmp_path / "tsm", "tdx_guest", lambda inblob, level: (pki.quote(test_only_sgx_body(report_data=inblob)), b""))
    with pytest.raises(BackendError) as info:
        TdxBackend(tsm_root=sim.root, cache=HostCache(tmp_path), fs=sim).evidence(dcap_report_data(key))
    assert info.value.code == "tdx.quote"


# --- SGX -------------------------------------------------------------------------------------


def test_sgx_evidence_verifies_as_an_enarx_csr(tmp_path: Path, pki: TestOnlyIntelPki, key: ec.EllipticCurvePrivateKey) -> None:
    gramine = SimulatedGramine(tmp_path / "dev" / "attestation", pki)
    write_intel_cache(tmp_path / "cache", pki, "sgx")
    sgx = SgxBackend(attestation_dev=gramine.dev, cache=HostCache(tmp_path / "cache"), fs=gramine)
    assert (sgx.name, sgx.key_curve, sgx.insecure) == ("sgx", "P-256", False)
    assert [c.passed for c in sgx.checks()] == [True, True, True, True] and sgx.available()
    evidence = sgx.evidence(dcap_report_data(key))
    assert evidence.oid == OID_EVIDENCE_SGX == "1.3.6.1.4.1.58270.1.2"
    quote, carried = decode_enarx_sgx_evidence(evidence.value)
    assert quote.sgx_body.report_data == dcap_report_data(key)
    _, cached_tcb = decode_tcb_package((tmp_path / "cache" / "intel-sgx" / "tcb.der").read_bytes())
    assert carried.tcb_info == cached_tcb and carried.tcb_info_issuer_chain == pki.tcb_signing_chain
    # Enarx's SgxEvidence has no QE identity: the verifier supplies it (Steward's practice).
    options = intel_options(pki, Collateral(qe_identity=pki.qe_identity("sgx")))
    verdict = verify_enarx_csr(make_csr(key, evidence), options=options, policy=AttestationPolicy()).verdict
    assert (verdict.tee, verdict.tcb_status) == ("sgx", "UpToDate")
    thief = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_csr(make_csr(thief, evidence), options=options, policy=AttestationPolicy())
    assert info.value.code == "binding.report_data"


def test_sgx_needs_dcap(tmp_path: Path, pki: TestOnlyIntelPki, key: ec.EllipticCurvePrivateKey) -> None:
    gramine = SimulatedGramine(tmp_path / "attestation", pki, attestation_type="none")
    write_intel_cache(tmp_path / "cache", pki, "sgx")
    sgx = SgxBackend(attestation_dev=gramine.dev, cache=HostCache(tmp_path / "cache"), fs=gramine)
    with pytest.raises(BackendError) as info:
        sgx.evidence(dcap_report_data(key))
    assert info.value.code == "sgx.attestation_type" and info.value.hint is not None
    check = sgx.checks()[1]
    assert (check.name, check.passed, check.detail) == ("attestation type dcap", False, "attestation type is 'none'")


def test_sgx_needs_the_intel_cache(tmp_path: Path, pki: TestOnlyIntelPki, key: ec.EllipticCurvePrivateKey) -> None:
    gramine = SimulatedGramine(tmp_path / "attestation", pki)
    sgx = SgxBackend(attestation_dev=gramine.dev, cache=HostCache(tmp_path / "empty"), fs=gramine)
    with pytest.raises(BackendError) as info:
        sgx.evidence(dcap_report_data(key))
    assert info.value.code == "cache.missing" and "intel-sgx/crls.der" in info.value.reason
    assert [(c.name, c.passed) for c in sgx.checks()][2:] == [("Intel CRL cache", False), ("Intel TCB cache", False)]
    assert not sgx.available()


def test_sgx_outside_gramine(tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    sgx = SgxBackend(attestation_dev=tmp_path / "no-attestation", cache=HostCache(tmp_path))
    checks = sgx.checks()
    assert [c.passed for c in checks] == [False, False, False, False]
    assert all(c.hint for c in checks)
    with pytest.raises(BackendError) as info:
        sgx.evidence(dcap_report_data(key))
    assert info.value.code == "cache.missing"


def test_sgx_quote_for_other_data_is_refused(tmp_path: Path, pki: TestOnlyIntelPki, key: ec.EllipticCurvePrivateKey) -> None:
    class Stale(SimulatedGramine):
        def write(self, path: Path, data: bytes) -> None:
            pass  # a Gramine that ignores the request

    gramine = Stale(tmp_path / "attestation", pki)
    write_intel_cache(tmp_path / "cache", pki, "sgx")
    with pytest.raises(BackendError) as info:
        SgxBackend(attestation_dev=gramine.dev, cache=HostCache(tmp_path / "cache"), fs=gramine).evidence(dcap_report_data(key))
    assert info.value.code == "sgx.report_data"


def test_simulated_tdx_keep_helper(tmp_path: Path, pki: TestOnlyIntelPki, key: ec.EllipticCurvePrivateKey) -> None:
    from tests.keep.tsm_sim import simulated_tdx_backend

    tdx, _ = simulated_tdx_backend(tmp_path, pki, mr_td=MR_TD)
    assert tdx.available()
    verdict = verify_enarx_csr(make_csr(key, tdx.evidence(dcap_report_data(key))), options=intel_options(pki), policy=AttestationPolicy()).verdict
    assert verdict.measurement == MR_TD
