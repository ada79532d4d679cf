"""The DER files of the host's vendor cache, as Enarx writes them (bytes in, bytes out).

Enarx's ``enarx platform {snp,sgx} cache-*`` store pre-encoded DER that its Keeps embed in
their evidence verbatim (steward.md §A3):

    CrlList      ::= SEQUENCE { crls SEQUENCE OF CrlListEntry }     -- crls.der
    CrlListEntry ::= SEQUENCE { url UTF8String, crl CertificateList }
    TcbPackage   ::= SEQUENCE { crts SEQUENCE OF Certificate,        -- tcb.der, Intel only:
                                report OCTET STRING }                --   TCB info JSON as served

The same shapes appear inside Enarx's SNP and SGX evidence, so a cache written by Rust Enarx
works here and the reverse. No I/O: :mod:`.hostcache` reads the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyasn1.codec.der import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import char, namedtype, univ

from enarx.keep.backends.base import BackendError

#: A cache file holds a few CRLs or a TCB info document and two certificates: kilobytes. A much
#: larger file is not a cache file and is refused before decoding.
MAX_CACHE_FILE: Final = 1 << 20
HINT_UPDATE: Final = "run `enarx platform update` on the host and share its cache with the Keep"


class _CrlListEntry(univ.Sequence):  # type: ignore[misc]  # pyasn1 is untyped
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("url", char.UTF8String()),
        namedtype.NamedType("crl", univ.Any()),
    )


class _CrlEntries(univ.SequenceOf):  # type: ignore[misc]
    componentType = _CrlListEntry()


class _CrlList(univ.Sequence):  # type: ignore[misc]
    componentType = namedtype.NamedTypes(namedtype.NamedType("crls", _CrlEntries()))


class _Certificates(univ.SequenceOf):  # type: ignore[misc]
    componentType = univ.Any()


class _TcbPackage(univ.Sequence):  # type: ignore[misc]
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("crts", _Certificates()),
        namedtype.NamedType("report", univ.OctetString()),
    )


CrlEntries = tuple[tuple[str, x509.CertificateRevocationList], ...]


def _malformed(what: str, detail: str) -> BackendError:
    return BackendError(f"cache file {what} is malformed: {detail}", code="cache.malformed", hint=HINT_UPDATE)


def _decode(data: bytes, spec: object, what: str) -> object:
    if len(data) > MAX_CACHE_FILE:
        raise _malformed(what, f"{len(data)} bytes, more than {MAX_CACHE_FILE}")
    try:
        value, rest = decoder.decode(bytes(data), asn1Spec=spec)
    except (PyAsn1Error, ValueError, TypeError, IndexError) as exc:
        raise _malformed(what, f"not DER: {exc}") from None
    if rest:
        raise _malformed(what, f"{len(rest)} bytes after the DER value")
    return value


def decode_crl_list(data: bytes, what: str = "crls.der") -> CrlEntries:
    value: object = _decode(data, _CrlList(), what)
    out: list[tuple[str, x509.CertificateRevocationList]] = []
    try:
        for i, entry in enumerate(value["crls"]):  # type: ignore[index]
            url = str(entry["url"])
            try:
                crl = x509.load_der_x509_crl(bytes(entry["crl"]))
                crl.issuer  # noqa: B018 - cryptography parses lazily: fail here, not in the verifier
            except (ValueError, TypeError, x509.InvalidVersion) as exc:
                raise _malformed(what, f"crls[{i}] ({url}) is not a DER CRL: {exc}") from None
            out.append((url, crl))
    except (PyAsn1Error, UnicodeError) as exc:
        raise _malformed(what, str(exc)) from None
    return tuple(out)


def encode_crl_list(entries: Sequence[tuple[str, x509.CertificateRevocationList]]) -> bytes:
    value = _CrlList()
    crls = value["crls"]
    for url, crl in entries:
        entry = _CrlListEntry()
        entry["url"] = url
        entry["crl"] = univ.Any(crl.public_bytes(Encoding.DER))
        crls.append(entry)
    return bytes(encoder.encode(value))


def decode_tcb_package(data: bytes, what: str = "tcb.der") -> tuple[tuple[x509.Certificate, ...], bytes]:
    """The TCB signing chain (leaf first) and the TCB info JSON, exactly as served."""
    value: object = _decode(data, _TcbPackage(), what)
    chain: list[x509.Certificate] = []
    for i, item in enumerate(value["crts"]):  # type: ignore[index]
        try:
            cert = x509.load_der_x509_certificate(bytes(item))
            cert.subject  # noqa: B018 - parse now
        except (ValueError, TypeError, x509.InvalidVersion) as exc:
            raise _malformed(what, f"crts[{i}] is not a DER certificate: {exc}") from None
        chain.append(cert)
    return tuple(chain), bytes(value["report"])  # type: ignore[index]


def encode_tcb_package(chain: Sequence[x509.Certificate], tcb_info: bytes) -> bytes:
    value = _TcbPackage()
    value["crts"].extend([univ.Any(c.public_bytes(Encoding.DER)) for c in chain])
    value["report"] = bytes(tcb_info)
    return bytes(encoder.encode(value))
