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

from enarx.attestation import der
from enarx.keep.backends.base import BackendError

#: A cache file holds a few CRLs or a TCB info document and two certificates: kilobytes. A much
#: larger file is not a cache file and is refused before decoding.
MAX_CACHE_FILE: Final = 1 << 20
HINT_UPDATE: Final = "run `enarx platform update` on the host and share its cache with the Keep"

CrlEntries = tuple[tuple[str, x509.CertificateRevocationList], ...]


def _malformed(what: str, detail: str) -> BackendError:
    return BackendError(f"cache file {what} is malformed: {detail}", code="cache.malformed", hint=HINT_UPDATE)


def _check_size(data: bytes, what: str) -> None:
    if len(data) > MAX_CACHE_FILE:
        raise _malformed(what, f"{len(data)} bytes, more than {MAX_CACHE_FILE}")


def decode_crl_list(data: bytes, what: str = "crls.der") -> CrlEntries:
    _check_size(data, what)
    try:
        reader = der.Reader(bytes(data))
        raw = der.read_crl_list(reader)
        reader.done()
    except (ValueError, UnicodeError) as exc:  # DerError is a ValueError
        raise _malformed(what, f"not DER: {exc}") from None
    out: list[tuple[str, x509.CertificateRevocationList]] = []
    for i, (url, crl_der) in enumerate(raw):
        try:
            crl = x509.load_der_x509_crl(crl_der)
            crl.issuer  # noqa: B018 - cryptography parses lazily: fail here, not in the verifier
        except (ValueError, TypeError, x509.InvalidVersion) as exc:
            raise _malformed(what, f"crls[{i}] ({url}) is not a DER CRL: {exc}") from None
        out.append((url, crl))
    return tuple(out)


def encode_crl_list(entries: Sequence[tuple[str, x509.CertificateRevocationList]]) -> bytes:
    return der.encode_crl_list((url, crl.public_bytes(Encoding.DER)) for url, crl in entries)


def decode_tcb_package(data: bytes, what: str = "tcb.der") -> tuple[tuple[x509.Certificate, ...], bytes]:
    """The TCB signing chain (leaf first) and the TCB info JSON, exactly as served."""
    _check_size(data, what)
    try:
        reader = der.Reader(bytes(data))
        cert_ders, report = der.read_tcb_package(reader)
        reader.done()
    except ValueError as exc:  # DerError
        raise _malformed(what, f"not DER: {exc}") from None
    chain: list[x509.Certificate] = []
    for i, cert_der in enumerate(cert_ders):
        try:
            cert = x509.load_der_x509_certificate(cert_der)
            cert.subject  # noqa: B018 - parse now
        except (ValueError, TypeError, x509.InvalidVersion) as exc:
            raise _malformed(what, f"crts[{i}] is not a DER certificate: {exc}") from None
        chain.append(cert)
    return tuple(chain), report


def encode_tcb_package(chain: Sequence[x509.Certificate], tcb_info: bytes) -> bytes:
    return der.encode_tcb_package((c.public_bytes(Encoding.DER) for c in chain), bytes(tcb_info))
