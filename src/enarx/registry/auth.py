"""Who is asking: bearer tokens (OIDC JWTs or local tokens) and Steward-issued client certificates.

* **OIDC** (as Drawbridge behind Auth0): an RS256 JWT from the configured issuer, for the
  configured audience, not expired, with a ``sub``; its scopes (the space-separated ``scope``
  claim, or a ``permissions`` list) are ``read|write|manage:drawbridge_{users,repositories,
  tags}``, ``manage`` implying both. The ``sub`` owns the user record it registered.
* **Local tokens** (the embedded default, no identity provider): opaque ``enarx_...`` strings
  made by ``enarx registry token``; the database keeps only their SHA-256.
* **Keeps**: a client certificate chaining to a configured Steward CA may *read* private
  repositories. The TLS layer has already checked the chain (``serve.py``); it is checked
  again here, at ``now``, so the rule holds whatever terminates TLS.

Nothing here reads the clock: ``now`` is a parameter.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import jwt
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from enarx.registry.errors import forbidden, unauthorized
from enarx.registry.meta import MetaStore

Context = Literal["users", "repositories", "tags"]
Level = Literal["read", "write"]
ALL_SCOPES = "manage:drawbridge_users manage:drawbridge_repositories manage:drawbridge_tags"
LOCAL_PREFIX = "enarx_"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a token's subject and scopes, or a Keep's certificate."""

    subject: str | None
    scopes: frozenset[str] = frozenset()
    keep_certificate: x509.Certificate | None = None

    def allows(self, context: Context, level: Level) -> bool:
        return f"manage:drawbridge_{context}" in self.scopes or f"{level}:drawbridge_{context}" in self.scopes

    def require(self, context: Context, level: Level) -> None:
        if not self.allows(context, level):
            raise forbidden(f"token lacks the scope {level}:drawbridge_{context} (or manage:drawbridge_{context})")


ANONYMOUS = Principal(None)


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    audience: str
    # Public keys (PEM or JWK objects parsed by PyJWT) or a JWKS URL fetched by PyJWKClient.
    keys: Sequence[Any] = ()
    jwks_url: str | None = None
    leeway: int = 30


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    scopes = set(str(claims.get("scope", "")).split())
    permissions = claims.get("permissions")
    if isinstance(permissions, list):
        scopes.update(str(p) for p in permissions)
    return frozenset(scopes)


def new_local_token() -> tuple[str, str]:
    """A fresh token and the digest the database keeps."""
    token = LOCAL_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Authenticator:
    meta: MetaStore
    oidc: OidcSettings | None = None
    local_tokens: bool = True
    steward_roots: Sequence[x509.Certificate] = ()
    _jwks: Any = field(default=None, repr=False)

    def bearer(self, authorization: str | None, now: datetime) -> Principal:
        """The principal of an ``Authorization`` header; anonymous when there is none."""
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized("Authorization must be `Bearer <token>`")
        if token.startswith(LOCAL_PREFIX):
            if not self.local_tokens:
                raise unauthorized("local tokens are disabled on this registry; use an OIDC token")
            found = self.meta.token(token_digest(token))
            if found is None:
                raise unauthorized("unknown token")
            return Principal(found[0], frozenset(found[1].split()))
        if self.oidc is None:
            raise unauthorized("OIDC tokens are not accepted here (no issuer configured)")
        return self._jwt(token, now)

    def _jwt(self, token: str, now: datetime) -> Principal:
        assert self.oidc is not None
        oidc = self.oidc
        try:
            keys: list[Any] = list(oidc.keys)
            if oidc.jwks_url:
                if self._jwks is None:
                    self._jwks = jwt.PyJWKClient(oidc.jwks_url, cache_keys=True)
                keys = [self._jwks.get_signing_key_from_jwt(token).key]
            last: Exception | None = None
            for key in keys:
                try:
                    claims: dict[str, Any] = jwt.decode(
                        token, key, algorithms=["RS256"], audience=oidc.audience, issuer=oidc.issuer,
                        leeway=oidc.leeway, options={"require": ["exp", "sub", "iss", "aud"], "verify_iat": False,
                                                      "verify_exp": False, "verify_nbf": False},
                    )
                except jwt.InvalidSignatureError as exc:
                    last = exc
                    continue
                _check_times(claims, now, oidc.leeway)
                return Principal(str(claims["sub"]), scopes_of(claims))
            raise last or jwt.InvalidTokenError("no verification key configured")
        except jwt.PyJWTError as exc:
            raise unauthorized(f"OpenID Connect credential validation failed: {exc}") from exc

    def keep(self, chain_der: Sequence[bytes], now: datetime) -> Principal:
        """A Keep presenting a certificate issued under a configured Steward CA."""
        if not self.steward_roots or not chain_der:
            return ANONYMOUS
        try:
            certs = [x509.load_der_x509_certificate(der) for der in chain_der]
            verifier = PolicyBuilder().store(Store(list(self.steward_roots))).time(now).build_client_verifier()
            verifier.verify(certs[0], certs[1:])
        except (ValueError, VerificationError) as exc:
            raise unauthorized(f"client certificate is not from a trusted Steward: {exc}") from exc
        return Principal(None, frozenset({"read:drawbridge_repositories", "read:drawbridge_tags"}), certs[0])


def _check_times(claims: dict[str, Any], now: datetime, leeway: int) -> None:
    # Checked against the injected clock, not PyJWT's own time.time().
    ts = now.timestamp()
    if float(claims["exp"]) + leeway < ts:
        raise jwt.ExpiredSignatureError("Signature has expired")
    if "nbf" in claims and float(claims["nbf"]) - leeway > ts:
        raise jwt.ImmatureSignatureError("The token is not yet valid (nbf)")


Clock = Callable[[], datetime]
