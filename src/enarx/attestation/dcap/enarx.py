"""Enarx Keep evidence for Intel TEEs, as carried in a CSR extension.

**SGX** (Enarx's OID ``1.3.6.1.4.1.58270.1.2``, format fixed by Enarx and Steward)::

    SgxEvidence ::= SEQUENCE {
        quote  OCTET STRING,                          -- raw DCAP quote v3
        crl    CrlList,
        tcb    SEQUENCE {
            crts   SEQUENCE OF Certificate,           -- TCB signing chain as served, leaf first
            report OCTET STRING } }                   -- TCB info JSON exactly as served
    CrlList      ::= SEQUENCE { crls SEQUENCE OF CrlListEntry }
    CrlListEntry ::= SEQUENCE { url UTF8String, crl CertificateList }

The ``url`` is informational only: CRLs are matched by issuer and signature.

**TDX** (Enarx never defined one; ours, under ``2.25`` from a UUID minted once, see
:data:`OID_EVIDENCE_TDX`)::

    TdxEvidence ::= SEQUENCE {
        version     INTEGER (1),
        quote       OCTET STRING,                     -- raw TDX quote v4/v5 (configfs-tsm outblob)
        collateral  TdxCollateral OPTIONAL }
    TdxCollateral ::= SEQUENCE {
        crls            SEQUENCE OF CertificateList,  -- root CA CRL, PCK CA CRL
        tcbSigningChain SEQUENCE OF Certificate,      -- leaf first
        tcbInfo         [0] IMPLICIT OCTET STRING OPTIONAL,   -- PCS JSON exactly as served
        qeIdentity      [1] IMPLICIT OCTET STRING OPTIONAL }  -- PCS JSON exactly as served

Both bind the Keep's key the Enarx way: REPORTDATA starts with SHA-256 of the CSR's
SubjectPublicKeyInfo DER, and the key's algorithm must be the PCK's (EC P-256), as Steward
requires, so that no algorithm can be negotiated down.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from enarx.attestation import der
from enarx.attestation.dcap.abi import MAX_QUOTE_SIZE, Quote
from enarx.attestation.dcap.validate import DcapPolicy
from enarx.attestation.dcap.verdicts import sgx_verdict, tdx_verdict
from enarx.attestation.dcap.verify import (
    EvidenceCollateral,
    VerifiedQuote,
    load_certificates,
    load_crl,
    verify_quote,
)
from enarx.attestation.errors import AttestationError, MalformedEvidence, VerificationFailed
from enarx.attestation.oids import OID_EVIDENCE_SGX as OID_EVIDENCE_SGX  # re-exported
from enarx.attestation.oids import OID_EVIDENCE_TDX as OID_EVIDENCE_TDX  # re-exported
from enarx.attestation.options import VerifyOptions
from enarx.attestation.parsed import parsed
from enarx.attestation.verdict import Verdict

TDX_EVIDENCE_VERSION: Final = 1

#: Evidence is a quote plus a few KB of collateral; refuse anything far larger before decoding.
MAX_EVIDENCE_SIZE: Final = 256 * 1024


# --- ASN.1 -------------------------------------------------------------------------------
#
#   SgxEvidence ::= SEQUENCE { quote OCTET STRING, crl CrlList, tcb TcbPackage }   (Enarx's)
#   TdxEvidence ::= SEQUENCE { version INTEGER, quote OCTET STRING, collateral TdxCollateral OPTIONAL }
#   TdxCollateral ::= SEQUENCE { crls SEQUENCE OF CertificateList,
#                                tcbSigningChain SEQUENCE OF Certificate,
#                                tcbInfo [0] IMPLICIT OCTET STRING OPTIONAL,
#                                qeIdentity [1] IMPLICIT OCTET STRING OPTIONAL }
#
# CrlList and TcbPackage as in :mod:`enarx.attestation.der`, which reads and writes them all.

_TAG_TCB_INFO = 0x80  # [0] IMPLICIT OCTET STRING
_TAG_QE_IDENTITY = 0x81  # [1] IMPLICIT OCTET STRING


def _check_size(evidence: bytes, tee: str) -> None:
    if len(evidence) > MAX_EVIDENCE_SIZE:
        raise MalformedEvidence(
            f"{tee}.evidence.size",
            f"{tee.upper()} evidence is {len(evidence)} bytes, expected at most {MAX_EVIDENCE_SIZE}",
            field="evidence",
            expected=f"<= {MAX_EVIDENCE_SIZE} bytes",
            got=len(evidence),
        )


def _certificates(items: Any, field: str, tee: str) -> tuple[x509.Certificate, ...]:
    out = []
    for i, item in enumerate(items):

        def load(der: bytes, where: str = f"{field}[{i}]") -> x509.Certificate:
            [cert] = load_certificates(_der_loader(der), where, f"{tee}.evidence.certificate")
            return cert

        out.append(parsed(bytes(item), x509.Certificate, load))
    return tuple(out)


def _der_loader(der: bytes) -> Callable[[], list[x509.Certificate]]:
    return lambda: [x509.load_der_x509_certificate(der)]


def _crl(der: bytes, field: str, tee: str) -> x509.CertificateRevocationList:
    return parsed(der, x509.CertificateRevocationList, lambda d: load_crl(d, field, f"{tee}.evidence.crl"))


def _quote(raw: bytes, tee: str) -> Quote:
    if len(raw) > MAX_QUOTE_SIZE:
        raise MalformedEvidence(
            f"{tee}.evidence.quote", f"quote is {len(raw)} bytes", field="quote", expected=f"<= {MAX_QUOTE_SIZE}", got=len(raw)
        )
    return Quote.from_bytes(raw)


# --- decoding ------------------------------------------------------------------------------


def decode_enarx_sgx_evidence(evidence: bytes) -> tuple[Quote, EvidenceCollateral]:
    """Decode Enarx ``SgxEvidence`` into the quote and the collateral it carries.

    Read with the strict DER reader (as the SNP evidence is): the shape is fixed, and pyasn1
    cost a seventh of an SGX issuance.
    """
    _check_size(evidence, "sgx")
    try:
        outer = der.Reader(bytes(evidence))
        body = outer.sequence()
        outer.done()
        raw_quote = body.primitive(der.OCTET_STRING)
        crl_ders = [crl for _url, crl in der.read_crl_list(body)]  # the URLs: checked, not used
        cert_ders, tcb_info = der.read_tcb_package(body)
        body.done()
    except (ValueError, UnicodeError) as exc:  # DerError is a ValueError
        raise MalformedEvidence(
            "sgx.evidence.der", f"SGX evidence is not DER SgxEvidence: {exc}", field="evidence", expected="DER",
            got=f"{len(evidence)} bytes",
        ) from None
    crls = tuple(_crl(d, f"crl.crls[{i}]", "sgx") for i, d in enumerate(crl_ders))
    chain = _certificates(cert_ders, "tcb.crts", "sgx")
    quote = _quote(raw_quote, "sgx")
    return quote, EvidenceCollateral(crls=crls, tcb_info=tcb_info, tcb_info_issuer_chain=chain)


def decode_enarx_tdx_evidence(evidence: bytes) -> tuple[Quote, EvidenceCollateral]:
    """Decode our ``TdxEvidence`` into the quote and the collateral it carries (with the strict
    DER reader, as SGX's)."""
    _check_size(evidence, "tdx")
    crl_ders: list[bytes] = []
    cert_ders: list[bytes] = []
    tcb_info = qe_identity = None
    try:
        outer = der.Reader(bytes(evidence))
        body = outer.sequence()
        outer.done()
        version = body.integer()
        raw_quote = body.primitive(der.OCTET_STRING)
        has_collateral = not body.at_end()
        if has_collateral:
            collateral_reader = body.sequence()
            crl_ders = collateral_reader.sequence().elements()
            cert_ders = collateral_reader.sequence().elements()
            if collateral_reader.peek_tag() == _TAG_TCB_INFO:
                tcb_info = collateral_reader.primitive(_TAG_TCB_INFO)
            if collateral_reader.peek_tag() == _TAG_QE_IDENTITY:
                qe_identity = collateral_reader.primitive(_TAG_QE_IDENTITY)
            collateral_reader.done()
        body.done()
    except ValueError as exc:  # DerError is a ValueError
        raise MalformedEvidence(
            "tdx.evidence.der", f"TDX evidence is not DER TdxEvidence: {exc}", field="evidence", expected="DER",
            got=f"{len(evidence)} bytes",
        ) from None
    if version != TDX_EVIDENCE_VERSION:
        raise MalformedEvidence(
            "tdx.evidence.version",
            f"TdxEvidence.version is {version}, expected {TDX_EVIDENCE_VERSION}",
            field="version",
            expected=TDX_EVIDENCE_VERSION,
            got=version,
        )
    quote = _quote(raw_quote, "tdx")
    collateral = EvidenceCollateral()
    if has_collateral:
        collateral = EvidenceCollateral(
            crls=tuple(_crl(crl, f"collateral.crls[{i}]", "tdx") for i, crl in enumerate(crl_ders)),
            tcb_info=tcb_info,
            tcb_info_issuer_chain=_certificates(cert_ders, "collateral.tcbSigningChain", "tdx"),
            qe_identity=qe_identity,
        )
    return quote, collateral


def encode_enarx_tdx_evidence(
    quote: bytes,
    *,
    crls: Sequence[x509.CertificateRevocationList] = (),
    tcb_signing_chain: Sequence[x509.Certificate] = (),
    tcb_info: bytes | None = None,
    qe_identity: bytes | None = None,
    include_collateral: bool = True,
) -> bytes:
    """DER ``TdxEvidence`` for a quote and the collateral a Keep has (``tcb_info`` etc. verbatim)."""
    fields = [der.encode_integer(TDX_EVIDENCE_VERSION), der.encode_primitive(der.OCTET_STRING, quote)]
    if include_collateral:
        collateral = [
            der.encode_sequence(crl.public_bytes(serialization.Encoding.DER) for crl in crls),
            der.encode_sequence(cert.public_bytes(serialization.Encoding.DER) for cert in tcb_signing_chain),
        ]
        if tcb_info is not None:
            collateral.append(der.encode_primitive(_TAG_TCB_INFO, tcb_info))
        if qe_identity is not None:
            collateral.append(der.encode_primitive(_TAG_QE_IDENTITY, qe_identity))
        fields.append(der.encode_sequence(collateral))
    return der.encode_sequence(fields)


def encode_enarx_sgx_evidence(
    quote: bytes,
    *,
    crls: Sequence[tuple[str, x509.CertificateRevocationList]],
    tcb_signing_chain: Sequence[x509.Certificate],
    tcb_info: bytes,
) -> bytes:
    """DER ``SgxEvidence`` as an Enarx Keep produces it (used by tests and simulated Keeps)."""
    return der.encode_sequence([
        der.encode_primitive(der.OCTET_STRING, quote),
        der.encode_crl_list((url, crl.public_bytes(serialization.Encoding.DER)) for url, crl in crls),
        der.encode_tcb_package((c.public_bytes(serialization.Encoding.DER) for c in tcb_signing_chain), tcb_info),
    ])


# --- verification --------------------------------------------------------------------------


def _binding_errors(verified: VerifiedQuote, report_data: bytes, spki_der: bytes) -> list[AttestationError]:
    """The Keep key binding; returned (not raised) so policy violations are listed with it."""
    try:
        key = serialization.load_der_public_key(spki_der)
    except (ValueError, TypeError) as exc:
        raise MalformedEvidence(
            "binding.spki", f"the CSR SubjectPublicKeyInfo does not decode: {exc}", field="spki"
        ) from None
    pck_key = verified.pck.public_key()
    errors: list[AttestationError] = []
    same_alg = (
        isinstance(key, ec.EllipticCurvePublicKey)
        and isinstance(pck_key, ec.EllipticCurvePublicKey)
        and key.curve.name == pck_key.curve.name
    )
    if not same_alg:
        got = f"EC {key.curve.name}" if isinstance(key, ec.EllipticCurvePublicKey) else type(key).__name__
        errors.append(
            VerificationFailed(
                "binding.key_algorithm",
                f"Keep key algorithm is {got}, expected the PCK's EC secp256r1",
                field="spki.algorithm",
                expected="EC secp256r1",
                got=got,
            )
        )
    digest = hashlib.sha256(spki_der).digest()
    if report_data[: len(digest)] != digest:
        errors.append(
            VerificationFailed(
                "binding.report_data",
                f"report_data[0:32] is {report_data[:32].hex()}, expected SHA-256(CSR SPKI) {digest.hex()}",
                field="report_data",
                expected=digest,
                got=report_data[:32],
            )
        )
    return errors


def _raise_binding(errors: list[AttestationError]) -> None:
    # A broken binding means the evidence is not about this key: refuse before any policy.
    if errors:
        raise errors[0]


def verify_enarx_sgx_evidence(evidence: bytes, *, spki_der: bytes, options: VerifyOptions, policy: DcapPolicy) -> Verdict:
    """Verify Enarx SGX evidence (the ``1.3.6.1.4.1.58270.1.2`` extension value) for a CSR key."""
    quote, carried = decode_enarx_sgx_evidence(evidence)
    verified = verify_quote(quote, tee="sgx", options=options, policy=policy, evidence=carried)
    _raise_binding(_binding_errors(verified, quote.sgx_body.report_data, spki_der))
    return sgx_verdict(verified, policy)


def verify_enarx_tdx_evidence(evidence: bytes, *, spki_der: bytes, options: VerifyOptions, policy: DcapPolicy) -> Verdict:
    """Verify our TDX evidence (the :data:`OID_EVIDENCE_TDX` extension value) for a CSR key."""
    quote, carried = decode_enarx_tdx_evidence(evidence)
    verified = verify_quote(quote, tee="tdx", options=options, policy=policy, evidence=carried)
    _raise_binding(_binding_errors(verified, quote.td_body.report_data, spki_der))
    return tdx_verdict(verified, policy)
