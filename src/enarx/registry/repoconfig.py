"""A repository's configuration document: Drawbridge's ``{"public": bool}`` plus our signing rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from enarx.registry.errors import bad_request

KEYS = frozenset({"public", "require_signed", "signing_keys"})


@dataclass(frozen=True)
class RepoConfig:
    public: bool
    require_signed: bool = False
    signing_keys: tuple[Mapping[str, str], ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"public": self.public}
        if self.require_signed:
            out["require_signed"] = True
        if self.signing_keys:
            out["signing_keys"] = [dict(k) for k in self.signing_keys]
        return out

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def parse(cls, body: bytes) -> RepoConfig:
        try:
            value = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise bad_request(f"repository config is not JSON: {exc}", "registry.json") from exc
        if not isinstance(value, dict):
            raise bad_request("repository config must be a JSON object", "registry.json")
        unknown = set(value) - KEYS
        if unknown:
            raise bad_request(f"repository config: unknown keys {sorted(unknown)} (allowed: {sorted(KEYS)})",
                              "registry.json")
        public = value.get("public")
        require_signed = value.get("require_signed", False)
        if not isinstance(public, bool) or not isinstance(require_signed, bool):
            raise bad_request("repository config: `public` (and `require_signed`) must be true or false",
                              "registry.json")
        raw_keys = value.get("signing_keys", [])
        if not isinstance(raw_keys, list):
            raise bad_request("repository config: `signing_keys` must be a list of JWKs", "registry.json")
        keys = []
        for jwk in raw_keys:
            try:
                key = ECAlgorithm.from_jwk(jwk)
            except Exception as exc:  # PyJWT raises InvalidKeyError and friends for any bad JWK
                raise bad_request(f"repository config: bad signing key: {exc}", "registry.json") from exc
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
                raise bad_request("repository config: signing keys must be public P-256 JWKs", "registry.json")
            keys.append({k: str(jwk[k]) for k in ("crv", "kty", "x", "y")})
        if require_signed and not keys:
            raise bad_request("repository config: `require_signed` needs at least one signing key", "registry.json")
        return cls(public, require_signed, tuple(keys))
