"""The Keep's key and its CSR: evidence, claims and requested names, as Enarx's Steward expects.

Enarx's layout: an empty subject, one extensionRequest attribute whose non-critical
extensions are the backend's evidence (its OID names the technology) and, ours, the
claims; the CSR is signed by the fresh Keep key (ES384 on SNP, ES256 otherwise). The
evidence binds that key: its report data starts with a hash of the CSR's
SubjectPublicKeyInfo (SHA-384 on SNP, SHA-256 otherwise, zero-padded to 64 bytes).
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from enarx.identity.claims import Claims
from enarx.identity.san import app_dns_name, spiffe_id

CURVES: dict[str, ec.EllipticCurve] = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}
REPORT_DATA_SIZE = 64


def generate_key(curve: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(CURVES[curve])


def spki_der(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def report_data(key: ec.EllipticCurvePrivateKey) -> bytes:
    """What the evidence must carry to bind this key (Enarx's choice of hash per curve)."""
    spki = spki_der(key)
    digest = hashlib.sha384(spki).digest() if key.curve.name == "secp384r1" else hashlib.sha256(spki).digest()
    return digest.ljust(REPORT_DATA_SIZE, b"\0")


def build_csr(
    key: ec.EllipticCurvePrivateKey,
    *,
    evidence_oid: str,
    evidence: bytes,
    claims: Claims | None,
    trust_domain: str | None,
) -> bytes:
    """A DER PKCS#10 request for this Keep."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    builder = builder.add_extension(
        x509.UnrecognizedExtension(x509.ObjectIdentifier(evidence_oid), evidence), critical=False
    )
    if claims is not None:
        builder = builder.add_extension(claims.to_extension(), critical=False)
        if claims.apps and trust_domain is not None:
            names: list[x509.GeneralName] = [x509.DNSName(app_dns_name(a, trust_domain)) for a in claims.apps]
            names += [x509.UniformResourceIdentifier(spiffe_id(a, trust_domain)) for a in claims.apps]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    algorithm = hashes.SHA384() if key.curve.name == "secp384r1" else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.DER)
