"""OIDC bearer tokens (RS256, issuer, audience, expiry against the injected clock, scopes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from enarx.registry.app import Registry
from enarx.registry.auth import ALL_SCOPES, OidcSettings
from enarx.registry.errors import RegistryError
from enarx.registry.repoconfig import RepoConfig
from enarx.registry.settings import RegistrySettings

from .conftest import NOW, ClientFactory

ISSUER, AUDIENCE = "https://auth.example/", "https://registry.example/"


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {"good": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "other": rsa.generate_private_key(public_exponent=65537, key_size=2048)}


@pytest.fixture
def registry(tmp_path: Path, keys: dict[str, rsa.RSAPrivateKey]) -> Iterator[Registry]:
    oidc = OidcSettings(ISSUER, AUDIENCE, keys=[keys["good"].public_key()])
    reg = Registry(RegistrySettings(tmp_path / "r", oidc=oidc, local_tokens=False, clock=lambda: NOW))
    yield reg
    reg.close()


def token(keys: dict[str, rsa.RSAPrivateKey], key: str = "good", **overrides: Any) -> str:
    claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "auth0|alice", "scope": ALL_SCOPES,
                              "iat": int(NOW.timestamp()), "exp": int((NOW + timedelta(hours=1)).timestamp())}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, keys[key], algorithm=overrides.pop("alg", "RS256") if "alg" in overrides else "RS256")


def test_a_valid_token_registers_its_subject_and_owns_the_user(
    make_client: ClientFactory, keys: dict[str, rsa.RSAPrivateKey]
) -> None:
    client = make_client(token(keys))
    client.register_user("alice", "auth0|alice")
    client.register_repo("alice", "app", RepoConfig(public=False))
    assert client.user_info("alice") == {"subject": "auth0|alice"}
    assert client.repo_info("alice", "app") == {"config": {"public": False}, "tags": []}


@pytest.mark.parametrize(
    ("name", "overrides", "key", "reason"),
    [
        ("wrong key", {}, "other", "Signature verification failed"),
        ("wrong issuer", {"iss": "https://evil.example/"}, "good", "issuer"),
        ("wrong audience", {"aud": "https://other.example/"}, "good", "audience"),
        # exp is one second before NOW, beyond the 30 s leeway: 31 s before.
        ("expired", {"exp": int((NOW - timedelta(seconds=31)).timestamp())}, "good", "expired"),
        ("not yet valid", {"nbf": int((NOW + timedelta(seconds=31)).timestamp())}, "good", "not yet valid"),
        ("no subject", {"sub": None}, "good", "sub"),
    ],
)
def test_bad_tokens_are_401_with_the_reason(
    make_client: ClientFactory, keys: dict[str, rsa.RSAPrivateKey], name: str, overrides: dict[str, Any],
    key: str, reason: str,
) -> None:
    client = make_client(token(keys, key, **overrides))
    with pytest.raises(RegistryError) as info:
        client.register_user("alice", "auth0|alice")
    assert info.value.status == 401
    assert reason.lower() in str(info.value).lower()


def test_expiry_edge_inside_the_leeway_is_accepted(make_client: ClientFactory, keys: dict[str, rsa.RSAPrivateKey]) -> None:
    # 29 s past exp is inside the 30 s leeway.
    client = make_client(token(keys, exp=int((NOW - timedelta(seconds=29)).timestamp())))
    client.register_user("alice", "auth0|alice")


def test_hs256_and_local_tokens_are_refused(make_client: ClientFactory, keys: dict[str, rsa.RSAPrivateKey]) -> None:
    forged = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "auth0|alice", "scope": ALL_SCOPES,
                         "exp": int((NOW + timedelta(hours=1)).timestamp())}, "secret-key-of-32-bytes-or-more!!", algorithm="HS256")
    for bad in (forged, "enarx_whatever"):
        with pytest.raises(RegistryError) as info:
            make_client(bad).register_user("alice", "auth0|alice")
        assert info.value.status == 401


def test_scopes_come_from_scope_or_permissions(make_client: ClientFactory, keys: dict[str, rsa.RSAPrivateKey]) -> None:
    with pytest.raises(RegistryError) as info:
        make_client(token(keys, scope="openid read:drawbridge_users")).register_user("alice", "auth0|alice")
    assert info.value.status == 403
    make_client(token(keys, scope=None, permissions=["write:drawbridge_users"])).register_user("alice", "auth0|alice")
