"""The AMD extensions of a VCEK or VLEK: product, TCB (SPLs), hwID, CSP.

AMD 57230 ("Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
Specification"). Each value is a small DER item decoded with pyasn1. What the extensions say is
cross-checked against the report by :mod:`enarx.attestation.snp.verify`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cryptography import x509
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import char, univ

from enarx.attestation.errors import MalformedEvidence
from enarx.attestation.snp.abi import PRODUCTS, Product, TcbParts
from enarx.attestation.snp.certs import _cn, common_name, describe

OID_STRUCT_VERSION = "1.3.6.1.4.1.3704.1.1"
OID_PRODUCT_NAME = "1.3.6.1.4.1.3704.1.2"
OID_BL_SPL = "1.3.6.1.4.1.3704.1.3.1"
OID_TEE_SPL = "1.3.6.1.4.1.3704.1.3.2"
OID_SNP_SPL = "1.3.6.1.4.1.3704.1.3.3"
OID_UCODE_SPL = "1.3.6.1.4.1.3704.1.3.8"
OID_FMC_SPL = "1.3.6.1.4.1.3704.1.3.9"  # Turin and later
OID_HWID = "1.3.6.1.4.1.3704.1.4"  # VCEK only: the chip's CHIP_ID
OID_CSP_ID = "1.3.6.1.4.1.3704.1.5"  # VLEK only: the cloud provider



@dataclass(frozen=True)
class AmdKeyInfo:
    """The AMD extensions of a VCEK or VLEK certificate."""

    kind: str  # "VCEK" or "VLEK"
    product: Product
    product_name: str  # e.g. "Milan-B0"
    tcb: TcbParts
    hwid: bytes | None  # VCEK: the chip's CHIP_ID (64 bytes; Turin: 8)
    csp_id: str | None  # VLEK: the cloud provider

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "product": self.product_name, "tcb": self.tcb.to_json()}
        if self.hwid is not None:
            out["hwid"] = self.hwid.hex()
        if self.csp_id is not None:
            out["csp_id"] = self.csp_id
        return out


def _ext_value(cert: x509.Certificate, oid: str) -> bytes | None:
    try:
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid))
    except x509.ExtensionNotFound:
        return None
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise MalformedEvidence("snp.cert.malformed", f"{describe(cert)} has malformed extensions: {exc}", field="extensions") from exc
    value = ext.value
    return value.value if isinstance(value, x509.UnrecognizedExtension) else None


def _ext_int(cert: x509.Certificate, oid: str, name: str, *, required: bool = True) -> int | None:
    raw = _ext_value(cert, oid)
    if raw is None:
        if required:
            raise MalformedEvidence("snp.vcek.extension", f"{describe(cert)} lacks the {name} extension ({oid})", field=name)
        return None
    try:
        value, rest = der_decoder.decode(raw, asn1Spec=univ.Integer())
    except PyAsn1Error as exc:
        raise MalformedEvidence("snp.vcek.extension", f"{describe(cert)} {name} is not a DER INTEGER", field=name) from exc
    if rest or not 0 <= int(value) <= 0xFF:
        raise MalformedEvidence("snp.vcek.extension", f"{describe(cert)} {name} is {int(value)}, expected 0..255", field=name, got=int(value))
    return int(value)


@functools.lru_cache(maxsize=256)
def amd_key_info(cert: x509.Certificate) -> AmdKeyInfo:
    """Read the product, TCB and hwID/CSP extensions of a VCEK or VLEK.

    Cached per certificate (by its DER): a chip's VCEK comes back with every report it signs.
    """
    cn = _cn(cert)
    if cn not in ("SEV-VCEK", "SEV-VLEK"):
        raise MalformedEvidence(
            "snp.vcek.subject", f"endorsement key certificate is {cn!r}, expected SEV-VCEK or SEV-VLEK", field="subject", got=cn
        )
    raw_name = _ext_value(cert, OID_PRODUCT_NAME)
    if raw_name is None:
        raise MalformedEvidence("snp.vcek.extension", f"{describe(cert)} lacks productName ({OID_PRODUCT_NAME})", field="productName")
    try:
        name_value, rest = der_decoder.decode(raw_name, asn1Spec=char.IA5String())
        product_name = str(name_value)
    except (PyAsn1Error, UnicodeError) as exc:
        raise MalformedEvidence("snp.vcek.extension", f"{describe(cert)} productName is not an IA5String", field="productName") from exc
    if rest:
        raise MalformedEvidence("snp.vcek.extension", f"{describe(cert)} productName has trailing bytes", field="productName")
    family = product_name.split("-")[0]
    if family not in PRODUCTS:
        raise MalformedEvidence(
            "snp.vcek.product", f"{describe(cert)} names product {product_name!r}, expected one of {', '.join(PRODUCTS)}",
            field="productName", expected=list(PRODUCTS), got=product_name,
        )
    product: Product = family
    fmc = _ext_int(cert, OID_FMC_SPL, "fmcSPL", required=product == "Turin")
    tcb = TcbParts(
        bootloader=_ext_int(cert, OID_BL_SPL, "blSPL") or 0,
        tee=_ext_int(cert, OID_TEE_SPL, "teeSPL") or 0,
        snp=_ext_int(cert, OID_SNP_SPL, "snpSPL") or 0,
        microcode=_ext_int(cert, OID_UCODE_SPL, "ucodeSPL") or 0,
        fmc=fmc if product == "Turin" else None,
    )
    hwid = None
    csp_id = None
    kind = "VCEK" if cn == "SEV-VCEK" else "VLEK"
    if kind == "VCEK":
        raw = _ext_value(cert, OID_HWID)
        if raw is None:
            raise MalformedEvidence("snp.vcek.extension", f"{describe(cert)} lacks hwID ({OID_HWID})", field="hwID")
        hwid = _unwrap_octets(raw, cert)
    else:
        raw = _ext_value(cert, OID_CSP_ID)
        if raw is not None:
            try:
                value, _ = der_decoder.decode(raw, asn1Spec=char.IA5String())
                csp_id = str(value)
            except (PyAsn1Error, UnicodeError):
                csp_id = raw.hex()
    return AmdKeyInfo(kind=kind, product=product, product_name=product_name, tcb=tcb, hwid=hwid, csp_id=csp_id)


def _unwrap_octets(raw: bytes, cert: x509.Certificate) -> bytes:
    # KDS served hwID as the raw 64 (Turin: 8) bytes, later as a DER OCTET STRING around them
    # (trustee commit 52d04aaa accepts both). Decide by length so raw bytes starting 04 40 are
    # not mistaken for a wrapper.
    if len(raw) in (64, 8):
        return raw
    try:
        value, rest = der_decoder.decode(raw, asn1Spec=univ.OctetString())
    except PyAsn1Error as exc:
        raise MalformedEvidence("snp.vcek.extension", f"{describe(cert)} hwID is neither raw nor an OCTET STRING", field="hwID") from exc
    inner = bytes(value)
    if rest or len(inner) not in (64, 8):
        raise MalformedEvidence("snp.vcek.extension", f"{describe(cert)} hwID has {len(inner)} bytes, expected 64 (or 8 on Turin)", field="hwID")
    return inner


def root_product(root: x509.Certificate) -> Product | None:
    """``ARK-Milan`` -> ``Milan``; None for a root whose name says no AMD product (test roots)."""
    tail = common_name(root).rsplit("-", 1)[-1]
    return tail if tail in PRODUCTS else None
