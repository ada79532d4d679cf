"""Check that a peer's certificate names the application we expect.

Used by a Keep's TLS sockets (``connect`` with ``peer = "..."``, ``listen`` requiring client
certificates) and by any Python relying party. Steps:

1. the chain verifies to one of ``trust_anchors`` at ``now`` for the role (server or client
   auth), by cryptography's RFC 5280 verifier -- for a server, against the hostname
   ``<app>.app.<trust-domain>`` exactly as a stock TLS client would;
2. the certificate names ``app`` by its DNS name, and its SPIFFE ID, when present, names the
   same application (a certificate whose names disagree is refused);
3. the claims extension, when present, carries no insecure reason the caller does not accept
   (a test Steward records them; a production peer must have none).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from enarx.identity.claims import Claims
from enarx.identity.errors import IdentityError
from enarx.identity.san import WorkloadNames, app_dns_name

Role = Literal["server", "client"]


@dataclass(frozen=True)
class PeerIdentity:
    """A verified peer: its names, claims and the verified chain (leaf first)."""

    names: WorkloadNames
    claims: Claims | None
    chain: tuple[x509.Certificate, ...]


def verify_peer(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    *,
    trust_anchors: Sequence[x509.Certificate],
    trust_domain: str,
    app: str,
    now: datetime,
    role: Role = "server",
    allow_insecure: Collection[str] = (),
) -> PeerIdentity:
    """Verify that ``leaf`` is an attested instance of ``app``; raise :class:`IdentityError` if not."""
    if not trust_anchors:
        raise IdentityError("peer.trust_anchor", "no trust anchors given", field="trust_anchors")
    expected_name = app_dns_name(app, trust_domain)
    builder = PolicyBuilder().store(Store(list(trust_anchors))).time(now)
    # 1. Chain, validity, EKU and (for servers) the hostname, as a stock TLS client checks them.
    try:
        if role == "server":
            chain = builder.build_server_verifier(x509.DNSName(expected_name)).verify(leaf, list(intermediates))
        else:
            chain = builder.build_client_verifier().verify(leaf, list(intermediates)).chain
    except VerificationError as exc:
        raise IdentityError(
            "peer.chain", f"peer certificate does not verify as {expected_name}: {exc}",
            field="certificate", expected=expected_name,
        ) from exc
    # 2. Names: the DNS name and the SPIFFE ID must agree on the application.
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as exc:
        raise IdentityError("peer.name", "peer certificate has no subjectAltName", field="subjectAltName") from exc
    names = WorkloadNames.from_general_names(san, trust_domain)
    dns_apps_in_td = {n for n in san.get_values_for_type(x509.DNSName) if n.endswith(f".app.{trust_domain}")}
    if expected_name not in dns_apps_in_td:
        raise IdentityError(
            "peer.name", f"peer certificate does not name {expected_name}", field="subjectAltName",
            expected=expected_name, got=", ".join(sorted(dns_apps_in_td)) or "no application name",
        )
    spiffe_apps = {
        uri.rsplit("/", 1)[-1]
        for uri in san.get_values_for_type(x509.UniformResourceIdentifier)
        if uri.startswith(f"spiffe://{trust_domain}/app/")
    }
    dns_named = {n[: -len(f".app.{trust_domain}")] for n in dns_apps_in_td}
    if spiffe_apps and spiffe_apps != dns_named:
        raise IdentityError(
            "peer.name", "peer certificate's SPIFFE ID and DNS names name different applications",
            field="subjectAltName", expected=", ".join(sorted(dns_named)), got=", ".join(sorted(spiffe_apps)),
        )
    # 3. Insecure reasons recorded by the Steward.
    claims = Claims.from_extensions(leaf.extensions)
    if claims is not None:
        refused = sorted(claims.insecure - set(allow_insecure))
        if refused:
            raise IdentityError(
                "peer.insecure", f"peer {app} runs insecurely: {', '.join(refused)}",
                field="insecure", expected=", ".join(sorted(allow_insecure)) or "none", got=", ".join(refused),
            )
    return PeerIdentity(names=names, claims=claims, chain=tuple(chain))
