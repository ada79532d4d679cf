"""Enarx Keep evidence: the SGX CSR format, our TDX format and OID, and the key binding."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from enarx.attestation.dcap import OID_EVIDENCE_SGX, OID_EVIDENCE_TDX, DcapPolicy
from enarx.attestation.dcap.enarx import (
    decode_enarx_sgx_evidence,
    decode_enarx_tdx_evidence,
    encode_enarx_sgx_evidence,
    encode_enarx_tdx_evidence,
    verify_enarx_sgx_evidence,
    verify_enarx_tdx_evidence,
)
from enarx.attestation.dcap.testing import test_only_sgx_body, test_only_td_body
from enarx.attestation.errors import (
    MalformedEvidence,
    PolicyViolation,
    VerificationFailed,
)
from enarx.attestation.options import VerifyOptions
from tests.attestation.dcap_cases import (
    GO_TDX_NOW,
    STEWARD_NOW,
    TRUSTEE_4,
    XEON_CSR,
    csr_parts,
    fake_options,
    fake_pki,
    go_tdx_collateral,
    steward_policy,
)
from tests.vectors import vector


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_oids() -> None:
    assert OID_EVIDENCE_SGX == "1.3.6.1.4.1.58270.1.2"
    assert OID_EVIDENCE_TDX.startswith("2.25.") and not OID_EVIDENCE_TDX.startswith("1.3.6.1.4.1.58270")
    assert int(OID_EVIDENCE_TDX.split(".")[2]) < 2**128  # a UUID as an integer
    x509.ObjectIdentifier(OID_EVIDENCE_TDX)  # valid OID syntax


def test_xeon_binding_is_sha256_of_the_csr_spki() -> None:
    parts = csr_parts(XEON_CSR)
    quote, _ = decode_enarx_sgx_evidence(parts.evidence)
    assert quote.sgx_body.report_data[:32].hex() == "e8fb117dc821f696a14df8c16e6b18045924873efcf5d3ca33300d1d40bc765c"
    assert hashlib.sha256(parts.spki_der).digest() == quote.sgx_body.report_data[:32]


def test_wrong_binding() -> None:
    parts = csr_parts(XEON_CSR)
    other = _spki(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_sgx_evidence(parts.evidence, spki_der=other, options=VerifyOptions(now=STEWARD_NOW), policy=steward_policy())
    assert (info.value.code, info.value.field) == ("binding.report_data", "report_data")
    assert info.value.expected == hashlib.sha256(other).digest()


def test_key_algorithm_must_be_the_pcks() -> None:
    parts = csr_parts(XEON_CSR)
    p384 = _spki(ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_sgx_evidence(parts.evidence, spki_der=p384, options=VerifyOptions(now=STEWARD_NOW), policy=steward_policy())
    assert (info.value.code, info.value.got) == ("binding.key_algorithm", "EC secp384r1")
    with pytest.raises(MalformedEvidence) as bad:
        verify_enarx_sgx_evidence(parts.evidence, spki_der=b"\x30\x00", options=VerifyOptions(now=STEWARD_NOW), policy=steward_policy())
    assert bad.value.code == "binding.spki"


def test_sgx_evidence_reencodes_byte_for_byte() -> None:
    parts = csr_parts(XEON_CSR)
    quote, carried = decode_enarx_sgx_evidence(parts.evidence)
    assert carried.tcb_info is not None
    from enarx.attestation import der

    body = der.Reader(parts.evidence).sequence()
    body.any()  # the quote
    urls = [url for url, _ in der.read_crl_list(body)]
    assert urls[0] == "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
    again = encode_enarx_sgx_evidence(
        quote.to_bytes(), crls=list(zip(urls, carried.crls, strict=True)),
        tcb_signing_chain=carried.tcb_info_issuer_chain, tcb_info=carried.tcb_info,
    )  # fmt: skip
    assert again == parts.evidence


def test_tdx_evidence_round_trip_with_real_quote_and_collateral() -> None:
    c = go_tdx_collateral()
    evidence = encode_enarx_tdx_evidence(
        vector(TRUSTEE_4), crls=c.crls, tcb_signing_chain=c.tcb_info_issuer_chain, tcb_info=c.tcb_info, qe_identity=c.qe_identity
    )
    quote, carried = decode_enarx_tdx_evidence(evidence)
    assert quote.to_bytes() == vector(TRUSTEE_4)
    assert (carried.tcb_info, carried.qe_identity) == (c.tcb_info, c.qe_identity)
    assert carried.crls == c.crls and carried.tcb_info_issuer_chain == c.tcb_info_issuer_chain
    # Everything but the binding verifies from the evidence alone: trustee's REPORTDATA is not
    # a hash of any key we have.
    spki = _spki(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_tdx_evidence(evidence, spki_der=spki, options=VerifyOptions(now=GO_TDX_NOW), policy=DcapPolicy(allow_debug=True))
    assert info.value.code == "binding.report_data"


def test_tdx_evidence_without_collateral_uses_the_verifiers() -> None:
    bare = encode_enarx_tdx_evidence(vector(TRUSTEE_4), include_collateral=False)
    _, carried = decode_enarx_tdx_evidence(bare)
    assert carried.tcb_info is None and carried.crls == ()
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_tdx_evidence(bare, spki_der=b"", options=VerifyOptions(now=GO_TDX_NOW), policy=DcapPolicy())
    assert info.value.code == "dcap.collateral.missing"


def test_simulated_tdx_keep_end_to_end() -> None:
    """What a configfs-tsm TDX Keep will send: a quote binding its key, with collateral."""
    pki = fake_pki()
    key = ec.generate_private_key(ec.SECP256R1())
    spki = _spki(key)
    body = test_only_td_body(report_data=hashlib.sha256(spki).digest() + bytes(32))
    evidence = encode_enarx_tdx_evidence(
        pki.quote(body, version=5), crls=pki.crls(), tcb_signing_chain=pki.tcb_signing_chain,
        tcb_info=pki.tcb_info("tdx"), qe_identity=pki.qe_identity("tdx"),
    )  # fmt: skip
    options = VerifyOptions(now=fake_options(pki, "tdx").now, extra_roots=(pki.root,), trust_vendor_roots=False)
    verdict = verify_enarx_tdx_evidence(evidence, spki_der=spki, options=options, policy=DcapPolicy(mrtd=frozenset({body.mr_td})))
    assert verdict.tee == "tdx" and verdict.measurement == body.mr_td and verdict.tcb_status == "UpToDate"
    # Debug TD with the same binding: refused by the release policy, listing the violations.
    debug = test_only_td_body(report_data=body.report_data, debug=True, mr_td=b"\x01" * 48)
    evidence = encode_enarx_tdx_evidence(
        pki.quote(debug), crls=pki.crls(), tcb_signing_chain=pki.tcb_signing_chain,
        tcb_info=pki.tcb_info("tdx"), qe_identity=pki.qe_identity("tdx"),
    )  # fmt: skip
    with pytest.raises(PolicyViolation) as info:
        verify_enarx_tdx_evidence(evidence, spki_der=spki, options=options, policy=DcapPolicy(mrtd=frozenset({body.mr_td})))
    assert [v.code for v in info.value.violations] == ["tdx.debug", "tdx.mrtd"]


def test_simulated_sgx_keep_end_to_end() -> None:
    pki = fake_pki()
    key = ec.generate_private_key(ec.SECP256R1())
    spki = _spki(key)
    quote = pki.quote(test_only_sgx_body(report_data=hashlib.sha256(spki).digest() + bytes(32)))
    evidence = encode_enarx_sgx_evidence(
        quote, crls=[("root", pki.crl("root")), ("pck", pki.crl("pck_ca"))],
        tcb_signing_chain=pki.tcb_signing_chain, tcb_info=pki.tcb_info("sgx"),
    )  # fmt: skip
    options = fake_options(pki, "sgx", tcb_info=None, tcb_info_issuer_chain=(), crls=())
    verdict = verify_enarx_sgx_evidence(evidence, spki_der=spki, options=options, policy=DcapPolicy())
    assert verdict.tcb_status == "UpToDate" and verdict.claims["qe_identity_checked"] is True


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "tdx.evidence.der"),
        (b"\x30\x03\x02\x01\x02", "tdx.evidence.der"),
        (bytes(300 * 1024), "tdx.evidence.size"),
    ],
)
def test_malformed_tdx_evidence(data: bytes, code: str) -> None:
    with pytest.raises(MalformedEvidence) as info:
        decode_enarx_tdx_evidence(data)
    assert info.value.code == code


def test_tdx_evidence_version_and_trailing_bytes() -> None:
    good = encode_enarx_tdx_evidence(vector(TRUSTEE_4), include_collateral=False)
    bad_version = good.replace(b"\x02\x01\x01", b"\x02\x01\x02", 1)
    with pytest.raises(MalformedEvidence) as info:
        decode_enarx_tdx_evidence(bad_version)
    assert (info.value.code, info.value.got) == ("tdx.evidence.version", 2)
    with pytest.raises(MalformedEvidence) as info:
        decode_enarx_tdx_evidence(good + b"\x00")
    assert info.value.code == "tdx.evidence.der"


def test_sgx_evidence_with_a_bad_crl_or_certificate() -> None:
    pki = fake_pki()
    quote = pki.quote(test_only_sgx_body())
    crl = pki.crl("root")
    good = encode_enarx_sgx_evidence(quote, crls=[("x", crl)], tcb_signing_chain=pki.tcb_signing_chain, tcb_info=b"{}")
    crl_der = crl.public_bytes(serialization.Encoding.DER)
    # Retag the CRL's tbsCertList (SEQUENCE -> OCTET STRING): the outer DER stays intact.
    start = crl_der.index(b"\x30", 1)
    broken = good.replace(crl_der[start : start + 12], b"\x04" + crl_der[start + 1 : start + 12])
    with pytest.raises(MalformedEvidence) as info:
        decode_enarx_sgx_evidence(broken)
    assert (info.value.code, info.value.field) == ("sgx.evidence.crl", "crl.crls[0]")
    cert_der = pki.tcb_signing.public_bytes(serialization.Encoding.DER)
    start = cert_der.index(b"\x30", 1)
    broken = good.replace(cert_der[start : start + 12], b"\x04" + cert_der[start + 1 : start + 12])
    with pytest.raises(MalformedEvidence) as info:
        decode_enarx_sgx_evidence(broken)
    assert (info.value.code, info.value.field) == ("sgx.evidence.certificate", "tcb.crts[0]")



def test_test_only_keep_evidence_builders() -> None:
    pki = fake_pki()
    spki = _spki(ec.generate_private_key(ec.SECP256R1()))
    options = VerifyOptions(now=fake_options(pki, "tdx").now, extra_roots=(pki.root,), trust_vendor_roots=False)
    tdx = verify_enarx_tdx_evidence(pki.enarx_tdx_evidence(spki), spki_der=spki, options=options, policy=DcapPolicy())
    assert tdx.report_data[:32] == hashlib.sha256(spki).digest() and tdx.claims["quote_version"] == 5
    sgx = verify_enarx_sgx_evidence(
        pki.enarx_sgx_evidence(spki), spki_der=spki, options=options, policy=DcapPolicy(require_qe_identity=False)
    )
    assert sgx.tee == "sgx" and sgx.tcb_status == "UpToDate"
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_tdx_evidence(pki.enarx_tdx_evidence(spki, collateral=False), spki_der=spki, options=options, policy=DcapPolicy())
    assert info.value.code == "dcap.collateral.missing"
