"""The Keep's attested identity: key, evidence, claims, CSR, certificate, TLS contexts.

Every run makes a fresh key inside the Keep, binds it into the backend's evidence, and
asks the Steward for a certificate naming the workload (DESIGN.md section 2). The key and
the chain live in memory only: TLS contexts load them through an anonymous memory file
(``memfd``), never a path on disk.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from enarx._log import get_logger
from enarx.attestation.errors import AttestationError
from enarx.config.effective import EffectiveConfig
from enarx.errors import EnarxError
from enarx.identity.claims import Claims
from enarx.identity.digests import application_digest, deployment_digest
from enarx.identity.errors import IdentityError
from enarx.identity.peer import verify_peer
from enarx.identity.san import app_dns_name
from enarx.keep.backends.base import Backend
from enarx.keep.csr import build_csr, generate_key, report_data
from enarx.keep.modes import InsecureDeployment, evidence_shows_debug
from enarx.keep.steward_client import Attester
from enarx.wasi.tls import PeerCheck, PeerRefused

log = get_logger("enarx.keep")

SPIFFE_PREFIX = "spiffe://"


class IdentityUnavailable(EnarxError):
    code = "keep.identity"


@dataclass(frozen=True)
class KeepIdentity:
    key: ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...]  # leaf first, as the Keep presents it
    anchors: tuple[x509.Certificate, ...]  # what peers must chain to: the Steward's root, ca files
    claims: Claims
    allow_insecure_peers: frozenset[str]  # insecure reasons accepted from peers (test/unsafe runs)

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def trust_domain(self) -> str | None:
        """From the Keep's own SPIFFE ID: the trust domain its Steward issues under."""
        try:
            san = self.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return None
        for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
            if uri.startswith(SPIFFE_PREFIX):
                return uri[len(SPIFFE_PREFIX):].split("/", 1)[0]
        return None

    def names(self) -> list[str]:
        try:
            san = self.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return []
        return [*san.get_values_for_type(x509.DNSName), *san.get_values_for_type(x509.UniformResourceIdentifier)]

    # -- TLS -------------------------------------------------------------------------------
    def _load_chain(self, context: ssl.SSLContext) -> None:
        pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain[:-1] or self.chain)
        key = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.memfd_create("enarx-keep-identity", os.MFD_CLOEXEC)
        try:
            os.write(fd, pem + key)
            context.load_cert_chain(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)

    def _anchors_pem(self) -> str:
        return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in self.anchors)

    def server_context(self, client_auth: str) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_3  # as Enarx: TLS 1.3 only
        self._load_chain(context)
        if client_auth != "none":
            context.verify_mode = ssl.CERT_REQUIRED if client_auth == "require" else ssl.CERT_OPTIONAL
            context.load_verify_locations(cadata=self._anchors_pem())
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.load_verify_locations(cadata=self._anchors_pem())
        self._load_chain(context)  # presented when a listener asks for client certificates
        return context

    def peer_check(self, apps: Collection[str], *, role: str) -> PeerCheck:
        """A check that the peer's certificate names one of ``apps``, under our trust domain."""
        trust_domain = self.trust_domain
        intermediates = list(self.chain[1:-1] or self.chain[1:])

        def check(der: bytes | None) -> None:
            if der is None:
                raise PeerRefused("the peer presented no certificate")
            if trust_domain is None:
                raise PeerRefused("this Keep's certificate names no trust domain to check peers under")
            leaf = x509.load_der_x509_certificate(der)
            reasons = []
            for app in apps:
                try:
                    verify_peer(
                        leaf, intermediates, trust_anchors=list(self.anchors), trust_domain=trust_domain,
                        app=app, now=datetime.now(UTC), role="server" if role == "server" else "client",
                        allow_insecure=self.allow_insecure_peers,
                    )
                    return
                except IdentityError as exc:
                    reasons.append(exc.message)
            raise PeerRefused("; ".join(reasons) or "no application allowed")

        return check

    def server_hostname(self, peer: str) -> str:
        if self.trust_domain is None:
            raise IdentityUnavailable("this Keep's certificate names no trust domain, so it cannot name a peer")
        return app_dns_name(peer, self.trust_domain)


def establish_identity(
    *,
    backend: Backend,
    wasm: bytes,
    config: EffectiveConfig,
    reasons: Sequence[str],
    attester: Attester,
    extra_anchors: Sequence[Path] = (),
    slug: str | None = None,
    signer: bytes | None = None,
    allow_insecure_peers: Collection[str] = (),
    package_files: Mapping[str, bytes] | None = None,
    secure: bool = False,
) -> KeepIdentity:
    """Key -> evidence -> claims -> CSR -> Steward -> :class:`KeepIdentity`.

    A TEE whose evidence shows its debug policy on adds ``tee-debug`` to the claims' insecure
    reasons; a ``secure`` run refuses it (:class:`InsecureDeployment`) before anything is sent.
    """
    key = generate_key(backend.key_curve)
    evidence = backend.evidence(report_data(key))
    try:
        debug = evidence_shows_debug(evidence.oid, evidence.value)
    except (AttestationError, ValueError) as exc:
        raise IdentityUnavailable(f"the {backend.name} backend's evidence does not parse: {exc}") from None
    if debug:
        if secure:
            raise InsecureDeployment(["tee-debug"])
        reasons = [*reasons, "tee-debug"]
    files = dict(package_files) if package_files is not None else {"main.wasm": wasm}
    if files.get("main.wasm") != wasm:
        raise IdentityUnavailable("the package's main.wasm is not the module being run")
    app_digest = application_digest(files)
    requested = (config.app,) if config.app else ()
    claims = Claims(
        application_digest=app_digest,
        deployment_digest=deployment_digest(app_digest, config.document),
        slug=slug,
        signer=signer,
        insecure=frozenset(reasons),
        apps=requested,
    )
    csr = build_csr(key, evidence_oid=evidence.oid, evidence=evidence.value, claims=claims, trust_domain=None)
    chain = attester(csr)
    leaf = chain[0]
    if leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise IdentityUnavailable("the Steward's certificate is not for this Keep's key")
    anchors = [chain[-1]] if len(chain) > 1 else []
    for path in extra_anchors:
        try:
            anchors += x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise IdentityUnavailable(f"cannot read trust anchors from {path}: {exc}") from None
    identity = KeepIdentity(
        key=key, chain=tuple(chain), anchors=tuple(anchors), claims=claims,
        allow_insecure_peers=frozenset(allow_insecure_peers),
    )
    log.info("Keep certified as %s", ", ".join(identity.names()) or "(no names)")
    return identity
