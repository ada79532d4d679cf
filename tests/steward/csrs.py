"""Build test CSRs: nil (KVM OID, empty evidence) with optional claims and requested names."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from enarx.identity import Claims

OID_EVIDENCE_KVM = "1.3.6.1.4.1.58270.1.1"  # Enarx: no TEE (KVM or nil), empty value

APP_DIGEST = hashlib.sha256(b"application").digest()
DEPLOY_DIGEST = hashlib.sha256(b"deployment").digest()
SIGNER = hashlib.sha256(b"publisher key").digest()


def claims(**kw: object) -> Claims:
    base: dict[str, object] = {"application_digest": APP_DIGEST, "deployment_digest": DEPLOY_DIGEST}
    base.update(kw)
    return Claims(**base)  # type: ignore[arg-type]


def nil_csr(
    *,
    with_claims: Claims | None = None,
    sans: Sequence[x509.GeneralName] = (),
    key: ec.EllipticCurvePrivateKey | None = None,
    evidence: bool = True,
    extra: Sequence[tuple[x509.ExtensionType, bool]] = (),
    pem: bool = False,
) -> bytes:
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    if evidence:
        builder = builder.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(OID_EVIDENCE_KVM), b""), critical=False)
    if with_claims is not None:
        builder = builder.add_extension(with_claims.to_extension(), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    for ext, critical in extra:
        builder = builder.add_extension(ext, critical=critical)
    csr = builder.sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM if pem else serialization.Encoding.DER)
