"""End-to-end DCAP verification: real vectors inside and one second outside their windows,
flipped bits in every signed region, wrong roots, expired and revoked certificates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from enarx.attestation.dcap import DcapPolicy, verify_sgx_quote, verify_tdx_quote
from enarx.attestation.dcap.enarx import decode_enarx_sgx_evidence, verify_enarx_sgx_evidence
from enarx.attestation.dcap.testing import TestOnlyIntelPki, test_only_sgx_body, test_only_td_body
from enarx.attestation.dcap.verify import INTEL_SGX_ROOT_CA, INTEL_SGX_ROOT_CA_SHA256
from enarx.attestation.errors import (
    AttestationError,
    MalformedEvidence,
    PolicyViolation,
    VerificationFailed,
)
from enarx.attestation.options import Collateral, VerifyOptions
from tests.attestation.dcap_cases import (
    GO_TDX,
    GO_TDX_NOW,
    I5_CSR,
    OCCLUM,
    SECOND,
    SPR_E4,
    STEWARD_NOW,
    T_END,
    T_NOW,
    TRUSTEE_4,
    TRUSTEE_6,
    V5_SAMPLE,
    XEON_CSR,
    chain_2025,
    csr_parts,
    fake_options,
    fake_pki,
    go_tdx_collateral,
    steward_policy,
)
from tests.vectors import vector

DEBUG_OK = DcapPolicy(allow_debug=True)


def _code(exc_type: type[AttestationError], fn: object, *args: object, **kwargs: object) -> AttestationError:
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    return info.value


def test_pinned_root_matches_the_vector_file() -> None:
    import hashlib

    der = vector("roots/intel-sgx-root-ca.der")
    assert hashlib.sha256(der).hexdigest() == INTEL_SGX_ROOT_CA_SHA256
    assert x509.load_der_x509_certificate(der) == INTEL_SGX_ROOT_CA


# --- Steward SGX CSRs ----------------------------------------------------------------------

# Xeon: every item this verifier uses (the processor CRL's issuer is not in the chain, so it is
# not used): tcbInfo 2023-01-26T11:33:44Z .. 2023-02-25T11:33:44Z, platform CRL
# 2023-01-25T06:00:49Z .. 2023-02-24T06:00:49Z, root CRL .. 2023-04-19, TCB Signing .. 2025-05-21.
XEON_START = datetime(2023, 1, 26, 11, 33, 44, tzinfo=UTC)
XEON_END = datetime(2023, 2, 24, 6, 0, 49, tzinfo=UTC)
# i5: tcbInfo from 2023-01-25T18:31:04Z; processor CRL until 2023-02-17T18:46:52Z.
I5_START = datetime(2023, 1, 25, 18, 31, 4, tzinfo=UTC)
I5_END = datetime(2023, 2, 17, 18, 46, 52, tzinfo=UTC)


@pytest.mark.parametrize(
    ("path", "start", "end", "advisories"),
    [
        (XEON_CSR, XEON_START, XEON_END, ("INTEL-SA-00586", "INTEL-SA-00614", "INTEL-SA-00615", "INTEL-SA-00657")),
        (I5_CSR, I5_START, I5_END, ("INTEL-SA-00381", "INTEL-SA-00389", "INTEL-SA-00477", "INTEL-SA-00289",
                                    "INTEL-SA-00614", "INTEL-SA-00617", "INTEL-SA-00615", "INTEL-SA-00657")),
    ],
)  # fmt: skip
def test_steward_csr_window(path: str, start: datetime, end: datetime, advisories: tuple[str, ...]) -> None:
    parts = csr_parts(path)
    for now in (start, STEWARD_NOW, end):
        verdict = verify_enarx_sgx_evidence(
            parts.evidence, spki_der=parts.spki_der, options=VerifyOptions(now=now), policy=steward_policy()
        )
        assert verdict.tee == "sgx" and not verdict.debug
        assert verdict.tcb_status == "OutOfDate"
        assert verdict.advisories == advisories
        assert verdict.measurement.hex() == "4046ea255f0455131a024e1265ac1ebd131fdbd1240f1712a00381f6f04e8c15"
        assert verdict.claims["mrsigner"] == "7a49a07df0f8e90a6e1d9a63e3c696d9c844f0e3f8739b21daa640f99facc48a"
        assert (verdict.claims["isv_prod_id"], verdict.claims["isv_svn"]) == (0, 0)
        assert verdict.claims["qe_identity_checked"] is False
    early = _code(VerificationFailed, verify_enarx_sgx_evidence, parts.evidence, spki_der=parts.spki_der,
                  options=VerifyOptions(now=start - SECOND), policy=steward_policy())  # fmt: skip
    assert (early.code, early.field) == ("dcap.collateral.not_yet_valid", "tcb_info.issueDate")
    late = _code(VerificationFailed, verify_enarx_sgx_evidence, parts.evidence, spki_der=parts.spki_der,
                 options=VerifyOptions(now=end + SECOND), policy=steward_policy())  # fmt: skip
    assert late.code == "dcap.crl.expired"


def test_steward_csr_claims_and_pck_facts() -> None:
    parts = csr_parts(XEON_CSR)
    verdict = verify_enarx_sgx_evidence(
        parts.evidence, spki_der=parts.spki_der, options=VerifyOptions(now=STEWARD_NOW), policy=steward_policy()
    )
    assert verdict.claims["fmspc"] == "00606a000000"
    assert verdict.claims["pce_svn"] == 11
    assert verdict.claims["cpu_svn"] == "04040303ffff00000000000000000000"
    assert verdict.claims["tcb_date"] == "2021-11-10T00:00:00+00:00"
    assert verdict.report_data[32:] == bytes(32)


def test_steward_csr_needs_qe_identity_by_default() -> None:
    parts = csr_parts(XEON_CSR)
    err = _code(VerificationFailed, verify_enarx_sgx_evidence, parts.evidence, spki_der=parts.spki_der,
                options=VerifyOptions(now=STEWARD_NOW), policy=steward_policy(require_qe_identity=True))  # fmt: skip
    assert (err.code, err.field) == ("dcap.collateral.missing", "collateral.qe_identity")


def test_steward_csr_refused_by_default_policy_lists_every_violation() -> None:
    parts = csr_parts(I5_CSR)
    err = _code(PolicyViolation, verify_enarx_sgx_evidence, parts.evidence, spki_der=parts.spki_der,
                options=VerifyOptions(now=STEWARD_NOW), policy=DcapPolicy(require_qe_identity=False))  # fmt: skip
    assert [v.code for v in err.violations] == ["sgx.tcb.status", "sgx.tcb.advisory"]  # type: ignore[attr-defined]


def test_steward_csr_wrong_root() -> None:
    parts = csr_parts(XEON_CSR)
    other = fake_pki()
    options = VerifyOptions(now=STEWARD_NOW, trust_vendor_roots=False, extra_roots=(other.root,))
    err = _code(VerificationFailed, verify_enarx_sgx_evidence, parts.evidence, spki_der=parts.spki_der,
                options=options, policy=steward_policy())  # fmt: skip
    assert err.code == "dcap.pck.chain"
    no_roots = VerifyOptions(now=STEWARD_NOW, trust_vendor_roots=False)
    err = _code(VerificationFailed, verify_enarx_sgx_evidence, parts.evidence, spki_der=parts.spki_der,
                options=no_roots, policy=steward_policy())  # fmt: skip
    assert err.code == "dcap.pck.chain"


# --- occlum SGX quote: signatures verify; no collateral window exists ----------------------


def test_occlum_quote_signatures_then_expired_collateral() -> None:
    """Its PCK (from 2023-04-26) postdates the only SGX tcbInfo of its FMSPC (Xeon CSR, to 2023-02-25)."""
    _, carried = decode_enarx_sgx_evidence(csr_parts(XEON_CSR).evidence)
    collateral = Collateral(
        crls=carried.crls, tcb_info=carried.tcb_info, tcb_info_issuer_chain=carried.tcb_info_issuer_chain
    )
    now = datetime(2023, 5, 1, tzinfo=UTC)  # PCK 2023-04-26T15:35:16Z .. 2030
    options = VerifyOptions(now=now, collateral=collateral)
    policy = DcapPolicy(require_qe_identity=False, allow_debug=True)
    # Steps 1-5 pass (the PCK chain, QE report, attestation key and quote signature); step 6 refuses.
    err = _code(VerificationFailed, verify_sgx_quote, vector(OCCLUM), options=options, policy=policy)
    assert (err.code, err.field) == ("dcap.collateral.expired", "tcb_info.nextUpdate")
    pck_start = datetime(2023, 4, 26, 15, 35, 16, tzinfo=UTC)
    err = _code(VerificationFailed, verify_sgx_quote, vector(OCCLUM),
                options=replace(options, now=pck_start - SECOND), policy=policy)  # fmt: skip
    assert (err.code, err.field) == ("dcap.pck.not_yet_valid", "pck.not_valid_before")


# --- TDX: go-tdx-guest collateral (the only time-consistent TDX set) -----------------------

# tcbInfo 2023-06-18T08:42:58Z .. 2023-07-18; QE identity .. 2023-07-08T07:24:59Z; PCK CRL
# .. 2023-07-08T07:27:52Z; root CRL .. 2024-04-02; TCB Signing .. 2025-05-21.
TDX_START = datetime(2023, 6, 18, 8, 42, 58, tzinfo=UTC)
TDX_END = datetime(2023, 7, 8, 7, 24, 59, tzinfo=UTC)


def _tdx_options(now: datetime = GO_TDX_NOW, **overrides: object) -> VerifyOptions:
    return VerifyOptions(now=now, collateral=go_tdx_collateral(**overrides))


def test_trustee_4_window_with_debug_allowed() -> None:
    raw = vector(TRUSTEE_4)
    for now in (TDX_START, GO_TDX_NOW, TDX_END):
        verdict = verify_tdx_quote(raw, options=_tdx_options(now), policy=DEBUG_OK)
        assert verdict.tee == "tdx" and verdict.debug
        assert verdict.tcb_status == "UpToDate" and verdict.advisories == ()
        assert verdict.claims["qe_tcb_status"] == "UpToDate"
        assert verdict.claims["qe_identity_checked"] is True
        assert verdict.measurement.hex().startswith("705ee9381b8633a9fbe532b52345e843")
        assert verdict.claims["td_attributes"] == "0100001000000000"
        assert verdict.claims["tee_tcb_svn"].startswith("03000500")  # type: ignore[union-attr]
        for key in ("rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "mrowner"):
            assert len(str(verdict.claims[key])) == 96
    err = _code(VerificationFailed, verify_tdx_quote, raw, options=_tdx_options(TDX_START - SECOND), policy=DEBUG_OK)
    assert (err.code, err.field) == ("dcap.collateral.not_yet_valid", "tcb_info.issueDate")
    err = _code(VerificationFailed, verify_tdx_quote, raw, options=_tdx_options(TDX_END + SECOND), policy=DEBUG_OK)
    assert (err.code, err.field) == ("dcap.collateral.expired", "qe_identity.nextUpdate")


def test_trustee_4_debug_td_refused_by_release_policy() -> None:
    err = _code(PolicyViolation, verify_tdx_quote, vector(TRUSTEE_4), options=_tdx_options(), policy=DcapPolicy())
    assert err.code == "tdx.debug"
    assert [v.code for v in err.violations] == ["tdx.debug"]  # type: ignore[attr-defined]


def test_trustee_4_measurement_not_allowed() -> None:
    policy = DcapPolicy(allow_debug=True, mrtd=frozenset({b"\x00" * 48}), rtmr0=frozenset({b"\x01" * 48}))
    err = _code(PolicyViolation, verify_tdx_quote, vector(TRUSTEE_4), options=_tdx_options(), policy=policy)
    assert [v.code for v in err.violations] == ["tdx.mrtd", "tdx.rtmr0"]  # type: ignore[attr-defined]
    assert err.field == "mrtd"


def test_spr_e4_no_matching_tcb_level() -> None:
    err = _code(VerificationFailed, verify_tdx_quote, vector(SPR_E4), options=_tdx_options(), policy=DEBUG_OK)
    assert (err.code, err.field) == ("tdx.tcb.no_level", "tcbInfo.tcbLevels")


def test_tdx_quote_is_not_an_sgx_quote() -> None:
    err = _code(MalformedEvidence, verify_sgx_quote, vector(TRUSTEE_4), options=_tdx_options(), policy=DEBUG_OK)
    assert err.code == "sgx.quote.tee_type"
    err = _code(MalformedEvidence, verify_tdx_quote, vector(OCCLUM), options=_tdx_options(), policy=DEBUG_OK)
    assert err.code == "tdx.quote.tee_type"


def test_missing_collateral_fails_closed() -> None:
    raw = vector(TRUSTEE_4)
    for field, overrides in (
        ("collateral.tcb_info", {"tcb_info": None}),
        ("collateral.tcb_info_issuer_chain", {"tcb_info_issuer_chain": ()}),
        ("collateral.qe_identity", {"qe_identity": None}),
    ):
        err = _code(VerificationFailed, verify_tdx_quote, raw, options=_tdx_options(**overrides), policy=DEBUG_OK)
        assert (err.code, err.field) == ("dcap.collateral.missing", field)
    err = _code(VerificationFailed, verify_tdx_quote, raw, options=_tdx_options(crls=()), policy=DEBUG_OK)
    assert err.code == "dcap.crl.missing"


def test_collateral_for_another_platform() -> None:
    options = _tdx_options(tcb_info=vector("tdx/trustee/tcbInfo.json"))
    # Signed by the same key, but issued 2025: refused for time before the FMSPC is compared.
    err = _code(VerificationFailed, verify_tdx_quote, vector(TRUSTEE_4), options=options, policy=DEBUG_OK)
    assert err.code == "dcap.collateral.not_yet_valid"


# --- Flipped bits in every signed region (trustee_4, all collateral valid) ---------------------

_SIG = 48 + 584 + 4  # start of signature data in a v4 quote
_QE = _SIG + 64 + 64 + 6  # QE report inside the type-6 certification data


@pytest.mark.parametrize(
    ("offset", "code"),
    [
        (30, "dcap.quote.signature"),  # header.user_data
        (48 + 136, "dcap.quote.signature"),  # body.mr_td
        (48 + 520, "dcap.quote.signature"),  # body.report_data
        (_SIG + 10, "dcap.quote.signature"),  # the quote signature itself
        (_SIG + 64 + 5, "dcap.qe.report_data"),  # attestation key (bound by the QE report data)
        (_QE + 64, "dcap.qe.signature"),  # QE report mr_enclave
        (_QE + 320, "dcap.qe.signature"),  # QE report report_data
        (_QE + 384 + 3, "dcap.qe.signature"),  # QE report signature
        (_QE + 384 + 64 + 2 + 7, "dcap.qe.report_data"),  # QE auth data
    ],
)
def test_flipped_bit_in_quote(offset: int, code: str) -> None:
    raw = bytearray(vector(TRUSTEE_4))
    raw[offset] ^= 0x01
    err = _code(AttestationError, verify_tdx_quote, bytes(raw), options=_tdx_options(), policy=DEBUG_OK)
    assert err.code == code


def test_flipped_bit_in_v5_signed_region() -> None:
    raw = bytearray(vector(V5_SAMPLE))
    raw[48 + 6 + 200] ^= 0x80  # inside the TD report 1.5 body
    options = VerifyOptions(now=datetime(2026, 2, 3, 1, tzinfo=UTC), collateral=Collateral())
    err = _code(AttestationError, verify_tdx_quote, bytes(raw), options=options, policy=DEBUG_OK)
    assert err.code == "dcap.quote.signature"
    # Unflipped, it gets past every signature to the first missing collateral.
    err = _code(AttestationError, verify_tdx_quote, vector(V5_SAMPLE), options=options, policy=DEBUG_OK)
    assert (err.code, err.field) == ("dcap.collateral.missing", "collateral.tcb_info")


def test_flipped_collateral_bodies() -> None:
    tcb = vector(GO_TDX + "sample_tcbInfo_response").replace(b'"pcesvn":11', b'"pcesvn":10', 1)
    err = _code(VerificationFailed, verify_tdx_quote, vector(TRUSTEE_4), options=_tdx_options(tcb_info=tcb), policy=DEBUG_OK)
    assert err.code == "dcap.tcb_info.signature"
    qe = vector(GO_TDX + "sample_qeIdentity_response").replace(b'"isvsvn":4', b'"isvsvn":3', 1)
    err = _code(VerificationFailed, verify_tdx_quote, vector(TRUSTEE_4), options=_tdx_options(qe_identity=qe), policy=DEBUG_OK)
    assert err.code == "dcap.qe_identity.signature"


def test_trailing_bytes_are_unsigned_and_ignored() -> None:
    raw = vector(TRUSTEE_4) + b"anything"
    verdict = verify_tdx_quote(raw, options=_tdx_options(), policy=DEBUG_OK)
    assert verdict.tcb_status == "UpToDate"


# --- The 2025 signing certificate caveat (MANIFEST): signature with the key, time in 2023 ------


def test_2025_collateral_with_the_2025_chain_then_no_crls() -> None:
    """trustee tdx_quote_6 with its 2025 collateral: everything verifies up to revocation."""
    now = datetime(2025, 11, 1, tzinfo=UTC)
    collateral = Collateral(
        tcb_info=vector("tdx/trustee/tcbInfo.json"),
        tcb_info_issuer_chain=chain_2025(),
        qe_identity=vector("tdx/trustee/enclaveIdentity.json"),
    )
    options = VerifyOptions(now=now, collateral=collateral)
    err = _code(VerificationFailed, verify_tdx_quote, vector(TRUSTEE_6), options=options, policy=DcapPolicy())
    assert err.code == "dcap.crl.missing"
    # The 2023 CRLs exist but are long expired: still refused.
    crls = tuple(x509.load_der_x509_crl(vector(GO_TDX + n)) for n in ("pckcrl", "rootcrl.der"))
    err = _code(VerificationFailed, verify_tdx_quote, vector(TRUSTEE_6),
                options=replace(options, collateral=replace(collateral, crls=crls)), policy=DcapPolicy())  # fmt: skip
    assert err.code == "dcap.crl.expired"
    # With the 2018 certificate (same key) the signing chain itself has expired.
    old_chain = tuple(x509.load_pem_x509_certificates(vector(GO_TDX + "tcb_info_issuer_chain.pem")))
    err = _code(VerificationFailed, verify_tdx_quote, vector(TRUSTEE_6),
                options=replace(options, collateral=replace(collateral, tcb_info_issuer_chain=old_chain)),
                policy=DcapPolicy())  # fmt: skip
    assert (err.code, err.field) == ("dcap.tcb_signing.expired", "tcb_signing.not_valid_after")


def test_tcb_signing_certificate_expiry_with_2023_collateral() -> None:
    """One second past the 2018 TCB Signing certificate's notAfter (2025-05-21T10:50:10Z)."""
    from enarx.attestation.dcap.verify import verify_chain

    chain = x509.load_pem_x509_certificates(vector(GO_TDX + "tcb_info_issuer_chain.pem"))
    end = datetime(2025, 5, 21, 10, 50, 10, tzinfo=UTC)
    verify_chain(chain, (INTEL_SGX_ROOT_CA,), end, code="dcap.tcb_signing", role="tcb_signing")
    err = _code(VerificationFailed, verify_chain, chain, (INTEL_SGX_ROOT_CA,), end + SECOND,
                code="dcap.tcb_signing", role="tcb_signing")  # fmt: skip
    assert err.code == "dcap.tcb_signing.expired"


# --- Synthetic negatives: test-only PKI --------------------------------------------------


def test_synthetic_sgx_and_tdx_verify() -> None:
    pki = fake_pki()
    sgx = verify_sgx_quote(pki.quote(test_only_sgx_body()), options=fake_options(pki, "sgx"), policy=DcapPolicy())
    assert (sgx.tcb_status, sgx.claims["qe_tcb_status"]) == ("UpToDate", "UpToDate")
    for version, body in ((4, test_only_td_body()), (5, test_only_td_body()), (5, test_only_td_body(v15=True))):
        tdx = verify_tdx_quote(pki.quote(body, version=version), options=fake_options(pki, "tdx"), policy=DcapPolicy())
        assert tdx.measurement == body.mr_td and tdx.claims["tdx_module_tcb_status"] == "UpToDate"


def test_test_only_chain_is_not_trusted_by_default() -> None:
    pki = fake_pki()
    options = replace(fake_options(pki, "sgx"), extra_roots=(), trust_vendor_roots=True)
    err = _code(VerificationFailed, verify_sgx_quote, pki.quote(test_only_sgx_body()), options=options, policy=DcapPolicy())
    assert err.code == "dcap.pck.chain"


def test_expired_pck() -> None:
    pck_end = T_NOW - timedelta(days=1)
    pki = TestOnlyIntelPki.create(not_before=T_NOW - timedelta(days=30), not_after=T_END, pck_not_after=pck_end)
    quote = pki.quote(test_only_sgx_body())
    verify_sgx_quote(quote, options=fake_options(pki, "sgx", now=pck_end), policy=DcapPolicy())
    err = _code(VerificationFailed, verify_sgx_quote, quote, options=fake_options(pki, "sgx", now=pck_end + SECOND),
                policy=DcapPolicy())  # fmt: skip
    assert (err.code, err.field) == ("dcap.pck.expired", "pck.not_valid_after")


def test_revoked_pck_via_test_crl() -> None:
    pki = fake_pki()
    crls = (pki.crl("root"), pki.crl("pck_ca", revoked=[pki.pck.serial_number]))
    err = _code(VerificationFailed, verify_sgx_quote, pki.quote(test_only_sgx_body()),
                options=fake_options(pki, "sgx", crls=crls), policy=DcapPolicy())  # fmt: skip
    assert err.code == "dcap.crl.revoked"


def test_revoked_tcb_signing_certificate() -> None:
    pki = fake_pki()
    crls = (pki.crl("root", revoked=[pki.tcb_signing.serial_number]), pki.crl("pck_ca"))
    err = _code(VerificationFailed, verify_tdx_quote, pki.quote(test_only_td_body()),
                options=fake_options(pki, "tdx", crls=crls), policy=DcapPolicy())  # fmt: skip
    assert err.code == "dcap.crl.revoked"


def test_collateral_from_an_untrusted_signer() -> None:
    pki = fake_pki()
    other = TestOnlyIntelPki.create(not_before=pki.not_before, not_after=pki.not_after)
    options = fake_options(pki, "sgx", tcb_info=other.tcb_info("sgx"), tcb_info_issuer_chain=other.tcb_signing_chain)
    err = _code(VerificationFailed, verify_sgx_quote, pki.quote(test_only_sgx_body()), options=options, policy=DcapPolicy())
    assert err.code == "dcap.tcb_signing.chain"
    # Right chain, document signed by another key.
    options = fake_options(pki, "sgx", tcb_info=other.tcb_info("sgx"))
    err = _code(VerificationFailed, verify_sgx_quote, pki.quote(test_only_sgx_body()), options=options, policy=DcapPolicy())
    assert err.code == "dcap.tcb_info.signature"


def test_qe_identity_mismatch() -> None:
    pki = fake_pki()
    # An SGX QE identity for a TDX quote: id and product id differ.
    options = fake_options(pki, "tdx", qe_identity=pki.qe_identity("sgx"))
    err = _code(VerificationFailed, verify_tdx_quote, pki.quote(test_only_td_body()), options=options, policy=DcapPolicy())
    assert (err.code, err.field) == ("dcap.qe.identity", "enclaveIdentity.id")


def test_debug_enclave_and_allow_lists() -> None:
    pki = fake_pki()
    quote = pki.quote(test_only_sgx_body(debug=True, isv_prod_id=3, isv_svn=1))
    options = fake_options(pki, "sgx")
    policy = DcapPolicy(
        mrenclave=frozenset({b"\x01" * 32}), mrsigner=frozenset({b"\x02" * 32}), isv_prod_id=4, min_isv_svn=2
    )
    err = _code(PolicyViolation, verify_sgx_quote, quote, options=options, policy=policy)
    assert [v.code for v in err.violations] == [  # type: ignore[attr-defined]
        "sgx.debug", "sgx.mrenclave", "sgx.mrsigner", "sgx.isv_prod_id", "sgx.isv_svn",
    ]  # fmt: skip
    ok = DcapPolicy(
        allow_debug=True, mrenclave=frozenset({b"\xaa" * 32}), mrsigner=frozenset({b"\xbb" * 32}), isv_prod_id=3, min_isv_svn=1
    )
    verdict = verify_sgx_quote(quote, options=options, policy=ok)
    assert verdict.debug and verdict.claims["isv_prod_id"] == 3


def test_options_collateral_and_unrelated_root_errors_are_typed() -> None:
    pki = fake_pki()
    with pytest.raises(ValueError):
        VerifyOptions(now=datetime(2024, 1, 1))  # naive time refused by the contract type
    err = _code(MalformedEvidence, verify_sgx_quote, b"\x03\x00", options=fake_options(pki, "sgx"), policy=DcapPolicy())
    assert err.code == "dcap.quote.truncated"



# --- The verified-CA cache never skips a leaf, a root choice or a time check -----------------


def test_ca_cache_still_verifies_the_leaf() -> None:
    from enarx.attestation.dcap.verify import verify_chain

    pki = fake_pki()
    chain = [pki.pck, pki.pck_ca, pki.root]
    assert verify_chain(chain, (pki.root,), T_NOW, code="dcap.pck", role="pck")[1] == pki.pck_ca  # cached now
    impostor = TestOnlyIntelPki.create(not_before=pki.not_before, not_after=pki.not_after)
    # Same CA certificates above the leaf, a leaf the CA never signed (same issuer name).
    forged = [impostor.pck, pki.pck_ca, pki.root]
    err = _code(VerificationFailed, verify_chain, forged, (pki.root,), T_NOW, code="dcap.pck", role="pck")
    assert err.code == "dcap.pck.chain"
    # Same chain, other anchors: not served from the cache.
    err = _code(VerificationFailed, verify_chain, chain, (impostor.root,), T_NOW, code="dcap.pck", role="pck")
    assert err.code == "dcap.pck.chain"
    # Past the CA's validity the cache is not consulted and the expiry is reported.
    err = _code(VerificationFailed, verify_chain, chain, (pki.root,), T_END + SECOND, code="dcap.pck", role="pck")
    assert err.code == "dcap.pck.expired"


def test_repeated_verifications_give_the_same_verdict() -> None:
    raw = vector(TRUSTEE_4)
    first = verify_tdx_quote(raw, options=_tdx_options(), policy=DEBUG_OK)
    again = verify_tdx_quote(raw, options=_tdx_options(), policy=DEBUG_OK)
    assert first == again
    flipped = bytearray(raw)
    flipped[_QE + 384 + 3] ^= 0x01  # cached chain, but the QE report signature is still checked
    err = _code(VerificationFailed, verify_tdx_quote, bytes(flipped), options=_tdx_options(), policy=DEBUG_OK)
    assert err.code == "dcap.qe.signature"


def test_cached_collateral_signer_still_checked_for_revocation_and_time() -> None:
    pki = fake_pki()
    quote = pki.quote(test_only_td_body())
    verify_tdx_quote(quote, options=fake_options(pki, "tdx"), policy=DcapPolicy())  # signer now cached
    crls = (pki.crl("root", revoked=[pki.tcb_signing.serial_number]), pki.crl("pck_ca"))
    err = _code(VerificationFailed, verify_tdx_quote, quote, options=fake_options(pki, "tdx", crls=crls), policy=DcapPolicy())
    assert err.code == "dcap.crl.revoked"
    err = _code(VerificationFailed, verify_tdx_quote, quote, options=fake_options(pki, "tdx", now=T_END + SECOND),
                policy=DcapPolicy())  # fmt: skip
    assert err.code == "dcap.pck.expired"


# --- Every quote vector: signatures verify across its PCK window, and not a second outside ---

_PCK_WINDOWS = {
    OCCLUM: ("sgx", "2023-04-26T15:35:16", "2030-04-26T15:35:16"),
    SPR_E4: ("tdx", "2022-09-20T13:20:31", "2029-09-20T13:20:31"),
    TRUSTEE_4: ("tdx", "2023-02-07T08:02:55", "2030-02-07T08:02:55"),
    V5_SAMPLE: ("tdx", "2026-01-27T14:36:27", "2033-01-27T14:36:27"),
    "tdx/trustee/tdx_quote_5.dat": ("tdx", "2024-03-18T08:43:51", "2031-03-18T08:43:51"),
    TRUSTEE_6: ("tdx", "2025-04-08T09:58:52", "2032-04-08T09:58:52"),
}


@pytest.mark.parametrize("path", sorted(_PCK_WINDOWS))
def test_quote_signatures_across_the_pck_window(path: str) -> None:
    """Steps 1-5 (chain, QE report, attestation key, quote signature) pass at both ends of the
    PCK's validity, so the first refusal is the missing TCB info; one second outside, the PCK."""
    tee, start_s, end_s = _PCK_WINDOWS[path]
    start, end = (datetime.fromisoformat(t).replace(tzinfo=UTC) for t in (start_s, end_s))
    verify = verify_sgx_quote if tee == "sgx" else verify_tdx_quote
    raw = vector(path)
    for now in (start, end):
        err = _code(VerificationFailed, verify, raw, options=VerifyOptions(now=now), policy=DEBUG_OK)
        assert (err.code, err.field) == ("dcap.collateral.missing", "collateral.tcb_info")
    err = _code(VerificationFailed, verify, raw, options=VerifyOptions(now=start - SECOND), policy=DEBUG_OK)
    assert (err.code, err.field) == ("dcap.pck.not_yet_valid", "pck.not_valid_before")
    err = _code(VerificationFailed, verify, raw, options=VerifyOptions(now=end + SECOND), policy=DEBUG_OK)
    assert (err.code, err.field) == ("dcap.pck.expired", "pck.not_valid_after")


def test_spr_e4_window_edges() -> None:
    """Same collateral window as trustee_4; inside it the answer is Intel's "no TCB level"."""
    raw = vector(SPR_E4)
    for now in (TDX_START, TDX_END):
        err = _code(VerificationFailed, verify_tdx_quote, raw, options=_tdx_options(now), policy=DEBUG_OK)
        assert err.code == "tdx.tcb.no_level"
    err = _code(VerificationFailed, verify_tdx_quote, raw, options=_tdx_options(TDX_START - SECOND), policy=DEBUG_OK)
    assert err.code == "dcap.collateral.not_yet_valid"
    err = _code(VerificationFailed, verify_tdx_quote, raw, options=_tdx_options(TDX_END + SECOND), policy=DEBUG_OK)
    assert err.code == "dcap.collateral.expired"


def test_sgx_bodies_in_v4_and_v5_quotes() -> None:
    pki = fake_pki()
    for version in (4, 5):
        quote = pki.quote(test_only_sgx_body(isv_svn=version), version=version)
        verdict = verify_sgx_quote(quote, options=fake_options(pki, "sgx"), policy=DcapPolicy())
        assert (verdict.claims["quote_version"], verdict.claims["isv_svn"]) == (version, version)


def test_certification_data_other_than_a_pck_chain() -> None:
    raw = bytearray(vector(OCCLUM))
    offset = 48 + 384 + 4 + 64 + 64 + 384 + 64 + 2 + 32  # v3: certification data type
    assert raw[offset : offset + 2] == b"\x05\x00"
    raw[offset] = 3  # PPID encrypted with RSA-3072: needs a PCK fetched from Intel, never here
    err = _code(MalformedEvidence, verify_sgx_quote, bytes(raw), options=VerifyOptions(now=STEWARD_NOW), policy=DEBUG_OK)
    assert (err.code, err.expected, err.got) == ("dcap.quote.cert_data_type", 5, 3)


def test_collateral_signed_by_a_pck_key_is_refused() -> None:
    """A PCK chains to the Intel root too; its key must not be able to sign TCB info."""
    import json

    from enarx.attestation.dcap.testing import test_only_raw_sign

    pki = fake_pki()
    genuine = json.loads(pki.tcb_info("sgx"))
    body = json.dumps(genuine["tcbInfo"], separators=(",", ":")).encode()
    forged = b'{"tcbInfo":' + body + b',"signature":"' + test_only_raw_sign(pki.pck_key, body).hex().encode() + b'"}'
    options = fake_options(pki, "sgx", tcb_info=forged, tcb_info_issuer_chain=(pki.pck, pki.pck_ca, pki.root))
    err = _code(VerificationFailed, verify_sgx_quote, pki.quote(test_only_sgx_body()), options=options, policy=DcapPolicy())
    assert (err.code, err.field) == ("dcap.tcb_signing.chain", "tcb_signing")
    options = fake_options(pki, "sgx", tcb_info_issuer_chain=(pki.pck_ca, pki.root))
    err = _code(VerificationFailed, verify_sgx_quote, pki.quote(test_only_sgx_body()), options=options, policy=DcapPolicy())
    assert err.code == "dcap.tcb_signing.chain"
