"""Is a DCAP quote signed by genuine Intel hardware at time T, and at which TCB?

The procedure, as a checklist (each step's code block is labelled with its number):

1. Parse the quote; the QE vendor must be Intel.
2. PCK chain (certification data type 5, inside type 6 for v4/v5) to the **pinned** Intel SGX
   Root CA at ``now``. Never trust the root the quote carries: an attacker can make its own.
3. QE report signed by the PCK key (ties the Quoting Enclave to the certified platform).
4. QE REPORTDATA = SHA-256(attestation key || QE auth data) || 0^32 (ties the attestation key
   to that QE: without it any key could sign quotes).
5. Quote signature by the attestation key over header (+ v5 body descriptor) + body.
6. TCB info: TCB signing chain to the pinned root, signature over the served bytes, current.
7. QE identity: same, then the QE report must be Intel's QE for this TEE (or waived by policy).
8. Revocation: the PCK chain and the TCB signing chain against CRLs matched by issuer and
   signature, failing closed (a revoked PCK would otherwise pass steps 2-7).
9. TCB evaluation to Intel's statuses (:mod:`enarx.attestation.dcap.tcb`).

Chains are validated with ``cryptography``'s RFC 5280 path builder (``PolicyBuilder``) with the
injected ``now``, the web-PKI CA profile for CA certificates (Intel's CAs satisfy it) and a
permissive end-entity profile (PCK and TCB Signing certificates are not TLS certificates): a
real path validator checks basic constraints, key usage, name chaining and validity that a
link-by-link loop would have to re-implement. Before it, each certificate's validity is checked
explicitly so that an expired certificate is reported as such (``dcap.pck.expired``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from enarx.attestation.dcap import collateral as coll
from enarx.attestation.dcap import revocation, sig
from enarx.attestation.dcap.abi import INTEL_QE_VENDOR_ID, Quote
from enarx.attestation.dcap.pck import PckExtensions, parse_pck_extensions
from enarx.attestation.dcap.tcb import DcapTee, TcbEvaluation, evaluate, evaluate_qe
from enarx.attestation.dcap.validate import DcapPolicy
from enarx.attestation.errors import MalformedEvidence, VerificationFailed
from enarx.attestation.options import VerifyOptions

#: SHA-256 of the DER of the Intel SGX Root CA (valid 2018-05-21 .. 2049-12-31), the only
#: Intel certificate pinned; checked against the embedded copy at import.
INTEL_SGX_ROOT_CA_SHA256: Final = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"

_INTEL_SGX_ROOT_CA_DER: Final = base64.b64decode(
    "MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIwaDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0Ex"
    "GjAYBgNVBAoMEUludGVsIENvcnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYTAlVTMB4X"
    "DTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv"
    "cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYTAlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0D"
    "AQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi71OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOBuzCBuDAf"
    "BgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJMEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVk"
    "c2VydmljZXMuaW50ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SVUr9QGzknBqwwDgYDVR0PAQH/"
    "BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYIKoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg"
    "AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI="
)
if hashlib.sha256(_INTEL_SGX_ROOT_CA_DER).hexdigest() != INTEL_SGX_ROOT_CA_SHA256:  # pragma: no cover
    raise ImportError("embedded Intel SGX Root CA does not match its pinned fingerprint")
INTEL_SGX_ROOT_CA: Final = x509.load_der_x509_certificate(_INTEL_SGX_ROOT_CA_DER)

#: Real PCK chains are 3 certificates; bound the path builder's work on hostile input.
_MAX_CHAIN: Final = 4


@dataclass(frozen=True)
class VerifiedQuote:
    """A quote whose signatures, chains, collateral and revocation all checked out."""

    tee: DcapTee
    quote: Quote
    pck: x509.Certificate
    pck_extensions: PckExtensions
    tcb: TcbEvaluation
    qe_identity_checked: bool


@dataclass(frozen=True)
class EvidenceCollateral:
    """Collateral that came *inside* the evidence (Enarx CSRs carry CRLs and TCB info)."""

    crls: tuple[x509.CertificateRevocationList, ...] = ()
    tcb_info: bytes | None = None
    tcb_info_issuer_chain: tuple[x509.Certificate, ...] = ()
    qe_identity: bytes | None = None


def trust_anchors(options: VerifyOptions) -> tuple[x509.Certificate, ...]:
    """The pinned Intel root (unless disabled) plus the caller's extra roots."""
    anchors = (INTEL_SGX_ROOT_CA,) if options.trust_vendor_roots else ()
    return anchors + tuple(options.extra_roots)


def _check_validity(cert: x509.Certificate, now: datetime, code: str, role: str) -> None:
    if now < cert.not_valid_before_utc:
        raise VerificationFailed(
            f"{code}.not_yet_valid",
            f"{role} certificate {cert.subject.rfc4514_string()} is valid from "
            f"{cert.not_valid_before_utc.isoformat()}, not at {now.isoformat()}",
            field=f"{role}.not_valid_before",
            expected=f"<= {now.isoformat()}",
            got=cert.not_valid_before_utc.isoformat(),
        )
    if now > cert.not_valid_after_utc:
        raise VerificationFailed(
            f"{code}.expired",
            f"{role} certificate {cert.subject.rfc4514_string()} expired "
            f"{cert.not_valid_after_utc.isoformat()}, before {now.isoformat()}",
            field=f"{role}.not_valid_after",
            expected=f">= {now.isoformat()}",
            got=cert.not_valid_after_utc.isoformat(),
        )


@lru_cache(maxsize=64)
def _verifier_policy(anchors: tuple[x509.Certificate, ...]) -> tuple[Store, ExtensionPolicy, ExtensionPolicy]:
    return Store(list(anchors)), ExtensionPolicy.webpki_defaults_ca(), ExtensionPolicy.permit_all()


@dataclass(frozen=True)
class _VerifiedCa:
    """A CA path (issuer of some leaf .. anchor) that the path builder validated."""

    above_leaf: tuple[x509.Certificate, ...]  # the chain as given, after the leaf
    anchors: tuple[x509.Certificate, ...]
    path: tuple[x509.Certificate, ...]
    not_before: datetime
    not_after: datetime


#: Verified CA paths under a pinned anchor, keyed by the exact DER of the chain above the leaf
#: and the anchors. What cannot change is cached: the same CA certificates under the same
#: anchor validate identically at any instant inside their common validity window, which is
#: re-checked on every use. Leaves (PCK, TCB Signing) are always verified.
#: Keyed by object identity (hashing a certificate hashes its DER: too slow here). Each entry
#: holds the very objects its key names, so those ids cannot be reused while it is cached:
#: equal keys mean the same certificate objects.
_CA_CACHE: dict[tuple[int, ...], _VerifiedCa] = {}
_CA_CACHE_SIZE: Final = 64


def verify_chain(
    chain: Sequence[x509.Certificate],
    anchors: tuple[x509.Certificate, ...],
    now: datetime,
    *,
    code: str,
    role: str,
    cache_leaf: bool = False,
) -> list[x509.Certificate]:
    """Validate ``chain`` (leaf first) to one of ``anchors`` at ``now``; return the built path.

    The path's root is always one of ``anchors``: a root carried by the chain is only a
    candidate intermediate and can never terminate the path by itself. The first time a CA
    path is seen, ``cryptography``'s path builder validates the whole chain; afterwards, while
    ``now`` is inside that CA path's validity, the leaf is checked link by link against it
    (issuer name and signature; its validity was checked above).

    ``cache_leaf`` extends the cache to the leaf, for Intel's collateral signer (the TCB Signing
    certificate, one for every platform): like a CA, it cannot change, and its revocation is
    still checked against the CRLs on every verification. Never for a PCK.
    """
    if not chain:
        raise MalformedEvidence(f"{code}.chain", f"{role} chain is empty", field=role, expected="certificates", got=0)
    if len(chain) > _MAX_CHAIN:
        raise MalformedEvidence(
            f"{code}.chain", f"{role} chain has {len(chain)} certificates", field=role, expected=f"<= {_MAX_CHAIN}", got=len(chain)
        )
    if not anchors:
        raise VerificationFailed(f"{code}.chain", "no trust anchors (vendor roots disabled, none given)", field=role)
    for cert in chain:
        if cert not in anchors:
            _check_validity(cert, now, code, role)
    above_leaf = tuple(chain[1:])
    key = (*map(id, anchors), 0, *map(id, above_leaf))
    if cache_leaf:
        signer = _CA_CACHE.get((*key, 1, id(chain[0])))
        if signer is not None and signer.not_before <= now <= signer.not_after:
            return list(signer.path)
    cached = _CA_CACHE.get(key)
    if cached is not None and cached.not_before <= now <= cached.not_after:
        try:
            chain[0].verify_directly_issued_by(cached.path[0])
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            pass  # not this CA's leaf after all: let the path builder decide and explain
        else:
            return [chain[0], *cached.path]
    built = _build_path(chain, anchors, now, code=code, role=role)
    ca_path = tuple(built[1:])
    if len(_CA_CACHE) >= _CA_CACHE_SIZE:
        _CA_CACHE.pop(next(iter(_CA_CACHE)))
    _CA_CACHE[key] = _VerifiedCa(
        above_leaf,
        anchors,
        ca_path,
        max(c.not_valid_before_utc for c in ca_path),
        min(c.not_valid_after_utc for c in ca_path),
    )
    if cache_leaf:
        _CA_CACHE[(*key, 1, id(chain[0]))] = _VerifiedCa(
            tuple(chain),
            anchors,
            tuple(built),
            max(c.not_valid_before_utc for c in built),
            min(c.not_valid_after_utc for c in built),
        )
    return built


def _build_path(
    chain: Sequence[x509.Certificate], anchors: tuple[x509.Certificate, ...], now: datetime, *, code: str, role: str
) -> list[x509.Certificate]:
    store, ca_policy, ee_policy = _verifier_policy(anchors)
    verifier = (
        PolicyBuilder()
        .store(store)
        .time(now)
        .max_chain_depth(_MAX_CHAIN)
        .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
        .build_client_verifier()
    )
    try:
        built = verifier.verify(chain[0], list(chain[1:]))
    except VerificationError as exc:
        raise VerificationFailed(
            f"{code}.chain",
            f"{role} chain does not validate to a trusted root at {now.isoformat()}: {exc}",
            field=role,
            expected=f"a chain to {', '.join(a.subject.rfc4514_string() for a in anchors)}",
            got=chain[-1].subject.rfc4514_string(),
        ) from None
    return list(built.chain)


#: What ``cryptography`` raises for a certificate or CRL it cannot parse. It parses lazily, so
#: :func:`checked_certificate` and :func:`checked_crl` touch every field this package reads,
#: inside this one boundary, and later code never meets a parse error.
_PARSE_ERRORS: Final = (ValueError, TypeError, x509.InvalidVersion, UnsupportedAlgorithm)


def checked_certificate(cert: x509.Certificate) -> x509.Certificate:
    _ = (cert.subject, cert.issuer, cert.serial_number, cert.not_valid_before_utc, cert.not_valid_after_utc)
    _ = (cert.extensions, cert.signature_hash_algorithm, cert.public_key())
    return cert


def checked_crl(crl: x509.CertificateRevocationList) -> x509.CertificateRevocationList:
    _ = (crl.issuer, crl.last_update_utc, crl.next_update_utc, crl.signature_hash_algorithm, crl.extensions)
    for revoked in crl:
        _ = (revoked.serial_number, revoked.revocation_date_utc)
    return crl


def load_certificates(load: Callable[[], list[x509.Certificate]], field: str, code: str) -> list[x509.Certificate]:
    """Run a certificate loader and check every field, translating parse errors."""
    try:
        return [checked_certificate(c) for c in load()]
    except _PARSE_ERRORS as exc:
        raise MalformedEvidence(code, f"{field} is not a valid certificate chain: {exc}", field=field, expected="certificates") from None


def load_crl(der: bytes, field: str, code: str) -> x509.CertificateRevocationList:
    try:
        return checked_crl(x509.load_der_x509_crl(der))
    except _PARSE_ERRORS as exc:
        raise MalformedEvidence(code, f"{field} is not a DER CRL: {exc}", field=field, expected="a DER CRL") from None


def load_pem_chain(pem: bytes, field: str) -> list[x509.Certificate]:
    """PEM certificates from certification data (real quotes end the PEM with a NUL byte)."""
    return list(_load_pem_chain_cached(bytes(pem), field))


@lru_cache(maxsize=256)
def _load_pem_chain_cached(pem: bytes, field: str) -> tuple[x509.Certificate, ...]:
    # Every quote of a platform carries the same PCK chain; parsing identical bytes always gives
    # the same immutable certificates, so the parse (never a check) is memoised.
    return tuple(load_certificates(lambda: x509.load_pem_x509_certificates(pem.rstrip(b"\x00")), field, "dcap.pck.chain_pem"))


def _p256(cert: x509.Certificate, role: str) -> ec.EllipticCurvePublicKey:
    key = sig.p256_key(cert)
    if key is None:
        got = type(cert.public_key()).__name__
        raise VerificationFailed(f"dcap.{role}.key", f"{role} key is not EC P-256", field=f"{role}.public_key", expected="EC P-256", got=got)
    return key


def _pck_extensions_cached(pck: x509.Certificate) -> PckExtensions:
    # pyasn1 is slow and a platform's PCK certificate never changes: memoise the parse, by
    # object identity (the chain itself comes from the PEM parse memo); each entry holds its
    # certificate so an id is never reused while cached.
    entry = _PCK_EXTENSIONS.get(id(pck))
    if entry is None or entry[0] is not pck:
        entry = (pck, parse_pck_extensions(pck))
        if len(_PCK_EXTENSIONS) >= 256:
            _PCK_EXTENSIONS.pop(next(iter(_PCK_EXTENSIONS)))
        _PCK_EXTENSIONS[id(pck)] = entry
    return entry[1]


_PCK_EXTENSIONS: dict[int, tuple[x509.Certificate, PckExtensions]] = {}


@lru_cache(maxsize=32)
def _tcb_info_cached(raw: bytes) -> coll.Signed[coll.TcbInfo]:
    # Collateral is shared by every quote of a platform; parsing the same bytes always gives
    # the same frozen value, so the parse (not the signature or time checks) is memoised.
    return coll.parse_tcb_info(raw)


@lru_cache(maxsize=32)
def _qe_identity_cached(raw: bytes) -> coll.Signed[coll.QeIdentity]:
    return coll.parse_qe_identity(raw)


def _missing(field: str, what: str) -> VerificationFailed:
    return VerificationFailed(
        "dcap.collateral.missing", f"{what} is required and was not supplied", field=field, expected="present", got="missing"
    )


def verify_quote(
    quote: Quote,
    *,
    tee: DcapTee,
    options: VerifyOptions,
    policy: DcapPolicy,
    evidence: EvidenceCollateral | None = None,
) -> VerifiedQuote:
    """Steps 1-9 for a parsed quote; collateral comes from ``options`` and ``evidence``."""
    now = options.now
    anchors = trust_anchors(options)
    evidence = evidence or EvidenceCollateral()
    supplied = options.collateral

    # 1. The right TEE, and Intel's Quoting Enclave.
    if quote.is_tdx != (tee == "tdx"):
        raise MalformedEvidence(
            f"{tee}.quote.tee_type",
            f"quote is a {'TDX' if quote.is_tdx else 'SGX'} quote, expected {tee.upper()}",
            field="header.tee_type",
            expected=tee,
            got="tdx" if quote.is_tdx else "sgx",
        )
    if quote.header.qe_vendor_id != INTEL_QE_VENDOR_ID:
        raise VerificationFailed(
            "dcap.quote.qe_vendor",
            f"header.qe_vendor_id is {quote.header.qe_vendor_id.hex()}, expected Intel's {INTEL_QE_VENDOR_ID.hex()}",
            field="header.qe_vendor_id",
            expected=INTEL_QE_VENDOR_ID,
            got=quote.header.qe_vendor_id,
        )
    qe = quote.signature_data.qe

    # 2. PCK chain to the pinned root.
    chain = load_pem_chain(qe.certification_data.pck_chain_pem, "certification_data.pck_chain")
    pck_path = verify_chain(chain, anchors, now, code="dcap.pck", role="pck")
    pck = pck_path[0]
    pck_key = _p256(pck, "pck")
    pck_extensions = _pck_extensions_cached(pck)

    # 3. QE report signed by the PCK.
    if not sig.verify_raw_signature(pck_key, qe.qe_report_signature, qe.qe_report):
        raise VerificationFailed(
            "dcap.qe.signature", "QE report signature does not verify with the PCK key", field="qe_report_signature"
        )
    qe_report = qe.qe_report_body

    # 4. The attestation key is the QE's.
    expected_rd = hashlib.sha256(quote.signature_data.attestation_key + qe.qe_auth_data).digest() + bytes(32)
    if qe_report.report_data != expected_rd:
        raise VerificationFailed(
            "dcap.qe.report_data",
            f"QE report_data is {qe_report.report_data.hex()}, expected SHA-256(attestation key || auth data) "
            f"|| zeros = {expected_rd.hex()}",
            field="qe_report.report_data",
            expected=expected_rd,
            got=qe_report.report_data,
        )

    # 5. The quote signature.
    try:
        att_key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b"\x04" + quote.signature_data.attestation_key
        )
    except ValueError:
        raise MalformedEvidence(
            "dcap.quote.attestation_key",
            "attestation_key is not a P-256 point",
            field="signature_data.attestation_key",
            expected="a P-256 point",
            got=quote.signature_data.attestation_key,
        ) from None
    if not sig.verify_raw_signature(att_key, quote.signature_data.quote_signature, quote.signed):
        raise VerificationFailed(
            "dcap.quote.signature",
            "quote signature does not verify with the attestation key over header and body",
            field="signature_data.quote_signature",
        )

    # 6. TCB info, signed by Intel's TCB signing key, current.
    tcb_raw = supplied.tcb_info if supplied.tcb_info is not None else evidence.tcb_info
    if tcb_raw is None:
        raise _missing("collateral.tcb_info", "TCB info")
    tcb_chain = supplied.tcb_info_issuer_chain or evidence.tcb_info_issuer_chain
    if not tcb_chain:
        raise _missing("collateral.tcb_info_issuer_chain", "the TCB info issuer chain")
    tcb_path = verify_chain(tcb_chain, anchors, now, code="dcap.tcb_signing", role="tcb_signing", cache_leaf=True)
    _check_collateral_signer(tcb_path, "tcb_signing")
    tcb_doc = _tcb_info_cached(bytes(tcb_raw))
    coll.check_signed(tcb_doc, tcb_path[0], "tcb_info")
    coll.check_current("tcb_info", tcb_doc.value.issue_date, tcb_doc.value.next_update, now)

    # 7. QE identity: Intel's QE for this TEE, at which level.
    qe_level = None
    paths = [pck_path, tcb_path]
    qe_raw = supplied.qe_identity if supplied.qe_identity is not None else evidence.qe_identity
    if qe_raw is not None:
        qe_chain = supplied.qe_identity_issuer_chain or tcb_chain
        same_chain = tuple(qe_chain) == tuple(tcb_chain)
        qe_path = tcb_path if same_chain else verify_chain(qe_chain, anchors, now, code="dcap.tcb_signing", role="qe_identity_signing", cache_leaf=True)
        _check_collateral_signer(qe_path, "qe_identity_signing")
        qe_doc = _qe_identity_cached(bytes(qe_raw))
        coll.check_signed(qe_doc, qe_path[0], "qe_identity")
        coll.check_current("qe_identity", qe_doc.value.issue_date, qe_doc.value.next_update, now)
        qe_level = evaluate_qe(tee, qe_report, qe_doc.value)
        if qe_path[0] != tcb_path[0]:
            paths.append(qe_path)
    elif policy.require_qe_identity:
        raise _missing("collateral.qe_identity", "QE identity (or a policy with require_qe_identity = false)")

    # 8. Revocation, failing closed.
    crls = _dedupe([*supplied.crls, *evidence.crls])
    revocation.check_revocation_paths(paths, crls, now)

    # 9. TCB status.
    evaluation = evaluate(
        tee, pck_extensions, tcb_doc.value, qe_level=qe_level, td_body=quote.td_body if tee == "tdx" else None
    )
    return VerifiedQuote(tee, quote, pck, pck_extensions, evaluation, qe_level is not None)


def _check_collateral_signer(path: Sequence[x509.Certificate], role: str) -> None:
    """Collateral must be signed by an end-entity certificate issued directly by the root.

    Intel's TCB Signing certificate is; a PCK (issued by a PCK CA) or a CA is not. Without this,
    anyone holding one platform's PCK key could sign TCB info declaring that platform UpToDate.
    """
    signer = path[0]
    try:
        is_ca = signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if len(path) != 2 or is_ca:
        raise VerificationFailed(
            "dcap.tcb_signing.chain",
            f"{role} certificate {signer.subject.rfc4514_string()} is not an end-entity certificate issued "
            f"directly by the root (path of {len(path)}, CA {is_ca})",
            field=role,
            expected="an end-entity certificate issued by the root",
            got=signer.subject.rfc4514_string(),
        )


def _dedupe(crls: Iterable[x509.CertificateRevocationList]) -> list[x509.CertificateRevocationList]:
    out: list[x509.CertificateRevocationList] = []
    for crl in crls:
        if crl not in out:
            out.append(crl)
    return out
