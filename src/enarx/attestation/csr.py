"""Enarx CSR evidence: a PKCS#10 request whose extensionRequest carries TEE evidence.

A Keep generates a key, asks the TEE for evidence whose report data starts with a hash of the
key's SubjectPublicKeyInfo, and puts that evidence in its CSR under one of Enarx's OIDs
(wire-compatible with Enarx and Steward, see ../shared/reference/steward.md §A3):

- ``1.3.6.1.4.1.58270.1.1`` KVM / nil: empty, no TEE; accepted only when the policy allows nil;
- ``1.3.6.1.4.1.58270.1.2`` SGX: ``SgxEvidence`` DER, verified by :mod:`enarx.attestation.dcap`;
- ``1.3.6.1.4.1.58270.1.3`` SNP: ``Evidence ::= SEQUENCE { crts SEQUENCE { vcek Certificate,
  crl CrlList }, report OCTET STRING }``, verified here with :mod:`enarx.attestation.snp`.

The procedure of :func:`verify_enarx_csr`:

1. parse the CSR (PEM or DER) and check its self-signature with its own key (code
   ``csr.signature``): the evidence below is only worth something for the key that signed;
2. find exactly one evidence extension, non-critical as Enarx sends it;
3. the CSR key's algorithm must be the one Enarx uses with that TEE and equal to the
   endorsement key's (P-384 for SNP like the VCEK, P-256 for SGX like the PCK): no algorithm
   negotiation, so no downgrade to a weaker key (Steward's rule);
4. verify the evidence against the vendor chain at ``options.now``;
5. the binding: report data starts with SHA-384(SPKI DER) on SNP (SHA-256 on SGX), else
   ``binding.report_data`` - evidence replayed from another Keep is refused here;
6. the policy (every violation collected).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from enarx.attestation import der
from enarx.attestation.errors import (
    AttestationError,
    MalformedEvidence,
    PolicyViolation,
    VerificationFailed,
)
from enarx.attestation.oids import (
    OID_EVIDENCE_KVM,
    OID_EVIDENCE_SGX,
    OID_EVIDENCE_SNP,
    OID_EVIDENCE_TDX,
)
from enarx.attestation.options import VerifyOptions
from enarx.attestation.parsed import parsed
from enarx.attestation.verdict import Verdict

if TYPE_CHECKING:
    from enarx.attestation.policy import AttestationPolicy

_ENARX_ARC: Final = "1.3.6.1.4.1.58270.1."

#: An Enarx SNP evidence blob is a VCEK, two CRLs and a report (about 4.5 KiB); anything far
#: larger is not Enarx evidence and is refused before decoding.
MAX_EVIDENCE_SIZE: Final = 1 << 20
MAX_CRLS: Final = 16


@dataclass(frozen=True)
class EvidenceCsr:
    """A parsed CSR whose self-signature verified, with its evidence extension (if any)."""

    csr: x509.CertificateSigningRequest
    der: bytes
    spki_der: bytes  # the SubjectPublicKeyInfo exactly as in the CSR: what the binding hashes
    evidence_oid: str | None
    evidence: bytes


@dataclass(frozen=True)
class VerifiedCsr:
    csr: EvidenceCsr
    verdict: Verdict


def _evidence_oids() -> dict[str, str]:
    return {OID_EVIDENCE_KVM: "nil", OID_EVIDENCE_SGX: "sgx", OID_EVIDENCE_SNP: "snp", OID_EVIDENCE_TDX: "tdx"}


def _dcap_attr(name: str) -> Any:
    try:
        from enarx.attestation import dcap
    except ImportError:  # pragma: no cover - the DCAP package is part of this distribution
        return None
    return getattr(dcap, name, None)


def parse_enarx_csr(data: bytes) -> EvidenceCsr:
    """Parse a PEM or DER CSR, check its signature and pick out its evidence extension.

    Raises :class:`MalformedEvidence` (``csr.malformed``, ``csr.evidence.*``) for bytes that
    are not such a CSR and :class:`VerificationFailed` (``csr.signature``) when the CSR is not
    signed by its own key.
    """
    data = bytes(data)
    # 1. Parse, PEM or DER, and keep the exact SPKI bytes (a re-encoding could differ).
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            csr = x509.load_pem_x509_csr(data)
        else:
            csr = x509.load_der_x509_csr(data)
        csr_der = csr.public_bytes(Encoding.DER)
        spki_der = _spki_der(csr_der)
        extensions = csr.extensions
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise MalformedEvidence("csr.malformed", f"not a PKCS#10 certificate request: {exc}", field="csr") from exc
    # 1b. The self-signature.
    try:
        valid = csr.is_signature_valid
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise VerificationFailed("csr.signature", f"CSR signature cannot be checked: {exc}", field="signature") from exc
    if not valid:
        raise VerificationFailed("csr.signature", "CSR signature does not verify with the CSR's own public key", field="signature")
    # 2. At most one evidence extension, non-critical.
    found = [ext for ext in extensions if ext.oid.dotted_string in _evidence_oids() or ext.oid.dotted_string.startswith(_ENARX_ARC)]
    if len(found) > 1:
        raise MalformedEvidence(
            "csr.evidence.multiple", f"CSR carries {len(found)} evidence extensions, expected one",
            field="extensionRequest", expected=1, got=[e.oid.dotted_string for e in found],
        )
    if not found:
        return EvidenceCsr(csr=csr, der=csr_der, spki_der=spki_der, evidence_oid=None, evidence=b"")
    ext = found[0]
    oid = ext.oid.dotted_string
    if oid not in _evidence_oids():
        raise MalformedEvidence("csr.evidence.unknown", f"unknown Enarx evidence OID {oid}", field="extensionRequest", got=oid)
    if ext.critical:
        raise MalformedEvidence("csr.evidence.critical", f"evidence extension {oid} is critical; Enarx sends it non-critical", field=oid, expected=False, got=True)
    value = ext.value
    evidence = value.value if isinstance(value, x509.UnrecognizedExtension) else b""
    return EvidenceCsr(csr=csr, der=csr_der, spki_der=spki_der, evidence_oid=oid, evidence=bytes(evidence))


def _spki_der(csr_der: bytes) -> bytes:
    """The SubjectPublicKeyInfo exactly as the CSR carries it (a re-encoding could differ):
    the third element of the CertificationRequestInfo, read with the strict DER reader."""
    request = der.Reader(csr_der).sequence()
    info = request.sequence()
    info.any()  # version
    info.any()  # subject
    return info.any()


def verify_enarx_csr(data: bytes | EvidenceCsr, *, options: VerifyOptions, policy: AttestationPolicy) -> VerifiedCsr:
    """Verify an Enarx CSR and its evidence at ``options.now`` against ``policy``."""
    parsed = data if isinstance(data, EvidenceCsr) else parse_enarx_csr(data)
    oid = parsed.evidence_oid
    if oid is None:
        raise MalformedEvidence("csr.no_evidence", "CSR carries no attestation evidence extension", field="extensionRequest", expected=sorted(_evidence_oids()))
    tee = _evidence_oids()[oid]
    if tee == "nil":
        verdict = _verify_nil(parsed, policy)
    elif tee == "snp":
        verdict = verify_enarx_snp_evidence(parsed.evidence, spki_der=parsed.spki_der, public_key=parsed.csr.public_key(), options=options, policy=policy)
    else:
        verdict = _verify_dcap(tee, parsed, options, policy)
    return VerifiedCsr(csr=parsed, verdict=verdict)


def _verify_nil(parsed: EvidenceCsr, policy: AttestationPolicy) -> Verdict:
    if parsed.evidence:
        raise MalformedEvidence("nil.malformed", f"KVM/nil evidence must be empty, got {len(parsed.evidence)} bytes", field=OID_EVIDENCE_KVM, expected=0, got=len(parsed.evidence))
    if not policy.allow_nil:
        raise PolicyViolation([AttestationError("nil.not_allowed", "CSR has no TEE evidence (KVM/nil) and the policy does not allow nil", field="tee", expected="a TEE", got="nil")])
    return Verdict(tee="nil", measurement=b"", report_data=b"", debug=True)


def _verify_dcap(tee: str, parsed: EvidenceCsr, options: VerifyOptions, policy: AttestationPolicy) -> Verdict:
    verify = _dcap_attr(f"verify_enarx_{tee}_evidence")
    if verify is None:
        raise VerificationFailed(f"{tee}.unsupported", f"{tee.upper()} evidence verification is not available in this build", field="tee", got=tee)
    if tee == "sgx":
        _require_key(parsed.csr, ec.SECP256R1, "SGX", "the PCK's (EC P-256)")
    result = verify(parsed.evidence, spki_der=parsed.spki_der, options=options, policy=policy.sgx if tee == "sgx" else policy.tdx)
    if not isinstance(result, Verdict):  # pragma: no cover - a contract bug in the DCAP module
        raise TypeError(f"verify_enarx_{tee}_evidence returned {type(result).__name__}, expected Verdict")
    return result


def _require_key(csr: x509.CertificateSigningRequest, curve: type[ec.EllipticCurve], tee: str, expected: str) -> None:
    key = csr.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
        got = f"EC {key.curve.name}" if isinstance(key, ec.EllipticCurvePublicKey) else type(key).__name__
        raise VerificationFailed(
            "csr.key_algorithm", f"{tee} CSR key is {got}; it must be {expected} (no algorithm downgrade)",
            field="subjectPublicKeyInfo", expected=expected, got=got,
        )


# Enarx's SNP evidence (steward crates/attestation/src/snp/mod.rs, crypto/crl.rs). Certificate
# and CertificateList stay ``Any`` (the exact TLV bytes), parsed by cryptography afterwards.
@dataclass(frozen=True)
class SnpEvidence:
    """Enarx's SNP evidence, decoded: the VCEK, the CRLs (with their URLs) and the raw report."""

    vcek: x509.Certificate
    crls: tuple[tuple[str, x509.CertificateRevocationList], ...]
    report: bytes


def decode_snp_evidence(data: bytes) -> SnpEvidence:
    """Decode the DER of OID ``1.3.6.1.4.1.58270.1.3``; :class:`MalformedEvidence` otherwise."""
    if len(data) > MAX_EVIDENCE_SIZE:
        raise MalformedEvidence("snp.evidence.malformed", f"SNP evidence is {len(data)} bytes, more than {MAX_EVIDENCE_SIZE}", field="evidence", got=len(data))
    # Evidence ::= SEQUENCE { crts SEQUENCE { vcek ANY, crl SEQUENCE { crls SEQUENCE OF
    #   SEQUENCE { url UTF8String, crl ANY } } }, report OCTET STRING }
    # Read with the strict DER reader: pyasn1 cost a tenth of an issuance here.
    try:
        outer = der.Reader(bytes(data))
        evidence = outer.sequence()
        outer.done()
        crts = evidence.sequence()
        vcek_der = crts.any()
        entries = der.read_crl_list(crts)
        crts.done()
        report = evidence.primitive(der.OCTET_STRING)
        evidence.done()
    except (ValueError, UnicodeError) as exc:  # DerError is a ValueError
        raise MalformedEvidence("snp.evidence.malformed", f"SNP evidence is not Enarx's Evidence DER: {exc}", field="evidence") from exc
    if len(entries) > MAX_CRLS:
        raise MalformedEvidence("snp.evidence.malformed", f"{len(entries)} CRLs, at most {MAX_CRLS}", field="evidence.crl", got=len(entries))
    # The SNP modules load when SNP evidence arrives, not for every CSR.
    from enarx.attestation.snp.abi import REPORT_SIZE
    from enarx.attestation.snp.certs import load_der_certificate

    if len(report) != REPORT_SIZE:
        raise MalformedEvidence("snp.report.size", f"SNP report length is {len(report)}, expected {REPORT_SIZE}", field="report", expected=REPORT_SIZE, got=len(report))
    vcek = parsed(vcek_der, x509.Certificate, lambda d: load_der_certificate(d, what="evidence VCEK"))
    crls = []
    for url, crl_der in entries:
        try:
            crls.append((url, parsed(crl_der, x509.CertificateRevocationList, x509.load_der_x509_crl)))
        except (ValueError, TypeError, x509.InvalidVersion) as exc:
            raise MalformedEvidence("snp.evidence.malformed", f"CRL for {url} is not a DER CRL: {exc}", field="evidence.crl") from exc
    return SnpEvidence(vcek=vcek, crls=tuple(crls), report=report)


def verify_enarx_snp_evidence(
    evidence: bytes,
    *,
    spki_der: bytes,
    public_key: object,
    options: VerifyOptions,
    policy: AttestationPolicy,
) -> Verdict:
    """Steps 3-6 of the module procedure for SNP evidence bound to ``spki_der``."""
    from enarx.attestation.snp.validate import validate_report, verdict_of
    from enarx.attestation.snp.verify import verify_report

    decoded = decode_snp_evidence(evidence)
    # 3. Anti-downgrade: the CSR key is EC P-384, like the VCEK.
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP384R1):
        got = f"EC {public_key.curve.name}" if isinstance(public_key, ec.EllipticCurvePublicKey) else type(public_key).__name__
        raise VerificationFailed(
            "csr.key_algorithm", f"SNP CSR key is {got}; it must be EC P-384 like the VCEK (no algorithm downgrade)",
            field="subjectPublicKeyInfo", expected="EC secp384r1", got=got,
        )
    # 4. Signatures, chain and CRLs at `now`.
    verified = verify_report(decoded.report, options=options, certificates=[decoded.vcek], crls=[crl for _, crl in decoded.crls])
    # 5. The binding: this report is about this key.
    binding = hashlib.sha384(spki_der).digest()
    reported = verified.report.report_data[: len(binding)]
    if reported != binding:
        raise VerificationFailed(
            "binding.report_data",
            "report_data does not start with SHA-384 of the CSR's SubjectPublicKeyInfo: the evidence is not about this key",
            field="report_data", expected=binding.hex(), got=reported.hex(),
        )
    # 6. Policy.
    validate_report(verified, policy.snp)
    return verdict_of(verified)


def encode_snp_evidence(
    report: bytes,
    vcek: x509.Certificate,
    crls: tuple[tuple[str, x509.CertificateRevocationList], ...] | list[tuple[str, x509.CertificateRevocationList]] = (),
) -> bytes:
    """The DER Enarx puts under OID ``1.3.6.1.4.1.58270.1.3`` (inverse of :func:`decode_snp_evidence`)."""
    crts = der.encode_sequence([
        vcek.public_bytes(Encoding.DER),
        der.encode_crl_list((url, crl.public_bytes(Encoding.DER)) for url, crl in crls),
    ])
    return der.encode_sequence([crts, der.encode_primitive(der.OCTET_STRING, bytes(report))])


__all__ = [
    "MAX_CRLS",
    "MAX_EVIDENCE_SIZE",
    "OID_EVIDENCE_KVM",
    "OID_EVIDENCE_SGX",
    "OID_EVIDENCE_SNP",
    "OID_EVIDENCE_TDX",
    "EvidenceCsr",
    "SnpEvidence",
    "VerifiedCsr",
    "decode_snp_evidence",
    "encode_snp_evidence",
    "parse_enarx_csr",
    "verify_enarx_csr",
    "verify_enarx_snp_evidence",
]
