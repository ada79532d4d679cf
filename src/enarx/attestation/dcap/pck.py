"""The Intel SGX extensions of a PCK certificate (OID 1.2.840.113741.1.13.1).

The PCK certificate says which platform it certifies and at which TCB: FMSPC, PCE-ID, the 16
TCB component SVNs, PCESVN and the raw CPUSVN. TCB evaluation compares *these* values, which
Intel's PCK CA vouches for, with the TCB info levels. Decoded with pyasn1 (never hand-rolled
DER).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from cryptography import x509
from pyasn1.codec.der import decoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import namedtype, univ

from enarx.attestation.errors import MalformedEvidence

OID_SGX_EXTENSIONS: Final = x509.ObjectIdentifier("1.2.840.113741.1.13.1")
_ARC: Final = "1.2.840.113741.1.13.1"
_PPID: Final = f"{_ARC}.1"
_TCB: Final = f"{_ARC}.2"
_PCE_ID: Final = f"{_ARC}.3"
_FMSPC: Final = f"{_ARC}.4"
_SGX_TYPE: Final = f"{_ARC}.5"
_PCESVN: Final = f"{_TCB}.17"
_CPUSVN: Final = f"{_TCB}.18"


class _Item(univ.Sequence):  # type: ignore[misc]
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("id", univ.ObjectIdentifier()),
        namedtype.NamedType("value", univ.Any()),
    )


class _Items(univ.SequenceOf):  # type: ignore[misc]
    componentType = _Item()


@dataclass(frozen=True)
class PckExtensions:
    ppid: bytes
    tcb_components: tuple[int, ...]  # 16 SVNs
    pce_svn: int
    cpu_svn: bytes
    pce_id: bytes
    fmspc: bytes
    sgx_type: int  # 0 Standard, 1 Scalable, 2 Scalable with integrity


def _bad(field: str, expected: object, got: object) -> MalformedEvidence:
    return MalformedEvidence(
        "dcap.pck.extension",
        f"PCK certificate SGX extension {field} is {got!r}, expected {expected}",
        field=f"pck.sgx_extensions.{field}",
        expected=expected,
        got=got,
    )


def _items(der: bytes, field: str) -> dict[str, bytes]:
    try:
        decoded, rest = decoder.decode(der, asn1Spec=_Items())
    except PyAsn1Error as exc:
        raise _bad(field, "a DER SEQUENCE OF {OID, value}", f"undecodable ({exc})") from None
    if rest:
        raise _bad(field, "no trailing bytes", f"{len(rest)} bytes")
    out: dict[str, bytes] = {}
    for item in decoded:
        oid = str(item["id"])
        if oid in out:
            raise _bad(field, "each OID once", oid)
        out[oid] = bytes(item["value"])
    return out


def _value(items: dict[str, bytes], oid: str, spec: Any, field: str) -> Any:
    if oid not in items:
        raise _bad(field, "present", "missing")
    try:
        decoded, rest = decoder.decode(items[oid], asn1Spec=spec)
    except PyAsn1Error as exc:
        raise _bad(field, type(spec).__name__, f"undecodable ({exc})") from None
    if rest:
        raise _bad(field, "no trailing bytes", f"{len(rest)} bytes")
    return decoded


def _int(items: dict[str, bytes], oid: str, field: str, limit: int) -> int:
    value = int(_value(items, oid, univ.Integer(), field))
    if not 0 <= value <= limit:
        raise _bad(field, f"0..{limit}", value)
    return value


def _octets(items: dict[str, bytes], oid: str, field: str, size: int) -> bytes:
    value = bytes(_value(items, oid, univ.OctetString(), field))
    if len(value) != size:
        raise _bad(field, f"{size} bytes", f"{len(value)} bytes")
    return value


def parse_pck_extensions(cert: x509.Certificate) -> PckExtensions:
    """The SGX extensions of a PCK certificate; missing or malformed ones are refused."""
    try:
        ext = cert.extensions.get_extension_for_oid(OID_SGX_EXTENSIONS)
    except x509.ExtensionNotFound:
        raise _bad("(extension)", "present", "missing") from None
    except ValueError as exc:  # duplicate or malformed extensions
        raise _bad("(extension)", "well-formed extensions", str(exc)) from None
    value = ext.value
    if not isinstance(value, x509.UnrecognizedExtension):
        raise _bad("(extension)", "an unrecognised extension", type(value).__name__)
    top = _items(value.value, "(extension)")
    if _TCB not in top:
        raise _bad("tcb", "present", "missing")
    tcb = _items(top[_TCB], "tcb")
    return PckExtensions(
        ppid=_octets(top, _PPID, "ppid", 16),
        tcb_components=tuple(_int(tcb, f"{_TCB}.{i}", f"tcb.comp{i:02d}svn", 0xFF) for i in range(1, 17)),
        pce_svn=_int(tcb, _PCESVN, "tcb.pcesvn", 0xFFFF),
        cpu_svn=_octets(tcb, _CPUSVN, "tcb.cpusvn", 16),
        pce_id=_octets(top, _PCE_ID, "pce_id", 2),
        fmspc=_octets(top, _FMSPC, "fmspc", 6),
        sgx_type=int(_value(top, _SGX_TYPE, univ.Enumerated(), "sgx_type")),
    )
