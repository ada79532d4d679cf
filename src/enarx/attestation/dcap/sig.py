"""Signature helpers shared by quote, collateral and CRL checks.

Intel encodes ECDSA P-256 signatures as raw big-endian r||s (64 bytes); ``cryptography`` wants
DER. Public keys and issuer names are memoised per certificate object, because
``cryptography`` decodes the SPKI and rebuilds Names on every access.
"""

from __future__ import annotations

from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

_ECDSA_SHA256: Final = ec.ECDSA(hashes.SHA256())


def p256_key(cert: x509.Certificate) -> ec.EllipticCurvePublicKey | None:
    """A certificate's public key if it is EC P-256, else ``None``; decoded once per object."""
    entry = _KEYS.get(id(cert))
    if entry is None or entry[0] is not cert:
        key = cert.public_key()
        p256 = key if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1) else None
        entry = (cert, p256, cert.issuer.public_bytes())
        if len(_KEYS) >= CACHE_SIZE:
            _KEYS.pop(next(iter(_KEYS)))
        _KEYS[id(cert)] = entry
    return entry[1]


def issuer_der(cert: x509.Certificate) -> bytes:
    """DER of a certificate's issuer name, memoised with its key."""
    p256_key(cert)
    return _KEYS[id(cert)][2]


# Identity-keyed memos; each entry holds its object, so an id is never reused while cached.
CACHE_SIZE: Final = 256
_KEYS: dict[int, tuple[x509.Certificate, ec.EllipticCurvePublicKey | None, bytes]] = {}


def verify_raw_signature(key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
    """ECDSA P-256/SHA-256 over ``message`` with a raw 64-byte r||s signature."""
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, message, _ECDSA_SHA256)
    except InvalidSignature:
        return False
    return True
