"""Enarx CSR evidence: the canned Milan CSR in and out of its window, synthetic negatives, fuzzing."""

from __future__ import annotations

import hashlib
import tomllib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enarx.attestation import dcap
from enarx.attestation.csr import (
    OID_EVIDENCE_KVM,
    OID_EVIDENCE_SGX,
    OID_EVIDENCE_SNP,
    EvidenceCsr,
    decode_snp_evidence,
    encode_snp_evidence,
    parse_enarx_csr,
    verify_enarx_csr,
)
from enarx.attestation.errors import (
    AttestationError,
    MalformedEvidence,
    PolicyViolation,
    VerificationFailed,
)
from enarx.attestation.options import Collateral, VerifyOptions
from enarx.attestation.policy import AttestationPolicy
from enarx.attestation.snp.abi import GuestPolicy
from enarx.attestation.snp.validate import SnpPolicy
from enarx.attestation.testing import TestOnlyAmdSigner, TestOnlyAmdSignerBuilder
from tests.vectors import vector

SECOND = timedelta(seconds=1)
MILAN_CSR = "enarx-csr/milan.signed.crl.csr"
# Suggested now from MANIFEST.md (inside the all-valid window 2022-10-31T13:34:46Z .. 2023-05-09T23:00:00Z).
CSR_NOW = datetime(2023, 2, 1, tzinfo=UTC)
# This verifier's window for the Milan CSR: the VCEK's notBefore .. the Milan CRL's nextUpdate.
# The all-valid window of MANIFEST starts later, at the Genoa CRL's thisUpdate, but that CRL is
# the Genoa ARK's and does not apply to a Milan chain, so it is ignored (see
# test_genoa_crl_does_not_bound_a_milan_chain).
VCEK_NOT_BEFORE = datetime(2022, 9, 29, 12, 48, 56, tzinfo=UTC)
MILAN_CRL_NEXT_UPDATE = datetime(2023, 5, 9, 23, 0, 0, tzinfo=UTC)
MEASUREMENT = "ff717ae719840c93c1fca3b7db96488454c3c21b43531488eecff51cfed3febcd91da8be87a4cbcbc52a3bae770987c3"


def steward_policy() -> AttestationPolicy:
    return AttestationPolicy.from_mapping(tomllib.loads(vector("enarx-csr/steward.toml").decode()))


def _verify(data: bytes | EvidenceCsr, at: datetime = CSR_NOW, policy: AttestationPolicy | None = None) -> object:
    return verify_enarx_csr(data, options=VerifyOptions(now=at), policy=policy or steward_policy())


def test_milan_csr_verifies_with_steward_policy() -> None:
    verified = verify_enarx_csr(vector(MILAN_CSR), options=VerifyOptions(now=CSR_NOW), policy=steward_policy())
    verdict = verified.verdict
    assert verdict.tee == "snp"
    assert verdict.debug is False
    assert verdict.measurement.hex() == MEASUREMENT
    assert verdict.report_data[:48].hex() == "e74229bb545adffc0288a21350353014c874ef4ab1120c53e5dafc9971996326e091ec36abbb534ae1d0728fa114e7c6"
    assert verdict.report_data[:48] == hashlib.sha384(verified.csr.spki_der).digest()
    assert verdict.claims["crl_checked"] is True
    assert verdict.claims["tcb"]["reported"] == {"bootloader": 2, "tee": 0, "snp": 6, "microcode": 93}  # type: ignore[index]
    assert verdict.claims["current_firmware"] == "1.51.3"
    assert verified.csr.evidence_oid == OID_EVIDENCE_SNP


def test_milan_csr_window_edges() -> None:
    for at in (VCEK_NOT_BEFORE, MILAN_CRL_NEXT_UPDATE):
        _verify(vector(MILAN_CSR), at)
    with pytest.raises(VerificationFailed) as before:
        _verify(vector(MILAN_CSR), VCEK_NOT_BEFORE - SECOND)
    assert before.value.code == "snp.cert.not_yet_valid"
    with pytest.raises(VerificationFailed) as after:
        _verify(vector(MILAN_CSR), MILAN_CRL_NEXT_UPDATE + SECOND)
    assert after.value.code == "snp.crl.expired"


def test_genoa_crl_does_not_bound_a_milan_chain() -> None:
    # One second before the Genoa CRL's thisUpdate (2022-10-31T13:34:46Z): that CRL is ARK-Genoa's.
    _verify(vector(MILAN_CSR), datetime(2022, 10, 31, 13, 34, 45, tzinfo=UTC))


def test_pem_form_verifies() -> None:
    csr = x509.load_der_x509_csr(vector(MILAN_CSR))
    parsed = parse_enarx_csr(csr.public_bytes(Encoding.PEM))
    assert parsed.der == vector(MILAN_CSR)
    _verify(parsed)


def test_bad_csr_signature() -> None:
    raw = bytearray(vector(MILAN_CSR))
    raw[-1] ^= 0x01  # last byte of the ECDSA signature's s
    with pytest.raises(VerificationFailed) as info:
        parse_enarx_csr(bytes(raw))
    assert info.value.code == "csr.signature"


@pytest.mark.parametrize("offset", [200, 1000, 3000, 4300])  # CSR info: SPKI, VCEK, CRLs, report
def test_flipped_bit_in_the_signed_csr_is_refused(offset: int) -> None:
    raw = bytearray(vector(MILAN_CSR))
    raw[offset] ^= 0x01
    with pytest.raises(AttestationError) as info:
        _verify(bytes(raw))
    assert info.value.code in ("csr.signature", "csr.malformed"), info.value.code


def test_measurement_not_allowed() -> None:
    data = tomllib.loads(vector("enarx-csr/steward.toml").decode())
    data["snp"]["hash"] = ["00" * 48]
    with pytest.raises(PolicyViolation) as info:
        _verify(vector(MILAN_CSR), policy=AttestationPolicy.from_mapping(data))
    assert info.value.code == "snp.measurement.not_allowed"
    assert info.value.got == MEASUREMENT


def test_steward_negatives_bad_author_key_and_blacklisted_id_key() -> None:
    data = tomllib.loads(vector("enarx-csr/steward.toml").decode())
    data["snp"]["signer"] = ["11" * 48]
    data["snp"]["id_key_digest_blacklist"] = data["snp"].pop("id_key_digest")
    with pytest.raises(PolicyViolation) as info:
        _verify(vector(MILAN_CSR), policy=AttestationPolicy.from_mapping(data))
    assert {v.code for v in info.value.violations} == {"snp.author_key_digest.not_allowed", "snp.id_key_digest.denied"}


def test_abi_requirement_above_the_report() -> None:
    data = tomllib.loads(vector("enarx-csr/steward.toml").decode())
    data["snp"]["abi"] = ">=1.52"
    with pytest.raises(PolicyViolation) as info:
        _verify(vector(MILAN_CSR), policy=AttestationPolicy.from_mapping(data))
    assert info.value.code == "snp.policy.abi"


# --- synthetic CSRs ----------------------------------------------------------------------------


def make_csr(key: ec.EllipticCurvePrivateKey, extensions: list[tuple[str, bytes, bool]]) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    for oid, value, critical in extensions:
        builder = builder.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=critical)
    digest = hashes.SHA384() if isinstance(key.curve, ec.SECP384R1) else hashes.SHA256()
    return builder.sign(key, digest).public_bytes(Encoding.DER)


def spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


NOW = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def signer() -> TestOnlyAmdSigner:
    return TestOnlyAmdSignerBuilder().build()


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def snp_csr(signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey, *, bound_to: bytes | None = None, crls: list[x509.CertificateRevocationList] | None = None, **fields: object) -> bytes:
    report_data = hashlib.sha384(bound_to if bound_to is not None else spki(key)).digest() + bytes(16)
    raw = signer.signed_report(report_data=report_data, **fields)
    evidence = encode_snp_evidence(raw, signer.vcek, [("https://test-only.invalid/crl", c) for c in (crls if crls is not None else [signer.crl()])])
    return make_csr(key, [(OID_EVIDENCE_SNP, evidence, False)])


def options_for(signer: TestOnlyAmdSigner, at: datetime = NOW) -> VerifyOptions:
    # Enarx evidence carries the VCEK only; the fake ASK comes from the "host cache".
    return signer.options(at, collateral=Collateral(certificates=(signer.ask,)))


def test_synthetic_snp_csr_verifies(signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    verified = verify_enarx_csr(snp_csr(signer, key), options=options_for(signer), policy=AttestationPolicy())
    assert verified.verdict.tee == "snp"
    assert verified.verdict.claims["crl_checked"] is True


def test_wrong_binding(signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    other = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_csr(snp_csr(signer, key, bound_to=spki(other)), options=options_for(signer), policy=AttestationPolicy())
    assert info.value.code == "binding.report_data"
    assert info.value.expected == hashlib.sha384(spki(key)).digest().hex()


def test_real_evidence_replayed_under_another_key() -> None:
    evidence = x509.load_der_x509_csr(vector(MILAN_CSR)).extensions[0].value.value  # type: ignore[attr-defined]
    csr = make_csr(ec.generate_private_key(ec.SECP384R1()), [(OID_EVIDENCE_SNP, evidence, False)])
    with pytest.raises(VerificationFailed) as info:
        _verify(csr)
    assert info.value.code == "binding.report_data"


def test_key_algorithm_downgrade_is_refused() -> None:
    evidence = x509.load_der_x509_csr(vector(MILAN_CSR)).extensions[0].value.value  # type: ignore[attr-defined]
    csr = make_csr(ec.generate_private_key(ec.SECP256R1()), [(OID_EVIDENCE_SNP, evidence, False)])
    with pytest.raises(VerificationFailed) as info:
        _verify(csr)
    assert info.value.code == "csr.key_algorithm"


def test_debug_guest_refused_by_policy(signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    gp = GuestPolicy(abi_minor=51, abi_major=1, smt=True, migrate_ma=False, debug=True, single_socket=False)
    csr = snp_csr(signer, key, policy=gp)
    with pytest.raises(PolicyViolation) as info:
        verify_enarx_csr(csr, options=options_for(signer), policy=AttestationPolicy())
    assert info.value.code == "snp.policy.debug"
    allowed = verify_enarx_csr(csr, options=options_for(signer), policy=AttestationPolicy(snp=SnpPolicy(allow_debug=True)))
    assert allowed.verdict.debug is True


def test_revoked_ask_through_a_test_crl(signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    csr = snp_csr(signer, key, crls=[signer.crl(revoked=[signer.ask])])
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_csr(csr, options=options_for(signer), policy=AttestationPolicy())
    assert info.value.code == "snp.cert.revoked"


def test_expired_vcek(key: ec.EllipticCurvePrivateKey) -> None:
    end = datetime(2023, 6, 30, tzinfo=UTC)
    short = TestOnlyAmdSignerBuilder(not_after=end).build()
    csr = snp_csr(short, key, crls=[])
    verify_enarx_csr(csr, options=options_for(short, end), policy=AttestationPolicy())
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_csr(csr, options=options_for(short, end + SECOND), policy=AttestationPolicy())
    assert info.value.code == "snp.cert.expired"


def test_wrong_root(signer: TestOnlyAmdSigner, key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(VerificationFailed) as info:
        verify_enarx_csr(snp_csr(signer, key), options=VerifyOptions(now=NOW, collateral=Collateral(certificates=(signer.ask,))), policy=AttestationPolicy())
    assert info.value.code == "snp.chain.untrusted"


def test_nil_needs_policy(key: ec.EllipticCurvePrivateKey) -> None:
    csr = make_csr(key, [(OID_EVIDENCE_KVM, b"", False)])
    with pytest.raises(PolicyViolation) as info:
        verify_enarx_csr(csr, options=VerifyOptions(now=NOW), policy=AttestationPolicy())
    assert info.value.code == "nil.not_allowed"
    verdict = verify_enarx_csr(csr, options=VerifyOptions(now=NOW), policy=AttestationPolicy(allow_nil=True)).verdict
    assert (verdict.tee, verdict.measurement, verdict.report_data, verdict.debug) == ("nil", b"", b"", True)


def test_nil_with_content_is_malformed(key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(MalformedEvidence) as info:
        verify_enarx_csr(make_csr(key, [(OID_EVIDENCE_KVM, b"\x00", False)]), options=VerifyOptions(now=NOW), policy=AttestationPolicy(allow_nil=True))
    assert info.value.code == "nil.malformed"


def test_no_evidence(key: ec.EllipticCurvePrivateKey) -> None:
    parsed = parse_enarx_csr(make_csr(key, []))
    assert parsed.evidence_oid is None
    with pytest.raises(MalformedEvidence) as info:
        verify_enarx_csr(parsed, options=VerifyOptions(now=NOW), policy=AttestationPolicy(allow_nil=True))
    assert info.value.code == "csr.no_evidence"


@pytest.mark.parametrize(
    ("extensions", "code"),
    [
        ([(OID_EVIDENCE_KVM, b"", True)], "csr.evidence.critical"),
        ([(OID_EVIDENCE_KVM, b"", False), (OID_EVIDENCE_SNP, b"", False)], "csr.evidence.multiple"),
        ([("1.3.6.1.4.1.58270.1.99", b"", False)], "csr.evidence.unknown"),
    ],
)
def test_evidence_extension_shape(key: ec.EllipticCurvePrivateKey, extensions: list[tuple[str, bytes, bool]], code: str) -> None:
    with pytest.raises(MalformedEvidence) as info:
        parse_enarx_csr(make_csr(key, extensions))
    assert info.value.code == code


@pytest.mark.parametrize("data", [b"", b"garbage", b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", b"\x30\x03\x02\x01\x00"])
def test_garbage_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedEvidence) as info:
        parse_enarx_csr(data)
    assert info.value.code == "csr.malformed"


def test_evidence_round_trips() -> None:
    evidence = x509.load_der_x509_csr(vector(MILAN_CSR)).extensions[0].value.value  # type: ignore[attr-defined]
    decoded = decode_snp_evidence(evidence)
    assert [url for url, _ in decoded.crls] == ["https://kdsintf.amd.com/vcek/v1/Genoa/crl", "https://kdsintf.amd.com/vcek/v1/Milan/crl"]
    assert len(decoded.report) == 1184
    assert encode_snp_evidence(decoded.report, decoded.vcek, decoded.crls) == evidence


def test_evidence_with_trailing_bytes_or_short_report(signer: TestOnlyAmdSigner) -> None:
    good = encode_snp_evidence(signer.signed_report(), signer.vcek)
    with pytest.raises(MalformedEvidence) as info:
        decode_snp_evidence(good + b"\x00")
    assert info.value.code == "snp.evidence.malformed"
    with pytest.raises(MalformedEvidence) as info:
        decode_snp_evidence(encode_snp_evidence(b"\x00" * 10, signer.vcek))
    assert info.value.code == "snp.report.size"


# --- SGX through the DCAP module ---------------------------------------------------------------

SGX_CSRS = ["sgx/steward/icelake.signed.tcb.crl.multi.xeon.csr", "sgx/steward/icelake.signed.tcb.crl.single.i5.csr"]


@pytest.mark.parametrize("path", SGX_CSRS)
def test_sgx_csrs_dispatch_to_dcap(path: str) -> None:
    parsed = parse_enarx_csr(vector(path))
    assert parsed.evidence_oid == OID_EVIDENCE_SGX
    verdict = verify_enarx_csr(parsed, options=VerifyOptions(now=CSR_NOW), policy=steward_policy()).verdict
    assert verdict.tee == "sgx"
    assert verdict.measurement.hex() == "4046ea255f0455131a024e1265ac1ebd131fdbd1240f1712a00381f6f04e8c15"
    assert verdict.report_data[:32] == hashlib.sha256(parsed.spki_der).digest()


def test_sgx_csr_with_a_p384_key_is_a_downgrade_refusal() -> None:
    evidence = x509.load_der_x509_csr(vector(SGX_CSRS[0])).extensions[0].value.value  # type: ignore[attr-defined]
    csr = make_csr(ec.generate_private_key(ec.SECP384R1()), [(OID_EVIDENCE_SGX, evidence, False)])
    with pytest.raises(VerificationFailed) as info:
        _verify(csr)
    assert info.value.code in ("csr.key_algorithm", "sgx.unsupported")


# --- fuzzing -----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_arbitrary_csr_bytes(data: bytes) -> None:
    try:
        parse_enarx_csr(data)
    except AttestationError:
        return


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_csr(data: st.DataObject) -> None:
    raw = bytearray(vector(MILAN_CSR))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(raw) - 8, len(raw)))
    try:
        _verify(bytes(raw[:cut]))
    except AttestationError:
        return


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_arbitrary_evidence(data: bytes) -> None:
    try:
        decode_snp_evidence(data)
    except AttestationError:
        return


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_evidence(data: st.DataObject) -> None:
    evidence = bytearray(x509.load_der_x509_csr(vector(MILAN_CSR)).extensions[0].value.value)  # type: ignore[attr-defined]
    for _ in range(data.draw(st.integers(1, 4))):
        evidence[data.draw(st.integers(0, len(evidence) - 1))] = data.draw(st.integers(0, 255))
    try:
        decoded = decode_snp_evidence(bytes(evidence))
    except AttestationError:
        return
    assert len(decoded.report) == 1184


def test_tdx_evidence_dispatches_to_dcap() -> None:
    oid = dcap.OID_EVIDENCE_TDX
    evidence = dcap.encode_enarx_tdx_evidence(vector("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat"))
    csr = make_csr(ec.generate_private_key(ec.SECP256R1()), [(oid, evidence, False)])
    parsed = parse_enarx_csr(csr)
    assert parsed.evidence_oid == oid
    with pytest.raises(AttestationError) as info:
        verify_enarx_csr(parsed, options=VerifyOptions(now=datetime(2023, 7, 1, 1, tzinfo=UTC)), policy=AttestationPolicy())
    # Refused by the DCAP verifier (no collateral, or not bound to this key), not by the CSR layer.
    assert not info.value.code.startswith("csr."), info.value.code


def test_spki_is_taken_as_sent_even_when_not_the_canonical_encoding() -> None:
    """A CSR whose key is sent as a compressed point: the SPKI the evidence must bind is the
    one in the CSR, byte for byte, not cryptography's (uncompressed) re-encoding of the key."""
    from pyasn1.codec.der import decoder, encoder
    from pyasn1.type import univ
    from pyasn1_modules import rfc2986

    key = ec.generate_private_key(ec.SECP256R1())
    canonical = make_csr(key, [])
    request, _ = decoder.decode(canonical, asn1Spec=rfc2986.CertificationRequest())
    point = key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    info = request["certificationRequestInfo"]
    info["subjectPKInfo"]["subjectPublicKey"] = univ.BitString.fromOctetString(point)
    tbs = encoder.encode(info)
    request["signature"] = univ.BitString.fromOctetString(key.sign(tbs, ec.ECDSA(hashes.SHA256())))
    compressed = encoder.encode(request)

    parsed = parse_enarx_csr(compressed)
    sent = encoder.encode(info["subjectPKInfo"])
    assert parsed.spki_der == sent
    assert parsed.spki_der != key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert parse_enarx_csr(vector(MILAN_CSR)).spki_der in vector(MILAN_CSR)


def test_a_vcek_and_crls_seen_before_are_not_parsed_again() -> None:
    evidence = x509.load_der_x509_csr(vector(MILAN_CSR)).extensions[0].value.value  # type: ignore[attr-defined]
    first, second = decode_snp_evidence(evidence), decode_snp_evidence(bytes(evidence))
    assert first.vcek is second.vcek
    assert all(a is b for (_, a), (_, b) in zip(first.crls, second.crls, strict=True))
    # A CRL that does not parse is refused every time (failures are not remembered).
    decoded = decode_snp_evidence(evidence)
    broken = [(url, b"\x30\x03\x02\x01\x00") for url, _ in decoded.crls]  # DER, but not a CRL
    for _ in range(2):
        with pytest.raises(MalformedEvidence) as info:
            decode_snp_evidence(_reencode(decoded, broken))
        assert info.value.code == "snp.evidence.malformed"


def _reencode(decoded: object, crls: list[tuple[str, bytes]]) -> bytes:
    from enarx.attestation import der

    report, vcek = decoded.report, decoded.vcek  # type: ignore[attr-defined]
    entries = [der.encode_sequence([b"\x0c" + der.encode_length(len(url)) + url.encode(), crl]) for url, crl in crls]
    crts = der.encode_sequence([vcek.public_bytes(Encoding.DER), der.encode_sequence([der.encode_sequence(entries)])])
    return der.encode_sequence([crts, b"\x04" + der.encode_length(len(report)) + report])
