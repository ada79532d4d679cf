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
from pyasn1.codec.der import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import namedtype, univ

from enarx.steward.errors import StewardError

MEDIA_PKCS10 = "application/pkcs10"
MEDIA_BUNDLE = "application/vnd.steward.pkcs10-bundle.v1"


class _DerList(univ.SequenceOf):  # type: ignore[misc]
    componentType = univ.Any()


class _Output(univ.Sequence):  # type: ignore[misc]
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("chain", _DerList()),
        namedtype.NamedType("issued", _DerList()),
    )


def _list(items: Sequence[bytes]) -> _DerList:
    seq = _DerList()
    for i, der in enumerate(items):
        seq[i] = univ.Any(der)
    return seq


def encode_pkipath(certificates: Sequence[x509.Certificate]) -> bytes:
    """DER ``SEQUENCE OF Certificate`` in the given order (pass CA first)."""
    return bytes(encoder.encode(_list([c.public_bytes(Encoding.DER) for c in certificates])))


def decode_pkipath(data: bytes) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(der) for der in _decode_list(data, "certificates")]


def encode_bundle_output(chain: Sequence[x509.Certificate], issued: Sequence[x509.Certificate]) -> bytes:
    out = _Output()
    out["chain"] = _list([c.public_bytes(Encoding.DER) for c in chain])
    out["issued"] = _list([c.public_bytes(Encoding.DER) for c in issued])
    return bytes(encoder.encode(out))


def decode_bundle_output(data: bytes) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    value, rest = decoder.decode(data, asn1Spec=_Output())
    if rest:
        raise ValueError("trailing bytes after bundle output")
    return (
        [x509.load_der_x509_certificate(bytes(v)) for v in value["chain"]],
        [x509.load_der_x509_certificate(bytes(v)) for v in value["issued"]],
    )


def encode_bundle_request(csrs: Sequence[bytes]) -> bytes:
    return bytes(encoder.encode(_list(csrs)))


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
        value, rest = decoder.decode(data, asn1Spec=_DerList())
    except (PyAsn1Error, ValueError, TypeError) as exc:
        raise StewardError("request.der", f"body is not a DER SEQUENCE OF {what}: {exc}", field="body") from exc
    if rest:
        raise StewardError("request.der", f"{len(rest)} trailing bytes after the DER SEQUENCE", field="body")
    return [bytes(v) for v in value]
