"""SEV-SNP policy: each rule in both directions, every violation collected, policy loading."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from enarx.attestation.errors import AttestationError, PolicyViolation
from enarx.attestation.options import VerifyOptions
from enarx.attestation.snp.abi import GuestPolicy, PlatformInfo, SignerInfo, TcbParts
from enarx.attestation.snp.certs import load_der_certificate
from enarx.attestation.snp.check import check_report
from enarx.attestation.snp.validate import SnpPolicy, TcbFloor, validate_report
from enarx.attestation.snp.verify import VerifiedReport, verify_report
from enarx.attestation.testing import TestOnlyAmdSigner, TestOnlyAmdSignerBuilder
from tests.vectors import vector

NOW = datetime(2024, 1, 1, tzinfo=UTC)
MEASUREMENT = hashlib.sha384(b"enarx test-only measurement").digest()


@pytest.fixture(scope="module")
def signer() -> TestOnlyAmdSigner:
    return TestOnlyAmdSignerBuilder().build()


def _verified(signer: TestOnlyAmdSigner, **fields: object) -> VerifiedReport:
    return verify_report(signer.signed_report(**fields), options=signer.options(NOW), certificates=[signer.vcek, signer.ask])


def _codes(exc: PolicyViolation) -> list[str]:
    return [v.code for v in exc.violations]


def test_default_policy_accepts_a_plain_report(signer: TestOnlyAmdSigner) -> None:
    validate_report(_verified(signer), SnpPolicy())


def test_debug_vector_is_refused_by_default_and_allowed_when_asked() -> None:
    options = VerifyOptions(now=datetime(2022, 9, 24, 1, tzinfo=UTC))
    vcek = load_der_certificate(vector("snp/go-sev-guest/vcek.testcer"))
    raw = vector("snp/go-sev-guest/attestation.bin")
    with pytest.raises(PolicyViolation) as info:
        check_report(raw, options=options, policy=SnpPolicy(), certificates=[vcek])
    assert info.value.code == "snp.policy.debug"
    verdict = check_report(raw, options=options, policy=SnpPolicy(allow_debug=True), certificates=[vcek])
    assert verdict.debug is True and verdict.tee == "snp"
    assert verdict.claims["tcb"] == {w: {"bootloader": 2, "tee": 0, "snp": 5, "microcode": 68} for w in ("current", "reported", "committed", "launch")}


def test_measurement_allow_and_deny(signer: TestOnlyAmdSigner) -> None:
    verified = _verified(signer)
    validate_report(verified, SnpPolicy(measurements=frozenset({MEASUREMENT})))
    with pytest.raises(PolicyViolation) as info:
        validate_report(verified, SnpPolicy(measurements=frozenset({bytes(48)})))
    assert info.value.code == "snp.measurement.not_allowed"
    assert info.value.got == MEASUREMENT.hex()
    with pytest.raises(PolicyViolation) as info:
        validate_report(verified, SnpPolicy(denied_measurements=frozenset({MEASUREMENT})))
    assert info.value.code == "snp.measurement.denied"


def test_every_violation_is_collected(signer: TestOnlyAmdSigner) -> None:
    gp = GuestPolicy(abi_minor=0, abi_major=1, smt=True, migrate_ma=True, debug=True, single_socket=False)
    verified = _verified(signer, policy=gp, vmpl=1, guest_svn=0, host_data=b"\x01" * 32)
    policy = SnpPolicy(
        allow_smt=False,
        require_single_socket=True,
        require_tsme=True,
        require_crl=True,
        min_abi=(1, 51),
        min_guest_svn=2,
        min_firmware=(1, 56),
        min_tcb=TcbFloor(microcode=200, snp=9),
        measurements=frozenset({bytes(48)}),
        denied_host_data=frozenset({b"\x01" * 32}),
        id_key_digests=frozenset({b"\x02" * 48}),
        author_key_digests=frozenset({b"\x03" * 48}),
    )
    with pytest.raises(PolicyViolation) as info:
        validate_report(verified, policy, report_data_prefix=b"\x09" * 48)
    codes = _codes(info.value)
    assert codes[0] == "binding.report_data"
    assert info.value.code == "binding.report_data"
    for code in (
        "snp.policy.debug", "snp.policy.migration_agent", "snp.policy.smt", "snp.policy.single_socket",
        "snp.platform.tsme", "snp.policy.abi", "snp.vmpl", "snp.crl.required", "snp.tcb.microcode", "snp.tcb.snp",
        "snp.guest_svn", "snp.firmware", "snp.measurement.not_allowed", "snp.host_data.denied",
        "snp.id_key_digest.not_allowed", "snp.author_key_digest.not_allowed",
    ):
        assert code in codes, code
    assert codes.count("snp.tcb.microcode") == 3  # reported, committed and current each
    as_json = info.value.to_json()
    assert len(as_json["violations"]) == len(codes)  # type: ignore[arg-type]


def test_tcb_floor_boundary(signer: TestOnlyAmdSigner) -> None:
    verified = _verified(signer)  # bl 3, tee 0, snp 8, ucode 115
    validate_report(verified, SnpPolicy(min_tcb=TcbFloor(bootloader=3, tee=0, snp=8, microcode=115)))
    with pytest.raises(PolicyViolation) as info:
        validate_report(verified, SnpPolicy(min_tcb=TcbFloor(bootloader=4)))
    assert set(_codes(info.value)) == {"snp.tcb.bootloader"}
    assert info.value.field == "reported_tcb.bootloader"


def test_turin_fmc_floor() -> None:
    turin = TestOnlyAmdSignerBuilder(product="Turin", tcb=TcbParts(bootloader=1, tee=1, snp=3, microcode=72, fmc=2)).build()
    verified = _verified(turin)
    validate_report(verified, SnpPolicy(min_tcb=TcbFloor(fmc=2)))
    with pytest.raises(PolicyViolation) as info:
        validate_report(verified, SnpPolicy(min_tcb=TcbFloor(fmc=3)))
    assert info.value.code == "snp.tcb.fmc"


def test_smt_refused_when_the_platform_has_it_on(signer: TestOnlyAmdSigner) -> None:
    gp = GuestPolicy(abi_minor=51, abi_major=1, smt=False, migrate_ma=False, debug=False, single_socket=False)
    on = _verified(signer, policy=gp, platform_info=PlatformInfo(smt_enabled=True, tsme_enabled=False))
    off = _verified(signer, policy=gp, platform_info=PlatformInfo(smt_enabled=False, tsme_enabled=True))
    validate_report(off, SnpPolicy(allow_smt=False, require_tsme=True))
    with pytest.raises(PolicyViolation) as info:
        validate_report(on, SnpPolicy(allow_smt=False))
    assert info.value.code == "snp.policy.smt"


def test_author_key_digest_allowed(signer: TestOnlyAmdSigner) -> None:
    author = b"\x07" * 48
    verified = _verified(signer, author_key_digest=author, signer_info=SignerInfo(author_key_en=True, mask_chip_key=False, signing_key=0))
    validate_report(verified, SnpPolicy(author_key_digests=frozenset({author})))
    with pytest.raises(PolicyViolation) as info:
        validate_report(verified, SnpPolicy(denied_author_key_digests=frozenset({author})))
    assert info.value.code == "snp.author_key_digest.denied"


def test_vlek_can_be_refused() -> None:
    vlek = TestOnlyAmdSignerBuilder(kind="VLEK").build()
    verified = _verified(vlek)
    with pytest.raises(PolicyViolation) as info:
        validate_report(verified, SnpPolicy(allowed_signing_keys=frozenset({"VCEK"})))
    assert info.value.code == "snp.signing_key.not_allowed"


# --- loading ----------------------------------------------------------------------------------


def test_from_mapping_reads_our_keys() -> None:
    policy = SnpPolicy.from_mapping(
        {
            "allow_debug": True,
            "min_tcb": {"bootloader": 2, "microcode": 93},
            "measurements": [MEASUREMENT.hex()],
            "allowed_vmpls": [0, 1],
            "min_abi": "1.51",
            "require_crl": True,
        }
    )
    assert policy.allow_debug and policy.require_crl
    assert policy.min_tcb == TcbFloor(bootloader=2, microcode=93)
    assert policy.measurements == frozenset({MEASUREMENT})
    assert policy.allowed_vmpls == frozenset({0, 1})
    assert policy.min_abi == (1, 51)


def test_from_mapping_reads_steward_keys() -> None:
    policy = SnpPolicy.from_mapping({"hash": [MEASUREMENT.hex()], "abi": ">=1.51", "policy_flags": ["SMT"], "platform_info_flags": "SME"})
    assert policy.measurements == frozenset({MEASUREMENT})
    assert policy.min_abi == (1, 51)
    assert policy.allow_smt and not policy.allow_debug and not policy.require_tsme


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"measurement": ["00" * 48]}, "snp.measurement"),  # misspelt: must not allow everything
        ({"measurements": ["00" * 47]}, "snp.measurements"),
        ({"measurements": ["zz"]}, "snp.measurements"),
        ({"measurements": "00"}, "snp.measurements"),
        ({"allow_debug": "yes"}, "snp.allow_debug"),
        ({"min_tcb": {"ucode": 1}}, "snp.min_tcb.ucode"),
        ({"min_tcb": {"microcode": 300}}, "snp.min_tcb.microcode"),
        ({"abi": "^1.51"}, "snp.abi"),
        ({"policy_flags": ["Foo"]}, "snp.policy_flags"),
        ({"hash": ["00" * 48], "measurements": ["00" * 48]}, "snp.measurements"),
        ({"measurements": ["00" * 48], "denied_measurements": ["00" * 48]}, "snp.denied_measurements"),
        ({"allowed_vmpls": [4]}, "snp.allowed_vmpls"),
        ({"min_abi": "1"}, "snp.min_abi"),
    ],
)
def test_from_mapping_errors_name_the_key(mapping: dict[str, object], field: str) -> None:
    with pytest.raises(AttestationError) as info:
        SnpPolicy.from_mapping(mapping)
    assert info.value.code == "policy.invalid"
    assert info.value.field == field, info.value.message
    assert field in info.value.message
