"""configfs-tsm outblob + auxblob: build, parse, verify, refuse garbage."""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

from enarx.attestation.errors import AttestationError, MalformedEvidence
from enarx.attestation.snp.check import check_report
from enarx.attestation.snp.tsm import (
    ARK_GUID,
    ASK_GUID,
    VCEK_GUID,
    build_cert_table,
    build_tsm,
    parse_cert_table,
    parse_tsm,
)
from enarx.attestation.snp.validate import SnpPolicy
from enarx.attestation.testing import TestOnlyAmdSignerBuilder

NOW = datetime(2024, 1, 1, tzinfo=UTC)
REPORT = TestOnlyAmdSignerBuilder().build().signed_report()


def test_guids_are_stored_big_endian() -> None:
    table = build_cert_table([(VCEK_GUID, b"x")])
    assert table[:16] == bytes.fromhex("63da758de6644564adc5f4b93be8accd")
    assert struct.unpack_from("<II", table, 16) == (48, 1)  # offset past the table + terminator
    assert table[24:48] == bytes(24)


def test_round_trip_and_verify() -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    der = {name: getattr(signer, name).public_bytes(Encoding.DER) for name in ("vcek", "ask", "ark")}
    outblob, auxblob = build_tsm(signer.signed_report(), **der)
    evidence = parse_tsm(outblob, auxblob)
    assert [e.name for e in evidence.entries] == ["VCEK", "ASK", "ARK"]
    assert [e.guid for e in evidence.entries] == [VCEK_GUID, ASK_GUID, ARK_GUID]
    assert evidence.certificates == (signer.vcek, signer.ask, signer.ark)
    verdict = check_report(evidence.raw_report, options=signer.options(NOW), policy=SnpPolicy(), certificates=evidence.certificates)
    assert verdict.tee == "snp"


def test_empty_auxblob_means_no_certificates() -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    outblob, auxblob = build_tsm(signer.signed_report())
    assert auxblob == b""
    assert parse_tsm(outblob, auxblob).entries == ()


def test_unknown_guids_are_kept_but_not_parsed() -> None:
    other = uuid.UUID("ecae0c0f-9502-43b1-afa2-0ae2e0d565b6")
    entries = parse_cert_table(build_cert_table([(other, b"\x00" * 8)]))
    assert entries[0].guid == other and entries[0].name == str(other)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        bytes(23),
        build_cert_table([(VCEK_GUID, b"abc")])[:-3] + b"",  # data cut short
        VCEK_GUID.bytes + struct.pack("<II", 0, 4) + bytes(24),  # offset inside the table
        VCEK_GUID.bytes + struct.pack("<II", 48, 0) + bytes(24),  # empty entry
        VCEK_GUID.bytes + struct.pack("<II", 72, 1) + VCEK_GUID.bytes + struct.pack("<II", 72, 1) + bytes(25),  # duplicate
        VCEK_GUID.bytes + struct.pack("<II", 48, 1),  # no terminator
    ],
)
def test_malformed_tables(blob: bytes) -> None:
    with pytest.raises(MalformedEvidence) as info:
        parse_cert_table(blob)
    assert info.value.code == "snp.tsm.malformed"


def test_outblob_must_be_a_report() -> None:
    with pytest.raises(MalformedEvidence) as info:
        parse_tsm(b"\x00" * 100)
    assert info.value.code == "snp.report.size"


def test_garbage_certificate_in_table() -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    outblob, auxblob = build_tsm(signer.signed_report(), vcek=b"\x30\x00")
    with pytest.raises(MalformedEvidence) as info:
        parse_tsm(outblob, auxblob)
    assert info.value.code == "snp.cert.malformed"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=256))
def test_fuzz_cert_table(data: bytes) -> None:
    try:
        entries = parse_cert_table(data)
    except AttestationError:
        return
    assert all(e.data for e in entries)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_fuzz_mutated_auxblob(data: st.DataObject) -> None:
    blob = bytearray(build_cert_table([(VCEK_GUID, b"\x30\x03\x02\x01\x01"), (ASK_GUID, b"abc")]))
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    try:
        evidence = parse_tsm(REPORT, bytes(blob))
    except AttestationError:
        return
    assert evidence.raw_report == REPORT
