"""The claims extension: what the Keep's runtime says it loaded, vouched for by its evidence.

One OID, minted once under ``2.25`` from UUID ``779cbdcf-bfea-4763-b7e0-a0cb02117107``
(:data:`OID_ENARX_CLAIMS`). The extension value (the ``extnValue`` OCTET STRING's contents)
is a DER ``UTF8String`` holding RFC 8785 canonical JSON::

    {"application_digest": "<64 hex>", "apps": ["payments"], "deployment_digest": "<64 hex>",
     "insecure": ["host-stdio"], "signer": "<64 hex>" | null, "slug": "user/repo:1.0.0" | null,
     "version": 1}

JSON rather than an ASN.1 structure because the document is small, readable with
``openssl asn1parse``, and versioned by a field; canonical so that the same claims always
encode to the same bytes (the Steward copies them into the certificate unchanged). Decoding is
strict: unknown keys, a wrong version, bad digests or unknown insecure reasons are errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, cast

import rfc8785
from cryptography import x509
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import char

from enarx.identity.errors import IdentityError
from enarx.identity.san import validate_app_name

OID_ENARX_CLAIMS: Final = x509.ObjectIdentifier("2.25.158991979643376015249196250787677827335")
CLAIMS_VERSION: Final = 1

# The fixed vocabulary of insecure reasons (DESIGN.md section 2), in documentation order.
INSECURE_REASONS: Final[tuple[str, ...]] = (
    "nil-backend",  # no TEE at all: the host can read and change everything
    "host-stdio",  # stdin/stdout/stderr connected to the host
    "host-dirs",  # host directories pre-opened into the Keep
    "raw-tcp",  # plain TCP sockets (prot = "tcp"), readable by the host
    "http-steward",  # the Steward was reached over plain http
    "tee-debug",  # the TEE's debug policy is on: the host can inspect the Keep
)

# Limits on what a CSR may carry: a runtime never needs more, a hostile one gets a 4xx.
MAX_CLAIMS_BYTES: Final = 4096
MAX_APPS: Final = 16
MAX_SLUG_LEN: Final = 255
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEYS = frozenset({"version", "application_digest", "deployment_digest", "slug", "signer", "insecure", "apps"})


@dataclass(frozen=True)
class Claims:
    """What the runtime measured and requests: digests, origin, insecure reasons, app names."""

    application_digest: bytes
    deployment_digest: bytes
    slug: str | None = None
    signer: bytes | None = None  # SHA-256 of the publisher key that signed the package
    insecure: frozenset[str] = frozenset()
    apps: tuple[str, ...] = ()  # application names the Keep asks to be named by

    def __post_init__(self) -> None:
        _check_digest(self.application_digest, "application_digest")
        _check_digest(self.deployment_digest, "deployment_digest")
        if self.signer is not None:
            _check_digest(self.signer, "signer")
        if self.slug is not None and (not self.slug or len(self.slug) > MAX_SLUG_LEN or not self.slug.isprintable()):
            raise IdentityError(
                "claims.slug", f"slug must be 1-{MAX_SLUG_LEN} printable characters", field="slug", got=self.slug,
            )
        unknown = sorted(set(self.insecure) - set(INSECURE_REASONS))
        if unknown:
            raise IdentityError(
                "claims.insecure", f"unknown insecure reason(s) {', '.join(unknown)}",
                field="insecure", expected=", ".join(INSECURE_REASONS), got=", ".join(unknown),
            )
        if len(self.apps) > MAX_APPS or len(set(self.apps)) != len(self.apps):
            raise IdentityError(
                "claims.apps", f"apps must be at most {MAX_APPS} distinct names", field="apps", got=len(self.apps),
            )
        for app in self.apps:
            validate_app_name(app)

    def to_json(self) -> dict[str, object]:
        return {
            "version": CLAIMS_VERSION,
            "application_digest": self.application_digest.hex(),
            "deployment_digest": self.deployment_digest.hex(),
            "slug": self.slug,
            "signer": None if self.signer is None else self.signer.hex(),
            "insecure": sorted(self.insecure),
            "apps": list(self.apps),
        }

    def to_der(self) -> bytes:
        """The extension value: DER UTF8String of the canonical JSON."""
        text = bytes(rfc8785.dumps(cast(Any, self.to_json()))).decode("utf-8")
        return bytes(der_encoder.encode(char.UTF8String(text)))

    def to_extension(self) -> x509.UnrecognizedExtension:
        return x509.UnrecognizedExtension(OID_ENARX_CLAIMS, self.to_der())

    @classmethod
    def from_der(cls, data: bytes) -> Claims:
        if len(data) > MAX_CLAIMS_BYTES:
            raise IdentityError(
                "claims.malformed", f"claims extension is {len(data)} bytes, limit {MAX_CLAIMS_BYTES}",
                field="claims", expected=MAX_CLAIMS_BYTES, got=len(data),
            )
        try:
            value, rest = der_decoder.decode(data, asn1Spec=char.UTF8String())
        except PyAsn1Error as exc:
            raise IdentityError("claims.malformed", f"claims extension is not a DER UTF8String: {exc}", field="claims") from exc
        if rest:
            raise IdentityError("claims.malformed", "trailing bytes after the claims UTF8String", field="claims")
        text = str(value)
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise IdentityError("claims.malformed", f"claims are not JSON: {exc}", field="claims") from exc
        claims = cls.from_json(doc)
        # Canonical form only: the same claims must always be the same bytes.
        if claims.to_der() != data:
            raise IdentityError("claims.malformed", "claims JSON is not in RFC 8785 canonical form", field="claims")
        return claims

    @classmethod
    def from_json(cls, doc: object) -> Claims:
        if not isinstance(doc, dict):
            raise IdentityError("claims.malformed", "claims must be a JSON object", field="claims")
        unknown = sorted(set(doc) - _KEYS)
        if unknown:
            raise IdentityError("claims.malformed", f"unknown claims key(s) {', '.join(unknown)}", field="claims")
        if doc.get("version") != CLAIMS_VERSION:
            raise IdentityError(
                "claims.version", f"claims version {doc.get('version')!r} is not supported",
                field="version", expected=CLAIMS_VERSION, got=doc.get("version"),
            )
        insecure = doc.get("insecure", [])
        apps = doc.get("apps", [])
        slug = doc.get("slug")
        if not isinstance(insecure, list) or not all(isinstance(r, str) for r in insecure):
            raise IdentityError("claims.insecure", "insecure must be a list of strings", field="insecure")
        if not isinstance(apps, list) or not all(isinstance(a, str) for a in apps):
            raise IdentityError("claims.apps", "apps must be a list of strings", field="apps")
        if slug is not None and not isinstance(slug, str):
            raise IdentityError("claims.slug", "slug must be a string or null", field="slug")
        signer = doc.get("signer")
        return cls(
            application_digest=_hex(doc.get("application_digest"), "application_digest"),
            deployment_digest=_hex(doc.get("deployment_digest"), "deployment_digest"),
            slug=slug,
            signer=None if signer is None else _hex(signer, "signer"),
            insecure=frozenset(insecure),
            apps=tuple(apps),
        )

    @classmethod
    def from_extensions(cls, extensions: Iterable[x509.Extension[x509.ExtensionType]]) -> Claims | None:
        """The claims in a certificate's or CSR's extensions, or ``None`` if there are none."""
        found: Claims | None = None
        for ext in extensions:
            if ext.oid != OID_ENARX_CLAIMS:
                continue
            if found is not None:
                raise IdentityError("claims.malformed", "more than one claims extension", field="claims")
            if ext.critical:
                raise IdentityError("claims.critical", "the claims extension must not be critical", field="claims")
            value = ext.value
            if not isinstance(value, x509.UnrecognizedExtension):
                raise IdentityError("claims.malformed", "claims extension has an unexpected type", field="claims")
            found = cls.from_der(value.value)
        return found


def _check_digest(value: bytes, name: str) -> None:
    if not isinstance(value, bytes) or len(value) != 32:
        raise IdentityError(
            f"claims.{name}", f"{name} must be 32 bytes (sha-256)", field=name, expected=32,
            got=len(value) if isinstance(value, bytes) else type(value).__name__,
        )


def _hex(value: object, name: str) -> bytes:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise IdentityError(
            f"claims.{name}", f"{name} must be 64 lowercase hex characters",
            field=name, expected="[0-9a-f]{64}", got=value,
        )
    return bytes.fromhex(value)
