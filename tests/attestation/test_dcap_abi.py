"""DCAP quote parsing: every vector's fields, round trips, and refusals that name the field."""

from __future__ import annotations

import struct

import pytest

import enarx.attestation.dcap as dcap
from enarx.attestation.dcap import abi
from enarx.attestation.dcap.enarx import decode_enarx_sgx_evidence
from enarx.attestation.dcap.testing import test_only_sgx_body, test_only_td_body
from enarx.attestation.errors import MalformedEvidence
from tests.attestation.dcap_cases import (
    OCCLUM,
    SPR_E4,
    TRUSTEE_4,
    TRUSTEE_5,
    TRUSTEE_6,
    V5_SAMPLE,
    XEON_CSR,
    csr_parts,
)
from tests.vectors import vector

QUOTES = (OCCLUM, SPR_E4, V5_SAMPLE, TRUSTEE_4, TRUSTEE_5, TRUSTEE_6)


def _isort_key(name: str) -> tuple[int, str]:
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_facade_all_is_sorted_and_complete() -> None:
    assert dcap.__all__ == sorted(dcap.__all__, key=_isort_key)
    for name in dcap.__all__:
        assert hasattr(dcap, name), name
    for name in ("DcapPolicy", "verify_sgx_quote", "verify_tdx_quote", "verify_enarx_sgx_evidence",
                 "verify_enarx_tdx_evidence", "OID_EVIDENCE_TDX", "parse_quote", "parse_tcb_info",
                 "parse_qe_identity"):  # fmt: skip
        assert name in dcap.__all__


@pytest.mark.parametrize("path", QUOTES)
def test_vectors_round_trip(path: str) -> None:
    raw = vector(path)
    quote = abi.Quote.from_bytes(raw)
    assert quote.to_bytes() == raw
    assert quote.header.to_bytes() == raw[:48]
    assert quote.body.to_bytes() in raw


def test_occlum_sgx_v3_fields() -> None:
    q = abi.Quote.from_bytes(vector(OCCLUM))
    assert (q.header.version, q.header.attestation_key_type, q.header.tee_type) == (3, 2, 0)
    assert (q.header.qe_svn, q.header.pce_svn) == (8, 13)
    assert q.header.qe_vendor_id == abi.INTEL_QE_VENDOR_ID
    body = q.sgx_body
    assert body.mr_enclave.hex() == "8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68"
    assert body.mr_signer.hex() == "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e"
    assert (body.isv_prod_id, body.isv_svn) == (0, 0)
    assert body.attribute_flags == 0x07 and body.debug and body.xfrm == 0xE7
    assert body.report_data == b"test" + bytes(60)
    qe = q.signature_data.qe
    assert not q.signature_data.wrapped
    assert qe.certification_data.type == abi.CERT_DATA_PCK_CHAIN
    assert (qe.qe_report_body.isv_prod_id, qe.qe_report_body.isv_svn) == (1, 8)
    assert q.trailing == b""
    assert len(q.signed) == 48 + 384


def test_xeon_quote_inside_the_csr() -> None:
    quote, collateral = decode_enarx_sgx_evidence(csr_parts(XEON_CSR).evidence)
    assert len(quote.to_bytes()) == 4733
    body = quote.sgx_body
    assert body.report_data[32:] == bytes(32) and not body.debug
    assert (quote.header.qe_svn, quote.header.pce_svn, body.misc_select) == (7, 12, 1)
    assert len(quote.signature_data.qe.qe_auth_data) == 32
    assert len(collateral.crls) == 3 and len(collateral.tcb_info_issuer_chain) == 2
    assert collateral.tcb_info is not None and len(collateral.tcb_info) == 3094


def test_spr_e4_tdx_v4_fields_and_trailing_bytes() -> None:
    q = abi.Quote.from_bytes(vector(SPR_E4))
    assert (q.header.version, q.header.tee_type, q.body_type) == (4, 0x81, abi.BODY_TYPE_TD10)
    td = q.td_body
    assert td.mr_td.hex().startswith("6363b8043668a3ad953278e10389574d") and td.mr_td.hex().endswith("d7215cbb")
    assert td.td_attributes.hex() == "0000004000000000" and not td.debug
    assert td.tee_tcb_svn.hex().startswith("03000400")
    assert td.mr_signer_seam == bytes(48)
    assert td.tee_tcb_svn2 is None and td.mr_service_td is None
    assert q.signature_data.wrapped
    assert q.signature_data.qe.qe_report_body.isv_svn == 4
    # Unsigned bytes after the signature data: kept, never used (see docs/dcap.md).
    assert q.trailing == b"\nextra bytes(only for testing purpose)\n"


def test_trustee_4_debug_td() -> None:
    td = abi.Quote.from_bytes(vector(TRUSTEE_4)).td_body
    assert td.td_attributes.hex() == "0100001000000000"
    assert td.debug
    assert td.mr_td.hex().startswith("705ee9381b8633a9fbe532b52345e843")


def test_v5_quotes_have_the_body_descriptor_in_the_signed_region() -> None:
    for path in (V5_SAMPLE, TRUSTEE_5):
        raw = vector(path)
        q = abi.Quote.from_bytes(raw)
        assert q.header.version == 5 and q.body_type == abi.BODY_TYPE_TD15
        assert struct.unpack_from("<HI", raw, 48) == (3, 648)
        assert q.signed == raw[: 48 + 6 + 648]
        assert q.td_body.tee_tcb_svn2 is not None and q.td_body.mr_service_td is not None
    sample = abi.Quote.from_bytes(vector(V5_SAMPLE)).td_body
    assert sample.tee_tcb_svn.hex().startswith("0b010400") and sample.tee_tcb_svn2.hex().startswith("0d010400")  # type: ignore[union-attr]
    assert sample.mr_service_td == bytes(48)
    trustee = abi.Quote.from_bytes(vector(TRUSTEE_5)).td_body
    assert trustee.mr_service_td is not None and trustee.mr_service_td.hex().startswith("383c87d3bbb047b2")


def test_trustee_6_zero_padding_is_trailing() -> None:
    q = abi.Quote.from_bytes(vector(TRUSTEE_6))
    assert q.trailing == bytes(70)
    assert q.td_body.report_data[48:] == bytes(16)


def test_synthetic_bodies_round_trip() -> None:
    sgx = test_only_sgx_body(debug=True, isv_prod_id=7, isv_svn=3)
    assert abi.SgxReportBody.from_bytes(sgx.to_bytes()) == sgx
    for td in (test_only_td_body(), test_only_td_body(v15=True, debug=True)):
        assert abi.TdReportBody.from_bytes(td.to_bytes()) == td


def _refusal(data: bytes) -> MalformedEvidence:
    with pytest.raises(MalformedEvidence) as info:
        abi.Quote.from_bytes(data)
    return info.value


def test_truncated_quote_names_the_field() -> None:
    raw = vector(TRUSTEE_4)
    err = _refusal(raw[:100])
    assert err.code == "dcap.quote.truncated" and err.field == "quote.body"
    err = _refusal(raw[:40])
    assert err.field == "quote.header"
    err = _refusal(raw[:700])
    assert err.code == "dcap.quote.truncated" and err.field == "quote.signature_data"


def test_unknown_version_key_type_tee_type() -> None:
    raw = bytearray(vector(TRUSTEE_4))
    bad = bytes(raw[:0]) + struct.pack("<H", 6) + bytes(raw[2:])
    err = _refusal(bad)
    assert (err.code, err.field, err.got) == ("dcap.quote.version", "header.version", 6)
    bad = raw[:2] + struct.pack("<H", 3) + raw[4:]
    err = _refusal(bytes(bad))
    assert (err.code, err.expected, err.got) == ("dcap.quote.key_type", 2, 3)
    bad = raw[:4] + struct.pack("<I", 0x42) + raw[8:]
    assert _refusal(bytes(bad)).code == "dcap.quote.tee_type"
    sgx = bytearray(vector(OCCLUM))
    assert _refusal(bytes(sgx[:4] + struct.pack("<I", 0x81) + sgx[8:])).code == "dcap.quote.tee_type"


def test_v5_body_descriptor_checked() -> None:
    raw = vector(V5_SAMPLE)
    err = _refusal(raw[:48] + struct.pack("<H", 9) + raw[50:])
    assert (err.code, err.field, err.got) == ("dcap.quote.body_type", "body_type", 9)
    err = _refusal(raw[:50] + struct.pack("<I", 584) + raw[54:])
    assert (err.code, err.expected, err.got) == ("dcap.quote.body_size", 648, 584)


def test_v4_needs_certification_data_type_6() -> None:
    raw = bytearray(vector(TRUSTEE_4))
    offset = 48 + 584 + 4 + 64 + 64
    assert struct.unpack_from("<H", raw, offset) == (6,)
    struct.pack_into("<H", raw, offset, 5)
    err = _refusal(bytes(raw))
    assert (err.code, err.expected, err.got) == ("dcap.quote.cert_data_type", 6, 5)


def test_wrong_body_accessor_is_a_typed_error() -> None:
    with pytest.raises(MalformedEvidence) as info:
        _ = abi.Quote.from_bytes(vector(OCCLUM)).td_body
    assert info.value.code == "dcap.quote.tee_type"


def test_oversized_input_refused_before_parsing() -> None:
    err = _refusal(bytes(abi.MAX_QUOTE_SIZE + 1))
    assert err.code == "dcap.quote.size"
