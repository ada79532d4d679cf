"""The snp backend against a simulated configfs-tsm tree signed by the fake AMD chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from enarx.attestation.csr import (
    OID_EVIDENCE_SNP,
    decode_snp_evidence,
    encode_snp_evidence,
    verify_enarx_csr,
)
from enarx.attestation.errors import VerificationFailed
from enarx.attestation.policy import AttestationPolicy
from enarx.attestation.snp.abi import Report
from enarx.attestation.testing import TestOnlyAmdSigner, TestOnlyAmdSignerBuilder
from enarx.keep.backends import BackendError, HostCache, SnpBackend
from enarx.keep.backends.configfs_tsm import HINT_MISSING
from tests.keep.backend_cases import amd_options, make_csr, snp_report_data, write_amd_cache
from tests.keep.tsm_sim import SimulatedTsm, snp_generator


@pytest.fixture(scope="module")
def signer() -> TestOnlyAmdSigner:
    return TestOnlyAmdSignerBuilder().build()


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture
def cache(tmp_path: Path, signer: TestOnlyAmdSigner) -> HostCache:
    write_amd_cache(tmp_path / "cache", signer)
    return HostCache(tmp_path / "cache")


@pytest.fixture
def sim(tmp_path: Path, signer: TestOnlyAmdSigner) -> SimulatedTsm:
    return SimulatedTsm(tmp_path / "tsm" / "report", "sev_guest", snp_generator(signer))


def backend(sim: SimulatedTsm, cache: HostCache, **kwargs: object) -> SnpBackend:
    return SnpBackend(tsm_root=sim.root, cache=cache, fs=sim, **kwargs)  # type: ignore[arg-type]


def test_evidence_verifies_as_an_enarx_csr(sim: SimulatedTsm, cache: HostCache, signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    snp = backend(sim, cache)
    assert (snp.name, snp.key_curve, snp.insecure) == ("snp", "P-384", False)
    evidence = snp.evidence(snp_report_data(key))
    assert evidence.oid == OID_EVIDENCE_SNP == "1.3.6.1.4.1.58270.1.3"
    verified = verify_enarx_csr(make_csr(key, evidence), options=amd_options(signer), policy=AttestationPolicy())
    assert verified.verdict.tee == "snp"
    assert verified.verdict.report_data == snp_report_data(key)
    assert verified.verdict.claims["crl_checked"] is True
    # The entry was created once and removed: nothing stays behind in configfs.
    assert len(sim.created) == 1 and sim.removed == sim.created and list(sim.root.iterdir()) == []


def test_evidence_is_enarx_der_byte_for_byte(sim: SimulatedTsm, cache: HostCache, signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    value = backend(sim, cache).evidence(snp_report_data(key)).value
    decoded = decode_snp_evidence(value)
    assert decoded.vcek == signer.vcek
    assert [url for url, _ in decoded.crls] == ["https://test-only.invalid/crl"]
    assert Report.from_bytes(decoded.report).report_data == snp_report_data(key)
    assert encode_snp_evidence(decoded.report, decoded.vcek, decoded.crls) == value


def test_evidence_is_bound_to_its_key(sim: SimulatedTsm, cache: HostCache, signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    evidence = backend(sim, cache).evidence(snp_report_data(key))
    thief = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_csr(make_csr(thief, evidence), options=amd_options(signer), policy=AttestationPolicy())
    assert info.value.code == "binding.report_data"


def test_privlevel_is_written(sim: SimulatedTsm, cache: HostCache, key: ec.EllipticCurvePrivateKey) -> None:
    value = backend(sim, cache, privlevel=2).evidence(snp_report_data(key)).value
    assert Report.from_bytes(decode_snp_evidence(value).report).vmpl == 2


def test_vcek_from_the_host_cache_when_the_auxblob_has_none(tmp_path: Path, signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    sim = SimulatedTsm(tmp_path / "tsm", "sev_guest", snp_generator(signer, attach_vcek=False))
    write_amd_cache(tmp_path / "cache", signer)
    with pytest.raises(BackendError) as info:
        SnpBackend(tsm_root=sim.root, cache=HostCache(tmp_path / "cache"), fs=sim).evidence(snp_report_data(key))
    assert info.value.code == "snp.vcek.missing"
    assert info.value.hint is not None and "enarx platform update" in info.value.hint
    write_amd_cache(tmp_path / "cache", signer, vcek=True)
    evidence = SnpBackend(tsm_root=sim.root, cache=HostCache(tmp_path / "cache"), fs=sim).evidence(snp_report_data(key))
    assert verify_enarx_csr(make_csr(key, evidence), options=amd_options(signer), policy=AttestationPolicy()).verdict.tee == "snp"


def test_a_cached_vcek_for_another_tcb_is_not_used(tmp_path: Path, signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    sim = SimulatedTsm(tmp_path / "tsm", "sev_guest", snp_generator(signer, attach_vcek=False))
    other = TestOnlyAmdSignerBuilder(key_label="old-tcb", tcb=signer.tcb.__class__(bootloader=2, tee=0, snp=7, microcode=100)).build()
    write_amd_cache(tmp_path / "cache", other, vcek=True)
    with pytest.raises(BackendError) as info:
        SnpBackend(tsm_root=sim.root, cache=HostCache(tmp_path / "cache"), fs=sim).evidence(snp_report_data(key))
    assert info.value.code == "snp.vcek.missing"


def test_missing_crl_cache_fails_before_asking_the_tee(sim: SimulatedTsm, tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(BackendError) as info:
        SnpBackend(tsm_root=sim.root, cache=HostCache(tmp_path / "empty"), fs=sim).evidence(snp_report_data(key))
    assert info.value.code == "cache.missing"
    assert "crls.der" in info.value.reason and info.value.hint is not None
    assert sim.reports == 0 and sim.created == []


def test_provider_mismatch(tmp_path: Path, signer: TestOnlyAmdSigner, cache: HostCache, key: ec.EllipticCurvePrivateKey) -> None:
    sim = SimulatedTsm(tmp_path / "tsm", "tdx_guest", snp_generator(signer))
    snp = SnpBackend(tsm_root=sim.root, cache=cache, fs=sim)
    with pytest.raises(BackendError) as info:
        snp.evidence(snp_report_data(key))
    assert info.value.code == "tsm.provider"
    assert "'tdx_guest'" in info.value.reason and info.value.hint is not None
    assert sim.reports == 0 and sim.removed == sim.created
    provider = snp.checks()[1]
    assert (provider.passed, provider.detail) == (False, "provider is 'tdx_guest'")
    assert provider.hint is not None and not snp.available()


def test_missing_tree(tmp_path: Path, cache: HostCache, key: ec.EllipticCurvePrivateKey) -> None:
    snp = SnpBackend(tsm_root=tmp_path / "no" / "tsm", cache=cache)
    with pytest.raises(BackendError) as info:
        snp.evidence(snp_report_data(key))
    assert (info.value.code, info.value.hint) == ("tsm.missing", HINT_MISSING)
    checks = snp.checks()
    assert [(c.name, c.passed) for c in checks] == [("configfs-tsm", False), ("provider sev_guest", False), ("AMD CRL cache", True)]
    assert all(c.hint for c in checks if not c.passed)


def test_generation_race_is_refused(sim: SimulatedTsm, cache: HostCache, key: ec.EllipticCurvePrivateKey) -> None:
    def racing_writer(path: Path) -> None:
        if path.name == "outblob":
            sim.bump(path.parent)  # another process wrote inblob between our write and read

    sim.after_read = racing_writer
    with pytest.raises(BackendError) as info:
        backend(sim, cache).evidence(snp_report_data(key))
    assert info.value.code == "tsm.generation"
    assert "generation 2, expected 1" in info.value.reason and info.value.hint is not None
    assert sim.removed == sim.created


def test_race_on_the_auxblob_is_refused(sim: SimulatedTsm, cache: HostCache, key: ec.EllipticCurvePrivateKey) -> None:
    sim.after_read = lambda path: sim.bump(path.parent) if path.name == "auxblob" else None
    with pytest.raises(BackendError) as info:
        backend(sim, cache).evidence(snp_report_data(key))
    assert info.value.code == "tsm.generation"


def test_a_report_for_other_data_is_refused(tmp_path: Path, signer: TestOnlyAmdSigner, cache: HostCache, key: ec.EllipticCurvePrivateKey) -> None:
    honest = snp_generator(signer)
    sim = SimulatedTsm(tmp_path / "tsm", "sev_guest", lambda inblob, level: honest(bytes(64), level))
    with pytest.raises(BackendError) as info:
        SnpBackend(tsm_root=sim.root, cache=cache, fs=sim).evidence(snp_report_data(key))
    assert info.value.code == "tsm.report_data"


def test_garbage_outblob(tmp_path: Path, cache: HostCache, key: ec.EllipticCurvePrivateKey) -> None:
    sim = SimulatedTsm(tmp_path / "tsm", "sev_guest", lambda inblob, level: (b"\x01" * 100, b""))
    with pytest.raises(BackendError) as info:
        SnpBackend(tsm_root=sim.root, cache=cache, fs=sim).evidence(snp_report_data(key))
    assert info.value.code == "snp.outblob"


def test_empty_outblob(tmp_path: Path, cache: HostCache, key: ec.EllipticCurvePrivateKey) -> None:
    sim = SimulatedTsm(tmp_path / "tsm", "sev_guest", lambda inblob, level: (b"", b""))
    with pytest.raises(BackendError) as info:
        SnpBackend(tsm_root=sim.root, cache=cache, fs=sim).evidence(snp_report_data(key))
    assert info.value.code == "tsm.outblob"


@pytest.mark.parametrize("size", [0, 32, 63, 65])
def test_report_data_must_be_64_bytes(sim: SimulatedTsm, cache: HostCache, size: int) -> None:
    with pytest.raises(BackendError) as info:
        backend(sim, cache).evidence(bytes(size))
    assert info.value.code == "backend.report_data"
    assert sim.created == []


def test_permission_denied(tmp_path: Path, signer: TestOnlyAmdSigner, cache: HostCache, key: ec.EllipticCurvePrivateKey) -> None:
    class NotRoot(SimulatedTsm):
        def mkdir(self, path: Path) -> None:
            raise PermissionError(13, "Permission denied", str(path))

    sim = NotRoot(tmp_path / "tsm", "sev_guest", snp_generator(signer))
    snp = SnpBackend(tsm_root=sim.root, cache=cache, fs=sim)
    with pytest.raises(BackendError) as info:
        snp.evidence(snp_report_data(key))
    assert info.value.code == "tsm.permission" and info.value.hint is not None and "root" in info.value.hint
    provider = snp.checks()[1]
    assert not provider.passed and provider.hint == info.value.hint


def test_checks_pass_in_a_simulated_snp_guest(sim: SimulatedTsm, cache: HostCache) -> None:
    snp = backend(sim, cache)
    checks = snp.checks()
    assert [(c.name, c.passed) for c in checks] == [("configfs-tsm", True), ("provider sev_guest", True), ("AMD CRL cache", True)]
    assert snp.available()
    assert sim.reports == 0  # probing the provider asks the TEE nothing
    assert sim.removed == sim.created and len(sim.created) == 2


def test_simulated_keep_helpers(tmp_path: Path, signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    from tests.keep.tsm_sim import simulated_snp_backend

    snp, sim = simulated_snp_backend(tmp_path, signer)
    assert snp.available()
    evidence = snp.evidence(snp_report_data(key))
    assert verify_enarx_csr(make_csr(key, evidence), options=amd_options(signer), policy=AttestationPolicy()).verdict.tee == "snp"
    assert sim.reports == 2  # outblob and auxblob reads


def test_the_kernel_refusing_a_write_is_tsm_refused(sim: SimulatedTsm) -> None:
    from enarx.keep.backends.configfs_tsm import TsmClient

    with pytest.raises(BackendError) as info:
        TsmClient(sim.root, fs=sim).report(bytes(65), provider="sev_guest")  # the kernel takes at most 64
    assert info.value.code == "tsm.refused" and info.value.hint is not None
    assert sim.removed == sim.created and sim.reports == 0


def test_os_fs_on_a_plain_directory(tmp_path: Path) -> None:
    from enarx.keep.backends.pseudofs import OS_FS

    entry = tmp_path / "entry"
    OS_FS.mkdir(entry)
    assert OS_FS.is_dir(entry) and not OS_FS.exists(entry / "inblob")
    (entry / "inblob").write_bytes(b"old contents, longer")
    OS_FS.write(entry / "inblob", b"new")
    assert OS_FS.read(entry / "inblob") == b"new"  # replaced, not overwritten in place
    with pytest.raises(FileNotFoundError):
        OS_FS.write(entry / "missing", b"x")  # never creates attributes
    (entry / "inblob").unlink()
    OS_FS.rmdir(entry)
    assert not OS_FS.exists(entry) and not OS_FS.is_dir(entry)


def test_a_stale_attached_vcek_loses_to_a_fitting_cached_one(tmp_path: Path, signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    from enarx.attestation.snp.tsm import build_tsm

    stale = TestOnlyAmdSignerBuilder(key_label="stale", tcb=signer.tcb.__class__(bootloader=2, tee=0, snp=7, microcode=100)).build()

    def host_with_a_stale_vcek(inblob: bytes, level: int | None) -> tuple[bytes, bytes]:
        return build_tsm(signer.signed_report(report_data=inblob), vcek=stale.vcek.public_bytes(Encoding.DER))

    sim = SimulatedTsm(tmp_path / "tsm", "sev_guest", host_with_a_stale_vcek)
    write_amd_cache(tmp_path / "cache", signer, vcek=True)
    value = SnpBackend(tsm_root=sim.root, cache=HostCache(tmp_path / "cache"), fs=sim).evidence(snp_report_data(key)).value
    assert decode_snp_evidence(value).vcek == signer.vcek
    # Without a fitting cached key the attached one is still sent, and the verifier names the mismatch.
    write_amd_cache(tmp_path / "cache2", signer)
    value = SnpBackend(tsm_root=sim.root, cache=HostCache(tmp_path / "cache2"), fs=sim).evidence(snp_report_data(key)).value
    assert decode_snp_evidence(value).vcek == stale.vcek
