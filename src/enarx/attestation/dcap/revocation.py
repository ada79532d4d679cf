"""Revocation: PCK and TCB signing chains against Intel's CRLs, failing closed.

CRLs are matched to a certificate **by issuer name and signature**, not by distribution-point
URL (the Xeon vector's PCK names a v3 URL while it ships v4 CRLs: Steward then silently skipped
the check). A certificate without a current, correctly signed CRL from its issuer fails.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from enarx.attestation.dcap.sig import CACHE_SIZE, issuer_der, p256_key
from enarx.attestation.errors import VerificationFailed


def _crl_facts(crl: x509.CertificateRevocationList) -> tuple[bytes, frozenset[int]]:
    """A CRL's issuer DER and revoked serials, read once per object: ``cryptography`` rebuilds
    the issuer Name (~50 us) on every access and searches revoked entries linearly."""
    entry = _CRL_FACTS.get(id(crl))
    if entry is None or entry[0] is not crl:
        entry = (crl, crl.issuer.public_bytes(), frozenset(r.serial_number for r in crl))
        if len(_CRL_FACTS) >= CACHE_SIZE:
            _CRL_FACTS.pop(next(iter(_CRL_FACTS)))
        _CRL_FACTS[id(crl)] = entry
    return entry[1], entry[2]


def crl_issuer(crl: x509.CertificateRevocationList) -> bytes:
    """DER of a CRL's issuer name."""
    return _crl_facts(crl)[0]


_CRL_FACTS: dict[int, tuple[x509.CertificateRevocationList, bytes, frozenset[int]]] = {}


def check_revocation(
    path: Sequence[x509.Certificate], crls: Iterable[x509.CertificateRevocationList], now: datetime
) -> None:
    """Every non-root certificate of ``path`` (leaf first, root last) against its issuer's CRL.

    For each certificate, the CRLs whose issuer is the certificate's issuer and whose signature
    verifies with the issuer's key are candidates; a candidate whose signature fails is an error
    (tampered collateral), not something to skip. At least one candidate must be current at
    ``now``; the certificate must be listed in none of the current ones. No CRL: fail closed.
    """
    check_revocation_paths([path], crls, now)


def check_revocation_paths(
    paths: Iterable[Sequence[x509.Certificate]], crls: Iterable[x509.CertificateRevocationList], now: datetime
) -> None:
    """:func:`check_revocation` for several paths; a CRL's signature is checked once per issuer."""
    named = [(crl, crl_issuer(crl)) for crl in crls]
    verified: list[tuple[x509.CertificateRevocationList, x509.Certificate]] = []
    pairs = [pair for path in paths for pair in itertools.pairwise(path)]
    for cert, issuer in pairs:
        current = []
        stale: x509.CertificateRevocationList | None = None
        cert_issuer = issuer_der(cert)
        for crl, crl_issuer_der in named:
            if crl_issuer_der != cert_issuer:
                continue
            done = any(c is crl and i == issuer for c, i in verified)
            if not done and not _crl_signed_by(crl, issuer):
                raise VerificationFailed(
                    "dcap.crl.signature",
                    f"CRL issued by {crl.issuer.rfc4514_string()} does not verify with its issuer's key",
                    field="crl.signature",
                )
            verified.append((crl, issuer))
            next_update = crl.next_update_utc
            if crl.last_update_utc <= now and next_update is not None and now <= next_update:
                current.append(crl)
            else:
                stale = crl
        if not current:
            issuer_name = cert.issuer.rfc4514_string()
            if stale is not None:
                raise VerificationFailed(
                    "dcap.crl.expired",
                    f"CRL of {issuer_name} is valid {stale.last_update_utc.isoformat()} .. "
                    f"{stale.next_update_utc.isoformat() if stale.next_update_utc else 'never'}, not at {now.isoformat()}",
                    field="crl.nextUpdate",
                    expected=f"valid at {now.isoformat()}",
                    got=stale.next_update_utc.isoformat() if stale.next_update_utc else None,
                )
            raise VerificationFailed(
                "dcap.crl.missing",
                f"no CRL issued by {issuer_name} to check {cert.subject.rfc4514_string()} against",
                field="crl",
                expected=issuer_name,
                got="none",
            )
        for crl in current:
            if cert.serial_number in _crl_facts(crl)[1]:
                raise VerificationFailed(
                    "dcap.crl.revoked",
                    f"certificate {cert.subject.rfc4514_string()} serial {cert.serial_number:#x} "
                    f"is revoked by its issuer's CRL",
                    field="certificate.serial_number",
                    got=f"{cert.serial_number:#x}",
                )


def _crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    # A CRL verified under an issuer is remembered by the two objects' identity (each entry
    # holds both, so the ids stay theirs): the evidence decoder hands out one object per
    # distinct DER, so the same PCK CA and CRLs of every SGX Keep are checked once.
    known = _SIGNED.get((id(crl), id(issuer)))
    if known is not None and known[0] is crl and known[1] is issuer:
        return True
    key = p256_key(issuer)
    if key is None:
        key_any = issuer.public_key()  # a test or future CA with another algorithm
        valid = isinstance(key_any, ec.EllipticCurvePublicKey) and crl.is_signature_valid(key_any)
    else:
        valid = crl.is_signature_valid(key)
    if valid:
        if len(_SIGNED) >= CACHE_SIZE:
            _SIGNED.clear()
        _SIGNED[(id(crl), id(issuer))] = (crl, issuer)
    return valid


_SIGNED: dict[tuple[int, int], tuple[x509.CertificateRevocationList, x509.Certificate]] = {}
