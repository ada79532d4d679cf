"""Private repositories (owner, Keep certificates from the Steward CA) and signed tags."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from enarx.registry.app import Registry
from enarx.registry.errors import RegistryError, VerificationError
from enarx.registry.fetch import TrustPolicy, fetch_package
from enarx.registry.repoconfig import RepoConfig
from enarx.registry.settings import RegistrySettings
from enarx.registry.signing import public_jwk, sign_entry, thumbprint

from .certs import Issued, fake_keep_cert, fake_steward_ca
from .conftest import NOW, ClientFactory, add_user_token, package_files

TAG = "/alice/secret/_tag/1.0.0"


@pytest.fixture(scope="module")
def steward_ca() -> Issued:
    return fake_steward_ca()


@pytest.fixture
def registry(tmp_path: Path, steward_ca: Issued) -> Iterator[Registry]:
    reg = Registry(RegistrySettings(tmp_path / "r", steward_roots=[steward_ca.cert], clock=lambda: NOW))
    yield reg
    reg.close()


def tls(cert: Issued) -> dict[str, Any]:
    return {"tls": {"client_cert_chain": [cert.pem.decode()]}}


@pytest.fixture
def published(registry: Registry, make_client: ClientFactory) -> None:
    alice = make_client(add_user_token(registry, "sub-alice"))
    alice.register_user("alice", "sub-alice")
    alice.register_repo("alice", "secret", RepoConfig(public=False))
    alice.publish("alice", "secret", "1.0.0", package_files())
    bob = make_client(add_user_token(registry, "sub-bob"))
    bob.register_user("bob", "sub-bob")


def test_private_repo_readers(registry: Registry, make_client: ClientFactory, published: None,
                              steward_ca: Issued) -> None:
    owner = make_client(add_user_token(registry, "sub-alice"))
    assert set(fetch_package(owner, TAG, TrustPolicy()).files) == {"main.wasm", "Enarx.toml"}
    keep = make_client(extensions=tls(fake_keep_cert(steward_ca)))
    assert set(fetch_package(keep, TAG, TrustPolicy()).files) == {"main.wasm", "Enarx.toml"}
    refused = [
        (make_client(), 401, "private"),
        (make_client(add_user_token(registry, "sub-bob")), 403, "another user"),
        (make_client(extensions=tls(fake_keep_cert(fake_steward_ca("Someone else's CA")))), 401, "not from a trusted Steward"),
        # Expired one second before NOW.
        (make_client(extensions=tls(fake_keep_cert(steward_ca, not_after=NOW - timedelta(seconds=1)))), 401,
         "not from a trusted Steward"),
    ]
    for client, status, reason in refused:
        with pytest.raises(RegistryError) as info:
            fetch_package(client, TAG, TrustPolicy())
        assert (info.value.status, reason in str(info.value)) == (status, True), str(info.value)
        with pytest.raises(RegistryError):
            client.tags("alice", "secret")


def test_a_keep_certificate_cannot_write(registry: Registry, make_client: ClientFactory, published: None,
                                         steward_ca: Issued) -> None:
    keep = make_client(extensions=tls(fake_keep_cert(steward_ca)))
    with pytest.raises(RegistryError) as info:
        keep.publish("alice", "secret", "2.0.0", package_files())
    assert info.value.status == 401


@pytest.fixture
def signer() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def signed_repo(registry: Registry, make_client: ClientFactory, signer: ec.EllipticCurvePrivateKey) -> Any:
    alice = make_client(add_user_token(registry, "sub-alice"))
    alice.register_user("alice", "sub-alice")
    alice.register_repo("alice", "signed", RepoConfig(True, True, (public_jwk(signer.public_key()),)))
    return alice


def test_signed_tag_round_trip_names_the_signer(signed_repo: Any, signer: ec.EllipticCurvePrivateKey) -> None:
    jwk = public_jwk(signer.public_key())
    tree = signed_repo.publish("alice", "signed", "1.0.0", package_files(), signing_key=signer)
    fetched = fetch_package(signed_repo, "/alice/signed/_tag/1.0.0",
                            TrustPolicy(pin=tree.sha256, trusted_keys=(jwk,), require_signed=True))
    assert fetched.signer == thumbprint(jwk)
    assert signed_repo.tag("alice", "signed", "1.0.0").signed


def test_repo_requiring_signatures_refuses_unsigned_and_foreign_signatures(
    signed_repo: Any, registry: Registry
) -> None:
    with pytest.raises(RegistryError) as info:
        signed_repo.publish("alice", "signed", "1.0.0", package_files())
    assert (info.value.status, "requires signed tags" in str(info.value)) == (403, True)
    with pytest.raises(RegistryError) as info:
        signed_repo.publish("alice", "signed", "1.0.0", package_files(),
                            signing_key=ec.generate_private_key(ec.SECP256R1()))
    assert (info.value.status, "no signature verifies" in str(info.value)) == (403, True)
    assert registry.meta.tag("alice", "signed", "1.0.0") is None


def test_client_refuses_signed_tags_it_cannot_check_and_unsigned_when_required(
    signed_repo: Any, signer: ec.EllipticCurvePrivateKey
) -> None:
    signed_repo.publish("alice", "signed", "1.0.0", package_files(), signing_key=signer)
    other = public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(VerificationError, match="no trusted signer"):
        fetch_package(signed_repo, "/alice/signed/_tag/1.0.0", TrustPolicy())
    with pytest.raises(VerificationError, match="no signature verifies"):
        fetch_package(signed_repo, "/alice/signed/_tag/1.0.0", TrustPolicy(trusted_keys=(other,)))
    signed_repo.register_repo("alice", "hello", RepoConfig(public=True))
    signed_repo.publish("alice", "hello", "1.0.0", package_files())
    with pytest.raises(VerificationError, match="not signed"):
        fetch_package(signed_repo, "/alice/hello/_tag/1.0.0", TrustPolicy(require_signed=True))


def test_a_jws_over_another_entry_does_not_verify(signer: ec.EllipticCurvePrivateKey) -> None:
    import json

    from enarx.registry.signing import verify_jws

    jws = json.loads(sign_entry(b'{"digest":{},"length":1,"type":"x"}', signer))
    jws["payload"] = jws["payload"][:-2] + "AA"
    with pytest.raises(RegistryError, match="no signature verifies"):
        verify_jws(json.dumps(jws).encode(), [public_jwk(signer.public_key())])


def test_a_real_steward_workload_certificate_reads_private_repos(tmp_path: Path) -> None:
    """The Steward's own CA (root -> issuing CA -> Keep leaf). TLS hands the app only the leaf,
    so the configured bundle holds the root and the issuing CA, as `--steward-ca ca-bundle.pem`."""
    from datetime import timedelta as td

    from cryptography import x509

    from enarx.identity.san import WorkloadNames
    from enarx.registry.auth import Authenticator
    from enarx.registry.meta import MetaStore
    from enarx.steward.ca import init_ca, issue_workload_certificate

    ca = init_ca(tmp_path / "ca", now=NOW - td(days=1), test=True)
    keep_key = ec.generate_private_key(ec.SECP256R1())
    leaf = issue_workload_certificate(
        ca, public_key=keep_key.public_key(), subject=x509.Name([]),
        names=WorkloadNames("enarx.test", ("hello",), b"\1" * 32, b"\2" * 32), copy_extensions=(), now=NOW,
        validity=td(hours=1), crl_url=None,
    )
    der = leaf.public_bytes(serialization.Encoding.DER)
    meta = MetaStore(str(tmp_path / "m.sqlite3"))
    try:
        auth = Authenticator(meta, steward_roots=[ca.root, ca.certificate])
        assert auth.keep([der], NOW).keep_certificate == leaf
        with pytest.raises(RegistryError):  # one second after the leaf expired (NOW + 1 h)
            auth.keep([der], NOW + td(hours=1, seconds=1))
        assert Authenticator(meta, steward_roots=[]).keep([der], NOW).keep_certificate is None
    finally:
        meta.close()
