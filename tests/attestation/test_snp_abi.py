"""SEV-SNP report parsing: every field of the real vectors, round trips, refusals, fuzzing."""

from __future__ import annotations

import struct
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import enarx.attestation.snp as snp_facade
from enarx.attestation.errors import AttestationError, MalformedEvidence
from enarx.attestation.snp.abi import (
    REPORT_SIZE,
    GuestPolicy,
    PlatformInfo,
    Report,
    SignerInfo,
    TcbParts,
    product_from_cpuid,
)
from enarx.attestation.testing import make_test_only_report
from tests.vectors import vector

SNP_REPORTS = ("snp/go-sev-guest/attestation.bin", "snp/virtee-sev/report_milan.bin", "snp/trustee/test-report.bin")


def test_facade_all_is_sorted_and_complete() -> None:
    names = snp_facade.__all__
    assert list(names) == sorted(names, key=lambda n: (not n.isupper(), n))
    for name in names:
        assert hasattr(snp_facade, name), name


@pytest.mark.parametrize("path", SNP_REPORTS)
def test_vector_round_trips_byte_for_byte(path: str) -> None:
    raw = vector(path)
    report = Report.from_bytes(raw)
    assert report.to_bytes() == raw
    assert report.signed_bytes() == raw[:0x2A0]


def test_go_sev_guest_fields() -> None:
    r = Report.from_bytes(vector("snp/go-sev-guest/attestation.bin"))
    assert r.version == 2
    assert r.guest_svn == 0
    assert r.policy == GuestPolicy(abi_minor=0, abi_major=0, smt=True, migrate_ma=False, debug=True, single_socket=False)
    assert r.policy.to_u64() == 0xB0000
    assert r.vmpl == 0 and r.signature_algo == 1
    assert r.signer_info == SignerInfo(author_key_en=False, mask_chip_key=False, signing_key=0)
    assert r.platform_info == PlatformInfo(smt_enabled=True, tsme_enabled=False)
    assert r.report_data == bytes.fromhex("0102030405") + bytes(59)
    assert r.measurement.hex().startswith("b07af9620f3b839b47996422ddec6058")
    assert r.family_id == bytes(16) and r.host_data == bytes(32) and r.id_key_digest == bytes(48)
    for which in ("reported", "current", "committed", "launch"):
        assert getattr(r, f"{which}_tcb") == 0x4405000000000002
        assert r.tcb(which, "Milan") == TcbParts(bootloader=2, tee=0, snp=5, microcode=68)
    assert str(r.current_version) == "1.49.3"
    assert r.chip_id.hex().startswith("3ac3fe21e13fb099")
    assert r.cpuid_product is None  # v2 has no CPUID fields


def test_trustee_reported_tcb_differs_from_current() -> None:
    r = Report.from_bytes(vector("snp/trustee/test-report.bin"))
    assert r.guest_svn == 4
    assert (r.policy.abi_major, r.policy.abi_minor) == (0, 31)
    assert r.family_id == b"\x01" + bytes(15) and r.image_id == b"\x02" + bytes(15)
    assert r.reported_tcb == 0x7308000000000003
    assert r.current_tcb == 0xCE08000000000003
    assert r.tcb("current", "Milan").microcode == 206
    assert r.tcb("reported", "Milan") == TcbParts(bootloader=3, tee=0, snp=8, microcode=115)


def test_virtee_fields() -> None:
    r = Report.from_bytes(vector("snp/virtee-sev/report_milan.bin"))
    assert r.policy.debug is False and r.policy.smt is True
    assert r.report_data.hex().startswith("d447b55d197491bf")
    assert str(r.committed_version) == "1.52.4"
    assert r.tcb("launch", "Milan") == TcbParts(bootloader=3, tee=0, snp=8, microcode=115)


def test_turin_tcb_layout_has_fmc_first() -> None:
    # Turin: FMC, BL, TEE, SNP, 3 reserved, UCODE; Milan/Genoa: BL, TEE, 4 reserved, SNP, UCODE.
    raw = bytes([7, 3, 1, 24, 0, 0, 0, 72])
    value = int.from_bytes(raw, "little")
    assert TcbParts.from_u64(value, "Turin") == TcbParts(fmc=7, bootloader=3, tee=1, snp=24, microcode=72)
    assert TcbParts.from_u64(value, "Genoa") == TcbParts(bootloader=7, tee=3, snp=0, microcode=72)
    parts = TcbParts(fmc=7, bootloader=3, tee=1, snp=24, microcode=72)
    assert parts.to_u64("Turin") == value
    milan = TcbParts(bootloader=2, tee=0, snp=6, microcode=93)
    assert milan.to_u64("Milan") == 0x5D06000000000002


@pytest.mark.parametrize(
    ("family", "model", "product"),
    [(0x19, 0x01, "Milan"), (0x19, 0x11, "Genoa"), (0x19, 0xA0, "Genoa"), (0x1A, 0x02, "Turin"), (0x1A, 0x11, "Turin"), (0x17, 0x31, None)],
)
def test_product_from_cpuid(family: int, model: int, product: str | None) -> None:
    assert product_from_cpuid(family, model) == product


@pytest.mark.parametrize("version", [3, 5])
def test_newer_versions_round_trip_their_fields(version: int) -> None:
    fields: dict[str, int] = {"cpuid_fam_id": 0x1A, "cpuid_mod_id": 0x02, "cpuid_step": 1, "signature_r": 5, "signature_s": 7}
    if version == 5:
        fields |= {"launch_mit_vector": 0x3, "current_mit_vector": 0x7}
    report = make_test_only_report(version=version, **fields)
    raw = report.to_bytes()
    assert raw[0x188:0x18B] == bytes([0x1A, 0x02, 1])
    parsed = Report.from_bytes(raw)
    assert parsed == report
    assert parsed.cpuid_product == "Turin"
    if version == 5:
        assert struct.unpack_from("<QQ", raw, 0x1F8) == (3, 7)


def test_policy_bits_round_trip() -> None:
    policy = GuestPolicy(abi_minor=55, abi_major=1, smt=False, migrate_ma=True, debug=False, single_socket=True, cxl_allow=True, page_swap_disable=True)
    assert GuestPolicy.from_u64(policy.to_u64()) == policy
    info = PlatformInfo(smt_enabled=False, tsme_enabled=True, ecc_enabled=True, tio_enabled=True)
    assert PlatformInfo.from_u64(info.to_u64()) == info


def _with(raw: bytes, offset: int, data: bytes) -> bytes:
    return raw[:offset] + data + raw[offset + len(data) :]


@pytest.mark.parametrize(
    ("mutate", "code", "field"),
    [
        (lambda r: r[:-1], "snp.report.size", "report"),
        (lambda r: r + b"\0", "snp.report.size", "report"),
        (lambda r: _with(r, 0, struct.pack("<I", 4)), "snp.report.version", "version"),
        (lambda r: _with(r, 0, struct.pack("<I", 1)), "snp.report.version", "version"),
        (lambda r: _with(r, 0x08, struct.pack("<Q", 0x10000)), "snp.report.malformed", "policy"),  # bit 17 clear
        (lambda r: _with(r, 0x08, struct.pack("<Q", 0x20000 | 1 << 40)), "snp.report.malformed", "policy"),
        (lambda r: _with(r, 0x48, struct.pack("<I", 2 << 2)), "snp.report.malformed", "signer_info.signing_key"),
        (lambda r: _with(r, 0x4C, b"\x01"), "snp.report.reserved", "reserved at 0x4c"),
        (lambda r: _with(r, 0x188, b"\x19"), "snp.report.reserved", "reserved at 0x188"),  # v2 has no CPUID
        (lambda r: _with(r, 0x1F8, b"\x01"), "snp.report.reserved", "reserved at 0x1f8"),
        (lambda r: _with(r, 0x4A0 - 1, b"\x01"), "snp.report.reserved", "signature reserved"),
        (lambda r: _with(r, 0x40, struct.pack("<Q", 1 << 9)), "snp.report.malformed", "platform_info"),
    ],
)
def test_malformed_reports_name_the_field(mutate, code: str, field: str) -> None:  # type: ignore[no-untyped-def]
    raw = vector("snp/go-sev-guest/attestation.bin")
    with pytest.raises(MalformedEvidence) as info:
        Report.from_bytes(mutate(raw))
    assert info.value.code == code
    assert info.value.field == field


def test_to_bytes_refuses_wrong_field_length() -> None:
    report = make_test_only_report()
    with pytest.raises(MalformedEvidence, match="measurement"):
        replace(report, measurement=b"short").to_bytes()


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=REPORT_SIZE + 8))
def test_fuzz_arbitrary_bytes_give_typed_errors(data: bytes) -> None:
    try:
        report = Report.from_bytes(data)
    except AttestationError:
        return
    assert report.to_bytes() == data


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated_reports_parse_or_give_typed_errors(data: st.DataObject) -> None:
    raw = bytearray(vector("snp/virtee-sev/report_milan.bin"))
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, REPORT_SIZE - 1))] = data.draw(st.integers(0, 255))
    try:
        report = Report.from_bytes(bytes(raw))
    except AttestationError:
        return
    assert report.to_bytes() == bytes(raw)
