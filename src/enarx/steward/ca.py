"""The Steward's certificate authority: create, load, issue workload certificates, sign CRLs.

A root signs an intermediate; the intermediate signs workload certificates and CRLs. Every
workload certificate comes from :func:`issue_workload_certificate`, one function wrapping
cryptography's immutable ``CertificateBuilder`` with the workload profile (docs/steward.md).
Nothing here reads the clock: ``now`` is a parameter.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from enarx.attestation import der
from enarx.identity.san import WorkloadNames
from enarx.steward.errors import StewardError

Curve = Literal["p256", "p384"]
CURVES: dict[str, ec.EllipticCurve] = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}

ROOT_CERT, ROOT_KEY, CA_CERT, CA_KEY = "root.pem", "root.key", "ca.pem", "ca.key"
ROOT_VALIDITY = timedelta(days=3650)
INTERMEDIATE_VALIDITY = timedelta(days=1825)
# Certificates start a little in the past, so peers whose clocks lag still accept them.
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class CertificateAuthority:
    """What the Steward signs with: the intermediate and its key, and the root above it."""

    root: x509.Certificate
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Root first (PkiPath order, as Enarx's Steward answers)."""
        return (self.root, self.certificate)

    def hash_algorithm(self) -> hashes.SHA256 | hashes.SHA384:
        return hashes.SHA384() if self.key.curve.key_size >= 384 else hashes.SHA256()


def init_ca(
    directory: Path,
    *,
    now: datetime,
    curve: Curve = "p256",
    common_name: str = "Enarx Steward",
    test: bool = False,
    force: bool = False,
) -> CertificateAuthority:
    """Create a root and an intermediate in ``directory``; refuse to overwrite unless ``force``.

    Keys are written PKCS#8 PEM with mode 0600. In test mode the names say so, and the
    intermediate is name-constrained to ``enarx.test`` so a test CA can never name a real host.
    """
    if curve not in CURVES:
        raise StewardError("ca.curve", f"unknown curve {curve!r}", field="curve", expected="p256, p384", got=curve)
    paths = [directory / n for n in (ROOT_CERT, ROOT_KEY, CA_CERT, CA_KEY)]
    existing = [p.name for p in paths if p.exists()]
    if existing and not force:
        raise StewardError(
            "ca.exists", f"{directory} already holds {', '.join(existing)}; refusing to overwrite (use --force)",
            field=str(directory),
        )
    label = f"{common_name} (TEST ONLY)" if test else common_name
    root_key = ec.generate_private_key(CURVES[curve])
    ca_key = ec.generate_private_key(CURVES[curve])
    digest = hashes.SHA384() if curve == "p384" else hashes.SHA256()
    root_name = _name(f"{label} Root")
    root = (
        _ca_builder(root_name, root_name, root_key.public_key(), now, ROOT_VALIDITY, path_length=1)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, digest)
    )
    builder = (
        _ca_builder(_name(f"{label} Issuing CA"), root_name, ca_key.public_key(), now, INTERMEDIATE_VALIDITY, path_length=0)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
    )
    if test:
        builder = builder.add_extension(
            x509.NameConstraints(permitted_subtrees=[x509.DNSName("enarx.test")], excluded_subtrees=None),
            critical=True,
        )
    intermediate = builder.sign(root_key, digest)
    directory.mkdir(parents=True, exist_ok=True)
    contents = {
        ROOT_CERT: root.public_bytes(serialization.Encoding.PEM),
        ROOT_KEY: _key_pem(root_key),
        CA_CERT: intermediate.public_bytes(serialization.Encoding.PEM),
        CA_KEY: _key_pem(ca_key),
    }
    _write_all(directory, contents)
    return CertificateAuthority(root=root, certificate=intermediate, key=ca_key)


def load_ca(directory: Path) -> CertificateAuthority:
    """Load the intermediate, its key and the root from ``directory``."""
    try:
        root = x509.load_pem_x509_certificate((directory / ROOT_CERT).read_bytes())
        cert = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
        key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise StewardError(
            "ca.missing", f"CA file {exc.filename} not found (run `enarx steward init`)", status=500, field=str(exc.filename),
        ) from exc
    except ValueError as exc:
        raise StewardError("ca.invalid", f"CA files in {directory} do not load: {exc}", status=500) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name not in ("secp256r1", "secp384r1"):
        raise StewardError("ca.invalid", f"{directory / CA_KEY} must be an EC P-256 or P-384 key", status=500)
    if cert.public_key() != key.public_key():
        raise StewardError("ca.invalid", f"{CA_KEY} does not match {CA_CERT} in {directory}", status=500)
    return CertificateAuthority(root=root, certificate=cert, key=key)


def issue_workload_certificate(
    ca: CertificateAuthority,
    *,
    public_key: ec.EllipticCurvePublicKey,
    subject: x509.Name,
    names: WorkloadNames | None,
    copy_extensions: Sequence[x509.ExtensionType],
    now: datetime,
    validity: timedelta,
    crl_url: str | None,
    serial: int | None = None,
    spki_der: bytes | None = None,
) -> x509.Certificate:
    """The workload profile.

    * serial: 128 random bits (unless given); validity ``now - BACKDATE`` .. ``now + validity``;
    * subject from the CSR (Enarx sends an empty one); issuer: the intermediate;
    * basicConstraints CA:false, keyUsage digitalSignature (both critical);
    * extKeyUsage serverAuth + clientAuth;
    * subjectAltName with the workload names, critical when the subject is empty (RFC 5280
      4.2.1.6); absent when there are no names (a Keep without claims, as Enarx's Steward);
    * authority/subject key identifiers, a CRL distribution point;
    * ``copy_extensions`` (the claims, and Enarx's KVM marker) copied unchanged, non-critical.

    ``spki_der``, the key's SubjectPublicKeyInfo as the CSR sent it, lets the subject key
    identifier be hashed from it directly rather than from a re-encoding (the same value).
    """
    if serial is None:
        serial = secrets.randbits(128) or 1
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + validity)
        .add_extension(_WORKLOAD_BASIC_CONSTRAINTS, critical=True)
        .add_extension(_WORKLOAD_KEY_USAGE, critical=True)
        .add_extension(_WORKLOAD_EKU, critical=False)
        .add_extension(_subject_key_identifier(public_key, spki_der), critical=False)
        .add_extension(_aki(ca.certificate), critical=False)
    )
    general = names.general_names() if names is not None else []
    if general:
        builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=len(subject) == 0)
    if crl_url:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)]
            ),
            critical=False,
        )
    for ext in copy_extensions:
        builder = builder.add_extension(ext, critical=False)
    return builder.sign(ca.key, ca.hash_algorithm())


@dataclass(frozen=True)
class Revoked:
    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags | None = None


def build_crl(
    ca: CertificateAuthority, revoked: Iterable[Revoked], *, now: datetime, next_update: timedelta, number: int
) -> x509.CertificateRevocationList:
    """A CRL over ``revoked``, signed by the intermediate, numbered ``number``."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now)
        .next_update(now + next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_aki(ca.certificate), critical=False)
    )
    for entry in revoked:
        rb = x509.RevokedCertificateBuilder().serial_number(entry.serial).revocation_date(entry.revoked_at)
        if entry.reason is not None and entry.reason != x509.ReasonFlags.unspecified:
            rb = rb.add_extension(x509.CRLReason(entry.reason), critical=False)
        builder = builder.add_revoked_certificate(rb.build())
    return builder.sign(ca.key, ca.hash_algorithm())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca_builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey, now: datetime, validity: timedelta, *, path_length: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(secrets.randbits(128) or 1)
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True, digital_signature=True), critical=True)
    )


def _key_usage(*, digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=key_cert_sign, crl_sign=crl_sign,
        encipher_only=False, decipher_only=False,
    )


_WORKLOAD_BASIC_CONSTRAINTS = x509.BasicConstraints(ca=False, path_length=None)
_WORKLOAD_KEY_USAGE = _key_usage(digital_signature=True)
_WORKLOAD_EKU = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])


def _subject_key_identifier(public_key: ec.EllipticCurvePublicKey, spki_der: bytes | None) -> x509.SubjectKeyIdentifier:
    """RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits, as cryptography computes
    it from the key, but read straight from the SPKI when we have it (no re-encoding)."""
    if spki_der is not None:
        try:
            spki = der.Reader(spki_der).sequence()
            spki.any()  # algorithm
            bits = spki.primitive(der.BIT_STRING)
            spki.done()
            if bits[:1] == b"\0":
                return x509.SubjectKeyIdentifier(hashlib.sha1(bits[1:]).digest())  # SHA-1: RFC 5280's method
        except ValueError:
            pass
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


@functools.lru_cache(maxsize=8)
def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _write_all(directory: Path, contents: dict[str, bytes]) -> None:
    """Write every file or none: temporaries first (keys 0600 from creation), then renames."""
    temps: list[Path] = []
    try:
        for name, data in contents.items():
            tmp = directory / f".{name}.tmp"
            mode = 0o600 if name.endswith(".key") else 0o644
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            temps.append(tmp)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
        for name in contents:
            os.replace(directory / f".{name}.tmp", directory / name)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
