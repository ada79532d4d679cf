"""Intel DCAP ECDSA quotes as bytes: SGX quote v3, quotes v4 (SGX or TDX) and v5.

Parsers touch only bytes (go-tdx-guest ``abi``): they check lengths, versions and type tags
and name the field, the value found and the value expected when they refuse. Whether anything
is *signed* is :mod:`enarx.attestation.dcap.verify`'s question.

Layouts (all integers little-endian), from Intel's "SGX ECDSA Quote Library API" and the
TDX DCAP quote spec::

    header        48  version u16, att_key_type u16, tee_type u32 (reserved in v3),
                      qe_svn u16, pce_svn u16 (reserved in TDX), qe_vendor_id 16, user_data 20
    [v5 only]      6  body_type u16 (1 SGX, 2 TD report 1.0, 3 TD report 1.5), body_size u32
    body         384  SGX report body | 584 TD report 1.0 | 648 TD report 1.5
    sig_data_len   4  u32
    sig_data          quote signature 64 (r||s), attestation key 64 (x||y), then
                      v3: QE report 384, QE report signature 64, auth data (u16 len + bytes),
                          certification data (u16 type + u32 len + bytes)
                      v4/v5: certification data type 6 whose bytes are exactly the v3 tail.

The signed region of the quote is the header, the v5 body descriptor and the body.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from enarx.attestation.errors import MalformedEvidence

HEADER_SIZE: Final = 48
SGX_REPORT_BODY_SIZE: Final = 384
TD_REPORT10_SIZE: Final = 584
TD_REPORT15_SIZE: Final = 648
SIGNATURE_SIZE: Final = 64  # ECDSA P-256 r||s, big-endian each
ATTESTATION_KEY_SIZE: Final = 64  # P-256 point x||y without the 0x04 prefix

ATT_KEY_TYPE_ECDSA_P256: Final = 2
TEE_TYPE_SGX: Final = 0x00000000
TEE_TYPE_TDX: Final = 0x00000081
BODY_TYPE_SGX: Final = 1
BODY_TYPE_TD10: Final = 2
BODY_TYPE_TD15: Final = 3
CERT_DATA_PCK_CHAIN: Final = 5  # PEM PCK leaf, intermediate, root
CERT_DATA_QE_REPORT: Final = 6  # QE report certification data wrapping type 5
INTEL_QE_VENDOR_ID: Final = bytes.fromhex("939a7233f79c4ca9940a0db3957f0607")

#: Largest quote accepted: real quotes are ~5 KB; the bound keeps a hostile length field from
#: making us slice megabytes (the PEM chain is the only variable-size part).
MAX_QUOTE_SIZE: Final = 64 * 1024

_BODY_SIZES: Final = {
    BODY_TYPE_SGX: SGX_REPORT_BODY_SIZE,
    BODY_TYPE_TD10: TD_REPORT10_SIZE,
    BODY_TYPE_TD15: TD_REPORT15_SIZE,
}

# Field layouts, in declaration order of the dataclasses below.
_SGX_BODY: Final = struct.Struct("<16sI12s16s16s32s32s32s32s64sHHH42s16s64s")
_TD_BODY: Final = struct.Struct("<16s48s48s8s8s8s48s48s48s48s" + "48s" * 4 + "64s")
_TD_BODY_15: Final = struct.Struct("<16s48s")
assert _SGX_BODY.size == SGX_REPORT_BODY_SIZE and _TD_BODY.size == TD_REPORT10_SIZE
assert _TD_BODY.size + _TD_BODY_15.size == TD_REPORT15_SIZE

SGX_ATTR_DEBUG: Final = 0x02  # attributes.flags bit 1
TD_ATTR_DEBUG: Final = 0x01  # td_attributes bit 0 (TUD.DEBUG)


def _malformed(code: str, field: str, expected: object, got: object) -> MalformedEvidence:
    return MalformedEvidence(
        code, f"{field} is {_show(got)}, expected {_show(expected)}", field=field, expected=expected, got=got
    )


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, int) and not isinstance(value, bool) and value > 9:
        return f"{value} ({value:#x})"
    return str(value)


class _Reader:
    """A cursor over bytes that names the field being read when the input is too short."""

    def __init__(self, data: bytes, where: str) -> None:
        self.data = data
        self.pos = 0
        self.where = where

    def take(self, size: int, field: str) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            raise _malformed(
                "dcap.quote.truncated",
                f"{self.where}.{field}",
                f"{size} bytes at offset {self.pos}",
                f"{len(self.data) - self.pos} bytes left",
            )
        out = self.data[self.pos : end]
        self.pos = end
        return out

    def u16(self, field: str) -> int:
        return int.from_bytes(self.take(2, field), "little")

    def u32(self, field: str) -> int:
        return int.from_bytes(self.take(4, field), "little")

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out


@dataclass(frozen=True)
class QuoteHeader:
    """The 48-byte quote header; ``qe_svn``/``pce_svn`` are reserved (zero) in TDX quotes."""

    version: int
    attestation_key_type: int
    tee_type: int
    qe_svn: int
    pce_svn: int
    qe_vendor_id: bytes
    user_data: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> QuoteHeader:
        if len(data) != HEADER_SIZE:
            raise _malformed("dcap.quote.truncated", "header", f"{HEADER_SIZE} bytes", f"{len(data)} bytes")
        version, key_type, tee_type, qe_svn, pce_svn = struct.unpack_from("<HHIHH", data)
        return cls(version, key_type, tee_type, qe_svn, pce_svn, data[12:28], data[28:48])

    def to_bytes(self) -> bytes:
        return (
            struct.pack("<HHIHH", self.version, self.attestation_key_type, self.tee_type, self.qe_svn, self.pce_svn)
            + self.qe_vendor_id
            + self.user_data
        )


@dataclass(frozen=True)
class SgxReportBody:
    """An SGX REPORT body (384 bytes): the ISV enclave's, or the Quoting Enclave's."""

    cpu_svn: bytes
    misc_select: int
    reserved1: bytes
    isv_ext_prod_id: bytes
    attributes: bytes  # flags u64 || xfrm u64
    mr_enclave: bytes
    reserved2: bytes
    mr_signer: bytes
    reserved3: bytes
    config_id: bytes
    isv_prod_id: int
    isv_svn: int
    config_svn: int
    reserved4: bytes
    isv_family_id: bytes
    report_data: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> SgxReportBody:
        if len(data) != SGX_REPORT_BODY_SIZE:
            raise _malformed(
                "dcap.quote.truncated", "sgx_report_body", f"{SGX_REPORT_BODY_SIZE} bytes", f"{len(data)} bytes"
            )
        # One struct call: this runs for every quote and every QE report.
        return cls(*_SGX_BODY.unpack(data))

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                self.cpu_svn,
                self.misc_select.to_bytes(4, "little"),
                self.reserved1,
                self.isv_ext_prod_id,
                self.attributes,
                self.mr_enclave,
                self.reserved2,
                self.mr_signer,
                self.reserved3,
                self.config_id,
                struct.pack("<HHH", self.isv_prod_id, self.isv_svn, self.config_svn),
                self.reserved4,
                self.isv_family_id,
                self.report_data,
            )
        )

    @property
    def attribute_flags(self) -> int:
        return int.from_bytes(self.attributes[:8], "little")

    @property
    def xfrm(self) -> int:
        return int.from_bytes(self.attributes[8:], "little")

    @property
    def debug(self) -> bool:
        return bool(self.attribute_flags & SGX_ATTR_DEBUG)


@dataclass(frozen=True)
class TdReportBody:
    """A TD report body: 1.0 (584 bytes) or 1.5 (648, adds TEE_TCB_SVN2 and MRSERVICETD)."""

    tee_tcb_svn: bytes
    mr_seam: bytes
    mr_signer_seam: bytes
    seam_attributes: bytes
    td_attributes: bytes
    xfam: bytes
    mr_td: bytes
    mr_config_id: bytes
    mr_owner: bytes
    mr_owner_config: bytes
    rtmrs: tuple[bytes, bytes, bytes, bytes]
    report_data: bytes
    tee_tcb_svn2: bytes | None = None
    mr_service_td: bytes | None = None

    @classmethod
    def from_bytes(cls, data: bytes) -> TdReportBody:
        if len(data) not in (TD_REPORT10_SIZE, TD_REPORT15_SIZE):
            raise _malformed(
                "dcap.quote.truncated",
                "td_report_body",
                f"{TD_REPORT10_SIZE} or {TD_REPORT15_SIZE} bytes",
                f"{len(data)} bytes",
            )
        f = _TD_BODY.unpack_from(data)
        extra = _TD_BODY_15.unpack_from(data, TD_REPORT10_SIZE) if len(data) == TD_REPORT15_SIZE else (None, None)
        return cls(
            f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9],
            rtmrs=(f[10], f[11], f[12], f[13]), report_data=f[14], tee_tcb_svn2=extra[0], mr_service_td=extra[1],
        )  # fmt: skip

    def to_bytes(self) -> bytes:
        parts = [
            self.tee_tcb_svn,
            self.mr_seam,
            self.mr_signer_seam,
            self.seam_attributes,
            self.td_attributes,
            self.xfam,
            self.mr_td,
            self.mr_config_id,
            self.mr_owner,
            self.mr_owner_config,
            *self.rtmrs,
            self.report_data,
        ]
        if self.tee_tcb_svn2 is not None and self.mr_service_td is not None:
            parts += [self.tee_tcb_svn2, self.mr_service_td]
        return b"".join(parts)

    @property
    def debug(self) -> bool:
        return bool(self.td_attributes[0] & TD_ATTR_DEBUG)


@dataclass(frozen=True)
class CertificationData:
    """A (type, bytes) certification data item; type 5 holds the PEM PCK chain."""

    type: int
    data: bytes

    def to_bytes(self) -> bytes:
        return struct.pack("<HI", self.type, len(self.data)) + self.data

    @property
    def pck_chain_pem(self) -> bytes:
        if self.type != CERT_DATA_PCK_CHAIN:
            raise _malformed(
                "dcap.quote.cert_data_type", "certification_data.type", CERT_DATA_PCK_CHAIN, self.type
            )
        return self.data


@dataclass(frozen=True)
class QeCertificationData:
    """The Quoting Enclave's report, its PCK signature, auth data and PCK certification data."""

    qe_report: bytes  # raw 384 bytes: the signed message of ``qe_report_signature``
    qe_report_signature: bytes
    qe_auth_data: bytes
    certification_data: CertificationData

    @cached_property
    def qe_report_body(self) -> SgxReportBody:
        return SgxReportBody.from_bytes(self.qe_report)

    def to_bytes(self) -> bytes:
        return (
            self.qe_report
            + self.qe_report_signature
            + struct.pack("<H", len(self.qe_auth_data))
            + self.qe_auth_data
            + self.certification_data.to_bytes()
        )

    @classmethod
    def _read(cls, r: _Reader) -> QeCertificationData:
        qe_report = r.take(SGX_REPORT_BODY_SIZE, "qe_report")
        qe_report_signature = r.take(SIGNATURE_SIZE, "qe_report_signature")
        auth = r.take(r.u16("qe_auth_data.size"), "qe_auth_data")
        cert_type = r.u16("certification_data.type")
        cert = r.take(r.u32("certification_data.size"), "certification_data")
        return cls(qe_report, qe_report_signature, auth, CertificationData(cert_type, cert))


@dataclass(frozen=True)
class SignatureData:
    """The quote's signature data; ``wrapped`` says whether a type-6 envelope held the QE part."""

    quote_signature: bytes
    attestation_key: bytes
    qe: QeCertificationData
    wrapped: bool

    def to_bytes(self) -> bytes:
        tail = self.qe.to_bytes()
        if self.wrapped:
            tail = CertificationData(CERT_DATA_QE_REPORT, tail).to_bytes()
        return self.quote_signature + self.attestation_key + tail


@dataclass(frozen=True)
class Quote:
    """A parsed DCAP quote; ``signed`` is the exact byte string the quote signature covers."""

    header: QuoteHeader
    body: SgxReportBody | TdReportBody
    body_type: int  # the v5 descriptor; implied (1 or 2) for v3/v4
    signature_data: SignatureData
    signed: bytes
    trailing: bytes  # bytes after sig_data: covered by no signature, never used (see docs)

    @property
    def is_tdx(self) -> bool:
        return isinstance(self.body, TdReportBody)

    @property
    def sgx_body(self) -> SgxReportBody:
        if not isinstance(self.body, SgxReportBody):
            raise _malformed("dcap.quote.tee_type", "header.tee_type", TEE_TYPE_SGX, self.header.tee_type)
        return self.body

    @property
    def td_body(self) -> TdReportBody:
        if not isinstance(self.body, TdReportBody):
            raise _malformed("dcap.quote.tee_type", "header.tee_type", TEE_TYPE_TDX, self.header.tee_type)
        return self.body

    @classmethod
    def from_bytes(cls, data: bytes) -> Quote:
        if len(data) > MAX_QUOTE_SIZE:
            raise _malformed("dcap.quote.size", "quote", f"at most {MAX_QUOTE_SIZE} bytes", f"{len(data)} bytes")
        r = _Reader(bytes(data), "quote")
        header = QuoteHeader.from_bytes(r.take(HEADER_SIZE, "header"))
        body_type = _body_type(header, r)
        body_raw = r.take(_BODY_SIZES[body_type], "body")
        body: SgxReportBody | TdReportBody = (
            SgxReportBody.from_bytes(body_raw) if body_type == BODY_TYPE_SGX else TdReportBody.from_bytes(body_raw)
        )
        signed = r.data[: r.pos]
        sig = _Reader(r.take(r.u32("signature_data_size"), "signature_data"), "signature_data")
        quote_signature = sig.take(SIGNATURE_SIZE, "quote_signature")
        attestation_key = sig.take(ATTESTATION_KEY_SIZE, "attestation_key")
        if header.version == 3:
            qe = QeCertificationData._read(sig)
        else:
            outer_type = sig.u16("certification_data.type")
            if outer_type != CERT_DATA_QE_REPORT:
                raise _malformed(
                    "dcap.quote.cert_data_type", "signature_data.certification_data.type", CERT_DATA_QE_REPORT, outer_type
                )
            inner = _Reader(sig.take(sig.u32("certification_data.size"), "certification_data"), "qe_certification_data")
            qe = QeCertificationData._read(inner)
            _no_rest(inner)
        _no_rest(sig)
        signature_data = SignatureData(quote_signature, attestation_key, qe, wrapped=header.version != 3)
        return cls(header, body, body_type, signature_data, signed, r.rest())

    def to_bytes(self) -> bytes:
        sig = self.signature_data.to_bytes()
        return self.signed + len(sig).to_bytes(4, "little") + sig + self.trailing


def _body_type(header: QuoteHeader, r: _Reader) -> int:
    if header.attestation_key_type != ATT_KEY_TYPE_ECDSA_P256:
        raise _malformed(
            "dcap.quote.key_type", "header.attestation_key_type", ATT_KEY_TYPE_ECDSA_P256, header.attestation_key_type
        )
    if header.version == 3:
        # v3 is SGX only; the tee_type word is reserved (zero).
        if header.tee_type != TEE_TYPE_SGX:
            raise _malformed("dcap.quote.tee_type", "header.tee_type", TEE_TYPE_SGX, header.tee_type)
        return BODY_TYPE_SGX
    if header.tee_type not in (TEE_TYPE_SGX, TEE_TYPE_TDX):
        raise _malformed("dcap.quote.tee_type", "header.tee_type", f"{TEE_TYPE_SGX} or {TEE_TYPE_TDX:#x}", header.tee_type)
    if header.version == 4:
        return BODY_TYPE_SGX if header.tee_type == TEE_TYPE_SGX else BODY_TYPE_TD10
    if header.version != 5:
        raise _malformed("dcap.quote.version", "header.version", "3, 4 or 5", header.version)
    body_type = r.u16("body_type")
    body_size = r.u32("body_size")
    allowed = (BODY_TYPE_SGX,) if header.tee_type == TEE_TYPE_SGX else (BODY_TYPE_TD10, BODY_TYPE_TD15)
    if body_type not in allowed:
        raise _malformed("dcap.quote.body_type", "body_type", " or ".join(map(str, allowed)), body_type)
    if body_size != _BODY_SIZES[body_type]:
        raise _malformed("dcap.quote.body_size", "body_size", _BODY_SIZES[body_type], body_size)
    return body_type


def _no_rest(r: _Reader) -> None:
    if r.pos != len(r.data):
        raise _malformed("dcap.quote.trailing", f"{r.where}", "no bytes after the last field", f"{len(r.data) - r.pos} bytes")


def parse_quote(data: bytes) -> Quote:
    """Parse a DCAP quote of any supported version (the facade's name for ``Quote.from_bytes``)."""
    return Quote.from_bytes(data)
