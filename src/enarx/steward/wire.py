"""Enarx's Steward wire formats, byte-compatible (steward ``crates/server/src/lib.rs``).

* response to ``application/pkcs10``: DER ``SEQUENCE OF Certificate``, CA first (a PkiPath);
* ``application/vnd.steward.pkcs10-bundle.v1`` request: DER ``SEQUENCE OF CertificationRequest``;
  response: ``SEQUENCE { chain SEQUENCE OF Certificate, issued SEQUENCE OF Certificate }``.

Elements are carried as already-encoded DER (``Any``), so certificates and CSRs pass through
byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from enarx.attestation import der
from enarx.steward.errors import StewardError

MEDIA_PKCS10 = "application/pkcs10"
MEDIA_BUNDLE = "application/vnd.steward.pkcs10-bundle.v1"


def encode_pkipath(certificates: Sequence[x509.Certificate]) -> bytes:
    """DER ``SEQUENCE OF Certificate`` in the given order (pass CA first)."""
    return pkipath_of_der([c.public_bytes(Encoding.DER) for c in certificates])


def pkipath_of_der(certificates: Sequence[bytes]) -> bytes:
    """:func:`encode_pkipath` of certificates already in DER (a server keeps its chain's)."""
    return der.encode_sequence(certificates)


def decode_pkipath(data: bytes) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(der) for der in _decode_list(data, "certificates")]


def encode_bundle_output(chain: Sequence[x509.Certificate], issued: Sequence[x509.Certificate]) -> bytes:
    return der.encode_sequence(
        (der.encode_sequence(c.public_bytes(Encoding.DER) for c in chain),
         der.encode_sequence(c.public_bytes(Encoding.DER) for c in issued))
    )


def decode_bundle_output(data: bytes) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    outer = der.Reader(data)
    body = outer.sequence()
    outer.done()
    chain, issued = body.sequence().elements(), body.sequence().elements()
    body.done()
    return [x509.load_der_x509_certificate(c) for c in chain], [x509.load_der_x509_certificate(c) for c in issued]


def encode_bundle_request(csrs: Sequence[bytes]) -> bytes:
    return der.encode_sequence(csrs)


def decode_bundle_request(data: bytes, *, limit: int) -> list[bytes]:
    """The DER of each CSR in a bundle; at least one, at most ``limit``."""
    items = _decode_list(data, "CSRs")
    if not items:
        raise StewardError("request.bundle_empty", "the bundle holds no CSR", field="body")
    if len(items) > limit:
        raise StewardError(
            "request.bundle_too_large", f"the bundle holds {len(items)} CSRs, limit {limit}",
            status=413, field="body", expected=limit, got=len(items),
        )
    return items


def _decode_list(data: bytes, what: str) -> list[bytes]:
    try:
        outer = der.Reader(bytes(data))
        items = outer.sequence().elements()
        outer.done()
    except ValueError as exc:  # DerError
        raise StewardError("request.der", f"body is not a DER SEQUENCE OF {what}: {exc}", field="body") from exc
    return items
