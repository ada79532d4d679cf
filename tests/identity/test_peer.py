"""verify_peer: a peer certificate names the application we expect (chains from a Steward CA)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from enarx.identity import Claims, IdentityError, WorkloadNames, verify_peer
from enarx.steward.ca import CertificateAuthority, init_ca, issue_workload_certificate

NOW = datetime(2026, 1, 1, tzinfo=UTC)
A, D = hashlib.sha256(b"a").digest(), hashlib.sha256(b"d").digest()


@pytest.fixture(scope="module", params=[True, False], ids=["test-ca", "prod-ca"])
def ca(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[CertificateAuthority, str]:
    test = bool(request.param)
    authority = init_ca(Path(tmp_path_factory.mktemp("ca")), now=NOW - timedelta(days=1), test=test)
    return authority, "enarx.test" if test else "steward.example"


def _issue(ca: CertificateAuthority, td: str, apps: tuple[str, ...], *, insecure: frozenset[str] = frozenset(), spiffe_override: str | None = None) -> x509.Certificate:
    names = WorkloadNames(td, apps, A, D)
    claims = Claims(application_digest=A, deployment_digest=D, insecure=insecure, apps=apps)
    cert = issue_workload_certificate(
        ca, public_key=ec.generate_private_key(ec.SECP256R1()).public_key(), subject=x509.Name([]),
        names=names, copy_extensions=[claims.to_extension()], now=NOW, validity=timedelta(hours=24), crl_url=None,
    )
    return cert


@pytest.mark.parametrize("role", ["server", "client"])
def test_accepts_the_named_app(ca: tuple[CertificateAuthority, str], role: str) -> None:
    authority, td = ca
    leaf = _issue(authority, td, ("payments",))
    peer = verify_peer(leaf, [authority.certificate], trust_anchors=[authority.root], trust_domain=td, app="payments", now=NOW, role=role)  # type: ignore[arg-type]
    assert peer.names.apps == ("payments",) and peer.names.application_digest == A
    assert peer.claims is not None and peer.chain[0] == leaf


@pytest.mark.parametrize("role", ["server", "client"])
def test_refuses_another_app(ca: tuple[CertificateAuthority, str], role: str) -> None:
    authority, td = ca
    leaf = _issue(authority, td, ("payments",))
    with pytest.raises(IdentityError) as info:
        verify_peer(leaf, [authority.certificate], trust_anchors=[authority.root], trust_domain=td, app="ledger", now=NOW, role=role)  # type: ignore[arg-type]
    assert info.value.code in ("peer.chain", "peer.name")


def test_refuses_expired_and_untrusted(ca: tuple[CertificateAuthority, str], tmp_path: Path) -> None:
    authority, td = ca
    leaf = _issue(authority, td, ("payments",))
    # The window is NOW-5min .. NOW+24h: one second after it closes, refused.
    with pytest.raises(IdentityError) as info:
        verify_peer(leaf, [authority.certificate], trust_anchors=[authority.root], trust_domain=td, app="payments", now=NOW + timedelta(hours=24, seconds=1))
    assert info.value.code == "peer.chain"
    verify_peer(leaf, [authority.certificate], trust_anchors=[authority.root], trust_domain=td, app="payments", now=NOW + timedelta(hours=24) - timedelta(seconds=1))
    other = init_ca(tmp_path, now=NOW - timedelta(days=1), test=td == "enarx.test")
    with pytest.raises(IdentityError):
        verify_peer(leaf, [authority.certificate], trust_anchors=[other.root], trust_domain=td, app="payments", now=NOW)
    with pytest.raises(IdentityError) as info:
        verify_peer(leaf, [authority.certificate], trust_anchors=[], trust_domain=td, app="payments", now=NOW)
    assert info.value.code == "peer.trust_anchor"


def test_refuses_insecure_unless_accepted(ca: tuple[CertificateAuthority, str]) -> None:
    authority, td = ca
    leaf = _issue(authority, td, ("payments",), insecure=frozenset({"raw-tcp"}))
    with pytest.raises(IdentityError) as info:
        verify_peer(leaf, [authority.certificate], trust_anchors=[authority.root], trust_domain=td, app="payments", now=NOW)
    assert info.value.code == "peer.insecure" and info.value.got == "raw-tcp"
    verify_peer(leaf, [authority.certificate], trust_anchors=[authority.root], trust_domain=td, app="payments", now=NOW, allow_insecure={"raw-tcp"})


def test_test_ca_cannot_name_other_domains(tmp_path: Path) -> None:
    """The test CA is name-constrained to enarx.test: a name outside fails chain validation."""
    test_ca = init_ca(tmp_path, now=NOW - timedelta(days=1), test=True)
    leaf = _issue(test_ca, "steward.example", ("payments",))
    with pytest.raises(IdentityError) as info:
        verify_peer(leaf, [test_ca.certificate], trust_anchors=[test_ca.root], trust_domain="steward.example", app="payments", now=NOW)
    assert info.value.code == "peer.chain"
