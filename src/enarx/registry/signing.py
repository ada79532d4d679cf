"""Signed tags: a JWS by the publisher's key over the tag entry (what Enarx left undone, #2167).

A signed tag is a JWS in flattened JSON serialization (``application/jose+json``, the form
Drawbridge's ``TagEntry::Signed`` parses) whose payload is the unsigned tag entry
``{"digest":..., "length":..., "type":...}``. Keys are ECDSA P-256 (``ES256``). A signer is
named by its RFC 7638 JWK thumbprint (base64url SHA-256), which is also the JWS ``kid``.

A repository lists its publishers' public keys (JWKs) in its config under ``signing_keys``
and may set ``require_signed``: the registry then refuses tags not signed by one of them, and
``enarx deploy`` checks the signature again against keys it trusts.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from enarx.registry.errors import RegistryError, bad_request

JWS_MEDIA = "application/jose+json"
ENTRY_MEDIA = "application/vnd.drawbridge.entry.v1+json"
_ES256 = ECAlgorithm(ECAlgorithm.SHA256)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise bad_request("signed tag: bad base64url", "registry.signature") from exc


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    if not isinstance(key.curve, ec.SECP256R1):
        raise bad_request("signing keys must be ECDSA P-256", "registry.signature")
    jwk = json.loads(ECAlgorithm.to_jwk(key))
    return {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]}


def thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638: SHA-256 over the required members, sorted, no whitespace."""
    required = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    return b64url(hashlib.sha256(json.dumps(required, sort_keys=True, separators=(",", ":")).encode()).digest())


def load_private_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise bad_request(f"signing key is not an unencrypted PEM private key: {exc}", "registry.signature") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise bad_request("signing keys must be ECDSA P-256", "registry.signature")
    return key


def load_public_key(data: bytes) -> dict[str, str]:
    """A PEM public key, PEM private key, or JWK JSON -> the public JWK."""
    text = data.strip()
    if text.startswith(b"{"):
        jwk = json.loads(text)
        key = ECAlgorithm.from_jwk(jwk)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise bad_request("a trusted signer must be a public key", "registry.signature")
        return public_jwk(key)
    if b"PRIVATE KEY" in text:
        return public_jwk(load_private_key(text).public_key())
    try:
        pub = serialization.load_pem_public_key(text)
    except ValueError as exc:
        raise bad_request(f"not a PEM public key or JWK: {exc}", "registry.signature") from exc
    if not isinstance(pub, ec.EllipticCurvePublicKey):
        raise bad_request("signing keys must be ECDSA P-256", "registry.signature")
    return public_jwk(pub)


def sign_entry(entry: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """The flattened JWS (compact JSON bytes) over the tag entry bytes."""
    kid = thumbprint(public_jwk(key.public_key()))
    protected = b64url(json.dumps({"alg": "ES256", "cty": ENTRY_MEDIA, "kid": kid}, separators=(",", ":")).encode())
    payload = b64url(entry)
    signature = _ES256.sign(f"{protected}.{payload}".encode(), key)
    return json.dumps({"payload": payload, "protected": protected, "signature": b64url(signature)},
                      separators=(",", ":")).encode()


def jws_payload(body: bytes) -> bytes:
    """The payload of a JWS without checking it (the registry needs the entry to expect the tree)."""
    return b64url_decode(str(_parse(body)["payload"]))


def _parse(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"signed tag is not JSON: {exc}", "registry.signature") from exc
    if not isinstance(value, dict) or not isinstance(value.get("payload"), str):
        raise bad_request("signed tag is not a JWS (no payload)", "registry.signature")
    return value


def verify_jws(body: bytes, trusted: Iterable[Mapping[str, str]]) -> tuple[bytes, str]:
    """Verify a tag JWS against ``trusted`` JWKs: (entry bytes, signer thumbprint)."""
    value = _parse(body)
    signatures = value.get("signatures")
    if signatures is None:
        signatures = [{k: value[k] for k in ("protected", "signature", "header") if k in value}]
    if not isinstance(signatures, list) or not signatures:
        raise bad_request("signed tag has no signature", "registry.signature")
    keys = {thumbprint(jwk): jwk for jwk in trusted}
    if not keys:
        raise RegistryError("signed tag, but no trusted signing key is configured", status=403,
                            code="registry.signature")
    payload = str(value["payload"])
    for sig in signatures:
        if not isinstance(sig, dict) or not isinstance(sig.get("protected"), str):
            continue
        try:
            header = json.loads(b64url_decode(sig["protected"]))
        except json.JSONDecodeError:
            continue
        if not isinstance(header, dict) or header.get("alg") != "ES256":
            continue
        candidates = [keys[header["kid"]]] if header.get("kid") in keys else list(keys.values())
        for jwk in candidates:
            pub = ECAlgorithm.from_jwk(dict(jwk))
            signing_input = f"{sig['protected']}.{payload}".encode()
            if _ES256.verify(signing_input, pub, b64url_decode(str(sig.get("signature", "")))):
                return b64url_decode(payload), thumbprint(jwk)
    raise RegistryError("signed tag: no signature verifies with a trusted key", status=403, code="registry.signature")
