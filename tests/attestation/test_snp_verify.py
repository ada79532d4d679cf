"""SEV-SNP verification: real vectors inside and outside their windows, synthetic negatives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

from enarx.attestation.errors import AttestationError, MalformedEvidence, VerificationFailed
from enarx.attestation.options import Collateral, VerifyOptions
from enarx.attestation.snp.abi import SIGNED_FIELDS, TcbParts
from enarx.attestation.snp.certs import (
    build_chain,
    fingerprint,
    load_der_certificate,
    load_pem_certificates,
    vendor_arks,
    vendor_intermediates,
    verify_chain,
)
from enarx.attestation.snp.keyinfo import amd_key_info
from enarx.attestation.snp.verify import verify_report
from enarx.attestation.testing import TestOnlyAmdSignerBuilder
from tests.vectors import vector

SECOND = timedelta(seconds=1)


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (report, VCEK, suggested now, VCEK not_valid_before, VCEK not_valid_after) from MANIFEST.md.
VECTORS = [
    pytest.param(
        "snp/go-sev-guest/attestation.bin", "snp/go-sev-guest/vcek.testcer",
        # window 2022-09-24T00:55:28Z .. 2029-09-24T00:55:28Z (VCEK); go-sev-guest tests at 01:00:00Z
        _t("2022-09-24T01:00:00"), _t("2022-09-24T00:55:28"), _t("2029-09-24T00:55:28"),
        id="go-sev-guest",
    ),
    pytest.param(
        "snp/virtee-sev/report_milan.bin", "snp/virtee-sev/vcek_milan.der",
        # window 2023-04-03T19:23:43Z .. 2030-04-03T19:23:43Z
        _t("2024-01-01T00:00:00"), _t("2023-04-03T19:23:43"), _t("2030-04-03T19:23:43"),
        id="virtee",
    ),
    pytest.param(
        "snp/trustee/test-report.bin", "snp/trustee/test-vcek.der",
        # window 2023-01-24T17:58:26Z .. 2030-01-24T17:58:26Z
        _t("2024-01-01T00:00:00"), _t("2023-01-24T17:58:26"), _t("2030-01-24T17:58:26"),
        id="trustee",
    ),
]


def _vcek(path: str) -> x509.Certificate:
    return load_der_certificate(vector(path))


@pytest.mark.parametrize(("report", "vcek", "now", "start", "end"), VECTORS)
def test_vector_verifies_inside_its_window(report: str, vcek: str, now: datetime, start: datetime, end: datetime) -> None:
    for at in (now, start, end):
        verified = verify_report(vector(report), options=VerifyOptions(now=at), certificates=[_vcek(vcek)])
        assert verified.product == "Milan"
        assert verified.key.kind == "VCEK"
        assert verified.tcb("reported") == verified.key.tcb
        assert [c.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value for c in verified.chain] == ["SEV-VCEK", "SEV-Milan", "ARK-Milan"]
        assert verified.crl_checked is False


@pytest.mark.parametrize(("report", "vcek", "now", "start", "end"), VECTORS)
def test_vector_fails_one_second_outside_its_window(report: str, vcek: str, now: datetime, start: datetime, end: datetime) -> None:
    del now
    with pytest.raises(VerificationFailed) as before:
        verify_report(vector(report), options=VerifyOptions(now=start - SECOND), certificates=[_vcek(vcek)])
    assert before.value.code == "snp.cert.not_yet_valid"
    assert before.value.field == "SEV-VCEK"
    with pytest.raises(VerificationFailed) as after:
        verify_report(vector(report), options=VerifyOptions(now=end + SECOND), certificates=[_vcek(vcek)])
    assert after.value.code == "snp.cert.expired"


def test_vcek_from_host_collateral_is_used() -> None:
    options = VerifyOptions(now=_t("2024-01-01T00:00:00"), collateral=Collateral(certificates=(_vcek("snp/virtee-sev/vcek_milan.der"),)))
    assert verify_report(vector("snp/virtee-sev/report_milan.bin"), options=options).product == "Milan"


def test_the_right_vcek_is_picked_among_several() -> None:
    certs = [_vcek("snp/go-sev-guest/vcek.testcer"), _vcek("snp/virtee-sev/vcek_milan.der")]
    verified = verify_report(vector("snp/virtee-sev/report_milan.bin"), options=VerifyOptions(now=_t("2024-01-01T00:00:00")), certificates=certs)
    assert verified.chain[0] == certs[1]


def test_missing_vcek() -> None:
    with pytest.raises(VerificationFailed) as info:
        verify_report(vector("snp/virtee-sev/report_milan.bin"), options=VerifyOptions(now=_t("2024-01-01T00:00:00")))
    assert info.value.code == "snp.vcek.missing"


def test_another_chips_vcek_is_refused() -> None:
    with pytest.raises(VerificationFailed) as info:
        verify_report(vector("snp/virtee-sev/report_milan.bin"), options=VerifyOptions(now=_t("2024-01-01T00:00:00")), certificates=[_vcek("snp/trustee/test-vcek.der")])
    assert info.value.code == "snp.signature"


# A flipped bit fails the signature, or an earlier check on the field it landed in.
REFUSALS = {"snp.signature", "snp.signature_algo", "snp.signing_key", "snp.vlek.missing"}


@pytest.mark.parametrize(("name", "start", "end"), [(n, s, e) for n, s, e in SIGNED_FIELDS])
def test_flipped_bit_in_every_signed_field_is_refused(name: str, start: int, end: int) -> None:
    raw = vector("snp/virtee-sev/report_milan.bin")
    options = VerifyOptions(now=_t("2024-01-01T00:00:00"))
    vcek = _vcek("snp/virtee-sev/vcek_milan.der")
    for offset in {start, (start + end) // 2, end - 1}:
        for bit in (0, 7):
            mutated = bytearray(raw)
            mutated[offset] ^= 1 << bit
            with pytest.raises(AttestationError) as info:
                verify_report(bytes(mutated), options=options, certificates=[vcek])
            # Either the parser refuses the field or the signature no longer verifies.
            assert isinstance(info.value, MalformedEvidence) or info.value.code in REFUSALS, (name, offset, bit, info.value.code)


@pytest.mark.parametrize("offset", [0x2A0, 0x2A0 + 71, 0x2E8, 0x2E8 + 71])
def test_flipped_bit_in_signature_is_refused(offset: int) -> None:
    mutated = bytearray(vector("snp/virtee-sev/report_milan.bin"))
    mutated[offset] ^= 0x01
    with pytest.raises(VerificationFailed) as info:
        verify_report(bytes(mutated), options=VerifyOptions(now=_t("2024-01-01T00:00:00")), certificates=[_vcek("snp/virtee-sev/vcek_milan.der")])
    assert info.value.code == "snp.signature"


def test_wrong_root_is_refused() -> None:
    fake = TestOnlyAmdSignerBuilder().build()
    options = fake.options(_t("2024-01-01T00:00:00"))  # trusts only the fake ARK
    with pytest.raises(VerificationFailed) as info:
        verify_report(vector("snp/virtee-sev/report_milan.bin"), options=options, certificates=[_vcek("snp/virtee-sev/vcek_milan.der")])
    assert info.value.code == "snp.chain.untrusted"


def test_fake_chain_is_not_trusted_by_default() -> None:
    fake = TestOnlyAmdSignerBuilder().build()
    with pytest.raises(VerificationFailed) as info:
        verify_report(fake.signed_report(), options=VerifyOptions(now=_t("2024-01-01T00:00:00")), certificates=[fake.vcek, fake.ask])
    assert info.value.code == "snp.chain.untrusted"


# --- pinned AMD roots and intermediates --------------------------------------------------------

PINNED = {
    "Milan": "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
    "Genoa": "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
    "Turin": "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
}


def test_pinned_arks_match_manifest_fingerprints_and_vector_files() -> None:
    assert {fingerprint(a).hex() for a in vendor_arks()} == set(PINNED.values())
    for product in PINNED:
        (ark,) = load_pem_certificates(vector(f"roots/ark-{product.lower()}.pem"))  # Turin: CRLF
        assert fingerprint(ark).hex() == PINNED[product]


@pytest.mark.parametrize(
    "path",
    [
        "snp/go-sev-guest/ask_ark_milan.pem", "snp/go-sev-guest/ask_ark_genoa.pem", "snp/go-sev-guest/ask_ark_turin_vcek.pem",
        "snp/go-sev-guest/ask_ark_milan_vlek.pem", "snp/go-sev-guest/ask_ark_genoa_vlek.pem", "snp/go-sev-guest/ask_ark_turin_vlek.pem",
    ],
)
def test_every_vcek_and_vlek_intermediate_chains_to_its_pinned_ark(path: str) -> None:
    ask, ark = load_pem_certificates(vector(path))
    verify_chain([ask, ark], vendor_arks(), _t("2024-01-01T00:00:00"))
    with pytest.raises(VerificationFailed) as info:
        verify_chain([ask, ark], [a for a in vendor_arks() if a != ark], _t("2024-01-01T00:00:00"))
    assert info.value.code == "snp.chain.untrusted"


def test_both_genoa_asks_chain_to_the_pinned_ark() -> None:
    from pyasn1.codec.der import decoder, encoder

    path, _ = decoder.decode(vector("enarx-csr/genoa.pkipath"))
    old_ark, old_ask = (load_der_certificate(encoder.encode(c)) for c in path)
    new_ask, _ = load_pem_certificates(vector("snp/go-sev-guest/ask_ark_genoa.pem"))
    assert (old_ask.serial_number, new_ask.serial_number) == (131073, 131074)
    for ask in (old_ask, new_ask):
        verify_chain([ask, old_ark], vendor_arks(), _t("2024-01-01T00:00:00"))
        assert ask in vendor_intermediates()


def test_revoked_genoa_ask_is_refused_by_the_crl_enarx_ships() -> None:
    from pyasn1.codec.der import decoder, encoder

    from enarx.attestation.csr import decode_snp_evidence
    from enarx.attestation.snp.certs import check_revocation

    path, _ = decoder.decode(vector("enarx-csr/genoa.pkipath"))
    ark, old_ask = (load_der_certificate(encoder.encode(c)) for c in path)
    csr = x509.load_der_x509_csr(vector("enarx-csr/milan.signed.crl.csr"))
    crls = [crl for _, crl in decode_snp_evidence(csr.extensions[0].value.value).crls]  # type: ignore[attr-defined]
    with pytest.raises(VerificationFailed) as info:
        check_revocation([old_ask, ark], crls, _t("2023-02-01T00:00:00"))
    assert info.value.code == "snp.cert.revoked"
    new_ask, _ = load_pem_certificates(vector("snp/go-sev-guest/ask_ark_genoa.pem"))
    assert check_revocation([new_ask, ark], crls, _t("2023-02-01T00:00:00")) is True


@pytest.mark.parametrize(("path", "encoding"), [("snp/trustee/test-vcek-invalid-legacy.der", "raw"), ("snp/trustee/test-vcek-invalid-new.der", "octet string")])
def test_hwid_in_both_encodings_and_bad_vcek_signatures(path: str, encoding: str) -> None:
    cert = load_der_certificate(vector(path))
    info = amd_key_info(cert)
    assert info.hwid == bytes(range(64)), encoding
    with pytest.raises(VerificationFailed) as failed:
        build_chain(cert, vendor_intermediates(), vendor_arks(), _t("2024-01-01T00:00:00"))
    assert failed.value.code == "snp.chain.signature"


def test_vcek_extensions_of_real_certificate() -> None:
    info = amd_key_info(_vcek("snp/go-sev-guest/vcek.testcer"))
    assert (info.kind, info.product, info.product_name) == ("VCEK", "Milan", "Milan-B0")
    assert info.tcb == TcbParts(bootloader=2, tee=0, snp=5, microcode=68)
    assert info.hwid is not None and info.hwid.hex().startswith("3ac3fe21e13fb099")


# --- synthetic chains: products, VLEK, TCB and hwID binding, expiry, revocation ----------------

NOW = _t("2024-01-01T00:00:00")


@pytest.mark.parametrize("product", ["Milan", "Genoa", "Turin"])
@pytest.mark.parametrize("kind", ["VCEK", "VLEK"])
def test_synthetic_chains_verify(product: str, kind: str) -> None:
    signer = TestOnlyAmdSignerBuilder(product=product, kind=kind).build()  # type: ignore[arg-type]
    verified = verify_report(signer.signed_report(), options=signer.options(NOW), certificates=[signer.vcek, signer.ask], crls=[signer.crl()])
    assert (verified.product, verified.key.kind, verified.crl_checked) == (product, kind, True)
    if product == "Turin":
        assert verified.key.tcb.fmc == 1 and verified.tcb("reported").fmc == 1


def test_reported_tcb_must_match_the_vcek() -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    other = TcbParts(bootloader=4, tee=0, snp=8, microcode=115).to_u64("Milan")
    raw = signer.sign(signer.report(reported_tcb=other))
    with pytest.raises(VerificationFailed) as info:
        verify_report(raw, options=signer.options(NOW), certificates=[signer.vcek, signer.ask])
    assert info.value.code == "snp.vcek.tcb"
    assert info.value.field == "reported_tcb"


def test_current_tcb_newer_than_reported_is_fine() -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    newer = TcbParts(bootloader=3, tee=0, snp=8, microcode=206).to_u64("Milan")
    raw = signer.sign(signer.report(current_tcb=newer))
    assert verify_report(raw, options=signer.options(NOW), certificates=[signer.vcek, signer.ask]).tcb("current").microcode == 206


def test_chip_id_must_match_hwid_unless_masked() -> None:
    from enarx.attestation.snp.abi import SignerInfo

    signer = TestOnlyAmdSignerBuilder(hwid_octet_string=True).build()
    raw = signer.sign(signer.report(chip_id=b"\x01" * 64))
    with pytest.raises(VerificationFailed) as info:
        verify_report(raw, options=signer.options(NOW), certificates=[signer.vcek, signer.ask])
    assert info.value.code == "snp.vcek.hwid"
    masked = signer.sign(signer.report(chip_id=bytes(64), signer_info=SignerInfo(author_key_en=False, mask_chip_key=True, signing_key=0)))
    assert verify_report(masked, options=signer.options(NOW), certificates=[signer.vcek, signer.ask]).report.signer_info.mask_chip_key


def test_cpuid_product_must_match_the_key() -> None:
    signer = TestOnlyAmdSignerBuilder(product="Milan").build()
    raw = signer.sign(signer.report(version=3, cpuid_fam_id=0x19, cpuid_mod_id=0x11))  # Genoa CPUID
    with pytest.raises(VerificationFailed) as info:
        verify_report(raw, options=signer.options(NOW), certificates=[signer.vcek, signer.ask])
    assert info.value.code == "snp.product"


def test_vlek_report_needs_a_vlek() -> None:
    vcek_signer = TestOnlyAmdSignerBuilder().build()
    raw = vcek_signer.sign(vcek_signer.report(signer_info=__import__("enarx.attestation.snp.abi", fromlist=["SignerInfo"]).SignerInfo(False, False, 1)))
    with pytest.raises(VerificationFailed) as info:
        verify_report(raw, options=vcek_signer.options(NOW), certificates=[vcek_signer.vcek, vcek_signer.ask])
    assert info.value.code == "snp.vlek.missing"


def test_unsigned_report_is_refused() -> None:
    from enarx.attestation.snp.abi import SignerInfo

    signer = TestOnlyAmdSignerBuilder().build()
    raw = signer.sign(signer.report(signer_info=SignerInfo(False, False, 7)))
    with pytest.raises(VerificationFailed) as info:
        verify_report(raw, options=signer.options(NOW), certificates=[signer.vcek, signer.ask])
    assert info.value.code == "snp.signing_key"


def test_signature_algorithm_must_be_ecdsa_p384() -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    raw = signer.sign(signer.report(signature_algo=2))
    with pytest.raises(VerificationFailed) as info:
        verify_report(raw, options=signer.options(NOW), certificates=[signer.vcek, signer.ask])
    assert info.value.code == "snp.signature_algo"


def test_expired_ask_is_refused_one_second_after_and_accepted_at_expiry() -> None:
    ask_end = _t("2023-06-30T00:00:00")
    signer = TestOnlyAmdSignerBuilder(ask_not_after=ask_end).build()
    raw = signer.signed_report()
    verify_report(raw, options=signer.options(ask_end), certificates=[signer.vcek, signer.ask])
    with pytest.raises(VerificationFailed) as info:
        verify_report(raw, options=signer.options(ask_end + SECOND), certificates=[signer.vcek, signer.ask])
    assert info.value.code == "snp.cert.expired"
    assert "SEV-Milan" in info.value.message


def test_expired_ark_is_refused() -> None:
    ark_end = _t("2023-06-30T00:00:00")
    signer = TestOnlyAmdSignerBuilder(ark_not_after=ark_end).build()
    with pytest.raises(VerificationFailed) as info:
        verify_report(signer.signed_report(), options=signer.options(ark_end + SECOND), certificates=[signer.vcek, signer.ask])
    assert info.value.code == "snp.cert.expired"
    assert info.value.field == "ARK-Milan"


def test_revoked_ask_and_vcek_are_refused() -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    raw = signer.signed_report()
    for crl in (signer.crl(revoked=[signer.ask]), signer.crl(revoked=[signer.vcek], signer="ask")):
        with pytest.raises(VerificationFailed) as info:
            verify_report(raw, options=signer.options(NOW), certificates=[signer.vcek, signer.ask], crls=[crl])
        assert info.value.code == "snp.cert.revoked"
    # The same CRL through the host collateral.
    options = signer.options(NOW, collateral=Collateral(crls=(signer.crl(revoked=[signer.ask]),)))
    with pytest.raises(VerificationFailed) as info:
        verify_report(raw, options=options, certificates=[signer.vcek, signer.ask])
    assert info.value.code == "snp.cert.revoked"


def test_crl_window_edges() -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    last, nxt = _t("2023-01-01T00:00:00"), _t("2023-02-01T00:00:00")
    crl = signer.crl(last_update=last, next_update=nxt)
    raw = signer.signed_report()
    for at in (last, nxt):
        assert verify_report(raw, options=signer.options(at), certificates=[signer.vcek, signer.ask], crls=[crl]).crl_checked
    for at, code in ((last - SECOND, "snp.crl.not_yet_valid"), (nxt + SECOND, "snp.crl.expired")):
        with pytest.raises(VerificationFailed) as info:
            verify_report(raw, options=signer.options(at), certificates=[signer.vcek, signer.ask], crls=[crl])
        assert info.value.code == code


def test_crl_with_a_bad_signature_fails_closed() -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    impostor = TestOnlyAmdSignerBuilder(key_label="impostor").build()  # same names, other keys
    with pytest.raises(VerificationFailed) as info:
        verify_report(signer.signed_report(), options=signer.options(NOW), certificates=[signer.vcek, signer.ask], crls=[impostor.crl()])
    assert info.value.code == "snp.crl.signature"


def test_crl_of_another_issuer_is_ignored() -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    other = TestOnlyAmdSignerBuilder(product="Genoa").build()
    verified = verify_report(signer.signed_report(), options=signer.options(NOW), certificates=[signer.vcek, signer.ask], crls=[other.crl(revoked=[signer.ask])])
    assert verified.crl_checked is False


def test_vcek_not_signed_by_the_ask() -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    impostor = TestOnlyAmdSignerBuilder(key_label="impostor").build()
    with pytest.raises(VerificationFailed) as info:
        verify_report(impostor.signed_report(), options=signer.options(NOW), certificates=[impostor.vcek, signer.ask])
    assert info.value.code in ("snp.chain.signature", "snp.chain.untrusted")


def test_der_certificate_garbage_is_malformed() -> None:
    with pytest.raises(MalformedEvidence) as info:
        load_der_certificate(b"\x30\x03\x02\x01\x00")
    assert info.value.code == "snp.cert.malformed"
    assert isinstance(_vcek("snp/virtee-sev/vcek_milan.der").public_bytes(Encoding.DER), bytes)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated_certificates_and_crls_give_typed_errors(data: st.DataObject) -> None:
    signer = _FUZZ_SIGNER
    which = data.draw(st.sampled_from(["vcek", "ask", "crl"]))
    ders = {"vcek": signer.vcek.public_bytes(Encoding.DER), "ask": signer.ask.public_bytes(Encoding.DER), "crl": _FUZZ_CRL.public_bytes(Encoding.DER)}
    blob = bytearray(ders[which])
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    try:
        if which == "crl":
            crls = [x509.load_der_x509_crl(bytes(blob))]
            certs = [signer.vcek, signer.ask]
        else:
            crls = [_FUZZ_CRL]
            mutated = load_der_certificate(bytes(blob))
            certs = [mutated, signer.ask] if which == "vcek" else [signer.vcek, mutated]
    except (ValueError, x509.InvalidVersion, MalformedEvidence):
        return  # not loadable at all: the parsers' own refusal
    try:
        verify_report(_FUZZ_REPORT, options=signer.options(NOW), certificates=certs, crls=crls)
    except AttestationError:
        return


_FUZZ_SIGNER = TestOnlyAmdSignerBuilder(key_label="fuzz").build()
_FUZZ_REPORT = _FUZZ_SIGNER.signed_report()
_FUZZ_CRL = _FUZZ_SIGNER.crl()


def test_an_endorsement_is_verified_once_and_reused_only_inside_its_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chain and CRL work for a VCEK is reused (a fleet sends the same VCEKs again and
    again), but only for the same certificates and CRLs and inside every window involved."""
    from enarx.attestation.snp import verify as verify_module

    built: list[object] = []
    real_build_chain = verify_module.build_chain

    def counting_build_chain(*args: object, **kwargs: object) -> tuple[x509.Certificate, ...]:
        built.append(args[0])
        return real_build_chain(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(verify_module, "build_chain", counting_build_chain)
    signer = TestOnlyAmdSignerBuilder(key_label="reuse").build()
    last, nxt = _t("2023-01-01T00:00:00"), _t("2023-02-01T00:00:00")
    crl = signer.crl(last_update=last, next_update=nxt)
    certs = [signer.vcek, signer.ask]
    for at in (last, _t("2023-01-15T00:00:00"), nxt):  # the same objects, as the evidence decoder hands out
        assert verify_report(signer.signed_report(), options=signer.options(at), certificates=certs, crls=[crl]).crl_checked
    assert len(built) == 1
    # Equal certificates that are other objects are not assumed to be the same: verified in full.
    fresh = [load_der_certificate(c.public_bytes(Encoding.DER)) for c in certs]
    assert verify_report(signer.signed_report(), options=signer.options(last), certificates=fresh, crls=[crl]).crl_checked
    assert len(built) == 2
    # Outside the CRL's window: verified afresh, and refused.
    with pytest.raises(VerificationFailed) as info:
        verify_report(signer.signed_report(), options=signer.options(nxt + SECOND), certificates=certs, crls=[crl])
    assert info.value.code == "snp.crl.expired" and len(built) == 3
    # Another CRL (this one revokes the VCEK): another key, verified afresh, and refused.
    with pytest.raises(VerificationFailed) as info:
        verify_report(signer.signed_report(), options=signer.options(last), certificates=certs,
                      crls=[signer.crl(revoked=[signer.vcek], signer="ask", last_update=last, next_update=nxt)])
    assert info.value.code == "snp.cert.revoked" and len(built) == 4
    # The report signature is never reused: a report the VCEK did not sign is refused at once.
    forged = bytearray(signer.signed_report())
    forged[0x50] ^= 1
    with pytest.raises(VerificationFailed) as info:
        verify_report(bytes(forged), options=signer.options(last), certificates=certs, crls=[crl])
    assert info.value.code == "snp.signature" and len(built) == 4
