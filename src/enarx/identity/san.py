"""Names a workload certificate carries, so stock TLS clients can check them by hostname.

Grammar (docs/identity.md)::

    <app>.app.<trust-domain>        the application name from the Steward's policy
    <b32>.adig.<trust-domain>       the application digest
    <b32>.ddig.<trust-domain>       the deployment digest
    spiffe://<trust-domain>/app/<app>   the SPIFFE ID (URI SAN)

``<b32>`` is a SHA-256 in lowercase RFC 4648 base32 without padding: 52 characters, which
fits a 63-character DNS label. ``<app>`` is one lowercase DNS label (RFC 1123). The trust
domain is a lowercase DNS name of such labels.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from cryptography import x509

from enarx.identity.errors import IdentityError

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_B32 = re.compile(r"[a-z2-7]{52}")
DIGEST_LEN = 32
B32_LEN = 52
# Test Stewards issue under this trust domain only (DESIGN.md section 2).
TEST_TRUST_DOMAIN = "enarx.test"

NameKind = Literal["app", "adig", "ddig"]


def validate_app_name(name: str) -> str:
    """Return ``name`` if it is a valid application name (one lowercase DNS label)."""
    if not isinstance(name, str) or not _LABEL.fullmatch(name):
        raise IdentityError(
            "identity.app_name",
            f"application name {name!r} is not a DNS label: 1-63 of a-z, 0-9 and '-', "
            "not starting or ending with '-'",
            field="app", expected="[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", got=name,
        )
    return name


def validate_trust_domain(domain: str) -> str:
    """Return ``domain`` if it is a lowercase DNS name of valid labels, at most 253 characters."""
    labels = domain.split(".") if isinstance(domain, str) else []
    if not labels or len(domain) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise IdentityError(
            "identity.trust_domain", f"trust domain {domain!r} is not a lowercase DNS name",
            field="trust_domain", expected="e.g. steward.example", got=domain,
        )
    return domain


def b32(digest: bytes) -> str:
    """A SHA-256 digest as 52 lowercase base32 characters without padding."""
    if len(digest) != DIGEST_LEN:
        raise IdentityError(
            "identity.digest", f"digest is {len(digest)} bytes, expected {DIGEST_LEN} (sha-256)",
            field="digest", expected=DIGEST_LEN, got=len(digest),
        )
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


def unb32(text: str) -> bytes:
    if not _B32.fullmatch(text):
        raise IdentityError(
            "identity.digest", f"{text!r} is not 52 lowercase base32 characters",
            field="digest", expected="[a-z2-7]{52}", got=text,
        )
    return base64.b32decode(text.upper() + "====")


def app_dns_name(app: str, trust_domain: str) -> str:
    return f"{validate_app_name(app)}.app.{validate_trust_domain(trust_domain)}"


def adig_dns_name(app_digest: bytes, trust_domain: str) -> str:
    return f"{b32(app_digest)}.adig.{validate_trust_domain(trust_domain)}"


def ddig_dns_name(deploy_digest: bytes, trust_domain: str) -> str:
    return f"{b32(deploy_digest)}.ddig.{validate_trust_domain(trust_domain)}"


def spiffe_id(app: str, trust_domain: str) -> str:
    return f"spiffe://{validate_trust_domain(trust_domain)}/app/{validate_app_name(app)}"


@dataclass(frozen=True)
class ParsedName:
    """One of our DNS names taken apart: the kind, the app name or the digest."""

    kind: NameKind
    app: str | None = None
    digest: bytes | None = None


def parse_dns_name(name: str, trust_domain: str) -> ParsedName | None:
    """Parse one of our DNS names under ``trust_domain``; ``None`` if it is not one of ours.

    Raises :class:`IdentityError` for a name under ``trust_domain`` with a known kind whose
    first label is invalid (a malformed name is an error, not a foreign one).
    """
    suffix = "." + validate_trust_domain(trust_domain)
    if not name.endswith(suffix):
        return None
    head = name[: -len(suffix)]
    label, dot, kind = head.rpartition(".")
    if not dot or "." in label:
        return None
    if kind == "app":
        return ParsedName(kind="app", app=validate_app_name(label))
    if kind in ("adig", "ddig"):
        return ParsedName(kind=kind, digest=unb32(label))  # type: ignore[arg-type]
    return None


def parse_spiffe_id(uri: str, trust_domain: str) -> str | None:
    """The app name of ``spiffe://<td>/app/<app>``; ``None`` if the URI is not one of ours."""
    prefix = f"spiffe://{validate_trust_domain(trust_domain)}/app/"
    if not uri.startswith(prefix):
        return None
    return validate_app_name(uri[len(prefix):])


@dataclass(frozen=True)
class WorkloadNames:
    """Everything a certificate says about the workload, in our grammar."""

    trust_domain: str
    apps: tuple[str, ...] = ()
    application_digest: bytes | None = None
    deployment_digest: bytes | None = None

    def dns_names(self) -> list[str]:
        out = [app_dns_name(app, self.trust_domain) for app in self.apps]
        if self.application_digest is not None:
            out.append(adig_dns_name(self.application_digest, self.trust_domain))
        if self.deployment_digest is not None:
            out.append(ddig_dns_name(self.deployment_digest, self.trust_domain))
        return out

    def uris(self) -> list[str]:
        return [spiffe_id(app, self.trust_domain) for app in self.apps]

    def general_names(self) -> list[x509.GeneralName]:
        names: list[x509.GeneralName] = [x509.DNSName(n) for n in self.dns_names()]
        names.extend(x509.UniformResourceIdentifier(u) for u in self.uris())
        return names

    @classmethod
    def from_general_names(cls, names: Iterable[x509.GeneralName], trust_domain: str) -> WorkloadNames:
        """Read our names back; foreign names are ignored, a second digest of a kind is an error."""
        apps: list[str] = []
        adig: bytes | None = None
        ddig: bytes | None = None
        for general in names:
            if isinstance(general, x509.DNSName):
                parsed = parse_dns_name(general.value, trust_domain)
                if parsed is None:
                    continue
                if parsed.kind == "app" and parsed.app is not None:
                    if parsed.app not in apps:
                        apps.append(parsed.app)
                elif parsed.kind == "adig":
                    adig = _single(adig, parsed.digest, "adig")
                elif parsed.kind == "ddig":
                    ddig = _single(ddig, parsed.digest, "ddig")
            elif isinstance(general, x509.UniformResourceIdentifier):
                app = parse_spiffe_id(general.value, trust_domain)
                if app is not None and app not in apps:
                    apps.append(app)
        return cls(trust_domain=trust_domain, apps=tuple(apps), application_digest=adig, deployment_digest=ddig)


def _single(current: bytes | None, new: bytes | None, kind: str) -> bytes | None:
    if current is not None and current != new:
        raise IdentityError(
            "identity.san_conflict", f"certificate names two different {kind} digests", field=kind,
        )
    return new
