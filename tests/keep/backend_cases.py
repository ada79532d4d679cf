"""Shared set-up of the backend tests: fake vendor chains, a host cache, CSRs (TEST ONLY)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from enarx.attestation.dcap.testing import TestOnlyIntelPki
from enarx.attestation.options import Collateral, VerifyOptions
from enarx.attestation.testing import TestOnlyAmdSigner
from enarx.keep.backends import Evidence
from enarx.keep.backends.cachefmt import encode_crl_list, encode_tcb_package

# The fake Intel PKI is valid T0 .. T0+365d; the fake AMD chain 2020 .. 2050. NOW is in both.
T0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
CRL_URL = "https://test-only.invalid/crl"


def spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def snp_report_data(key: ec.EllipticCurvePrivateKey) -> bytes:
    return hashlib.sha384(spki(key)).digest() + bytes(16)


def dcap_report_data(key: ec.EllipticCurvePrivateKey) -> bytes:
    return hashlib.sha256(spki(key)).digest() + bytes(32)


def make_csr(key: ec.EllipticCurvePrivateKey, evidence: Evidence) -> bytes:
    """The CSR a Keep sends: empty subject, the evidence as one non-critical extension."""
    ext = x509.UnrecognizedExtension(x509.ObjectIdentifier(evidence.oid), evidence.value)
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).add_extension(ext, critical=False)
    digest = hashes.SHA384() if isinstance(key.curve, ec.SECP384R1) else hashes.SHA256()
    return builder.sign(key, digest).public_bytes(Encoding.DER)


def write_amd_cache(root: Path, signer: TestOnlyAmdSigner, *, vcek: bool = False) -> None:
    amd = root / "amd-sev"
    amd.mkdir(parents=True, exist_ok=True)
    (amd / "crls.der").write_bytes(encode_crl_list([(CRL_URL, signer.crl())]))
    if vcek:
        (amd / "vcek.der").write_bytes(signer.vcek.public_bytes(Encoding.DER))


def write_intel_cache(root: Path, pki: TestOnlyIntelPki, tee: str, *, qe_identity: bool = True) -> None:
    base = root / ("intel-tdx" if tee == "tdx" else "intel-sgx")
    base.mkdir(parents=True, exist_ok=True)
    root_crl, pck_crl = pki.crls()
    (base / "crls.der").write_bytes(encode_crl_list([("root", root_crl), ("pck", pck_crl)]))
    (base / "tcb.der").write_bytes(encode_tcb_package(pki.tcb_signing_chain, pki.tcb_info(tee)))
    if qe_identity:
        (base / "qe-identity.json").write_bytes(pki.qe_identity(tee))


def amd_options(signer: TestOnlyAmdSigner) -> VerifyOptions:
    # Enarx's SNP evidence carries the VCEK only: the fake ASK comes as verifier collateral.
    return signer.options(NOW, collateral=Collateral(certificates=(signer.ask,)))


def intel_options(pki: TestOnlyIntelPki, collateral: Collateral | None = None) -> VerifyOptions:
    return VerifyOptions(now=NOW, extra_roots=(pki.root,), trust_vendor_roots=False, collateral=collateral or Collateral())
