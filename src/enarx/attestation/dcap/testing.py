"""TEST-ONLY Intel PKI, collateral and quotes: nothing here is trusted by default.

Like go-sev-guest's ``testing/fake_certs.go``: a fake "Intel SGX Root CA", PCK Platform CA and
PCK certificate with real SGX extensions, a fake TCB signing certificate, CRLs, signed TCB info
and QE identity JSON, and a signer of SGX and TDX quotes. Every name says ``test_only`` so no
production path can pick it up by accident; a verifier accepts these only when the test root is
passed in ``VerifyOptions.extra_roots`` (and the Intel root is not needed).

Used by the negative tests and by simulated configfs-tsm TDX Keeps.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import encoder
from pyasn1.type import univ

from enarx.attestation.dcap import abi
from enarx.attestation.dcap.pck import (  # the extension's own ASN.1, to encode it
    OID_SGX_EXTENSIONS,
    _Item,
    _Items,
)

TEST_ONLY_QE_MRSIGNER: Final = hashlib.sha256(b"test-only quoting enclave signer").digest()
TEST_ONLY_FMSPC: Final = bytes.fromhex("00906ea10000")
_ARC: Final = "1.2.840.113741.1.13.1"


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Only, Not Intel"),
        ]
    )


def test_only_raw_sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """ECDSA P-256/SHA-256 as Intel encodes it: raw big-endian r||s, 64 bytes."""
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _item(oid: str, value: Any) -> _Item:
    item = _Item()
    item["id"] = univ.ObjectIdentifier(oid)
    item["value"] = univ.Any(encoder.encode(value))
    return item


def test_only_sgx_extensions(
    *,
    fmspc: bytes,
    pce_id: bytes = b"\x00\x00",
    tcb_components: Sequence[int] = (1,) * 16,
    pce_svn: int = 13,
    cpu_svn: bytes | None = None,
    ppid: bytes = b"\x11" * 16,
    sgx_type: int = 0,
) -> bytes:
    """DER of Intel's SGX extension (OID 1.2.840.113741.1.13.1) for a test PCK certificate."""
    tcb = _Items()
    for i, svn in enumerate(tcb_components, start=1):
        tcb.append(_item(f"{_ARC}.2.{i}", univ.Integer(svn)))
    tcb.append(_item(f"{_ARC}.2.17", univ.Integer(pce_svn)))
    tcb.append(_item(f"{_ARC}.2.18", univ.OctetString(cpu_svn if cpu_svn is not None else bytes(tcb_components))))
    top = _Items()
    top.append(_item(f"{_ARC}.1", univ.OctetString(ppid)))
    tcb_item = _Item()
    tcb_item["id"] = univ.ObjectIdentifier(f"{_ARC}.2")
    tcb_item["value"] = univ.Any(encoder.encode(tcb))
    top.append(tcb_item)
    top.append(_item(f"{_ARC}.3", univ.OctetString(pce_id)))
    top.append(_item(f"{_ARC}.4", univ.OctetString(fmspc)))
    top.append(_item(f"{_ARC}.5", univ.Enumerated(sgx_type)))
    return bytes(encoder.encode(top))


def _cert(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    signer: ec.EllipticCurvePrivateKey,
    not_before: datetime,
    not_after: datetime,
    *,
    ca: bool,
    path_length: int | None = None,
    issuer_key: ec.EllipticCurvePublicKey | None = None,
    extra: Sequence[x509.ExtensionType] = (),
    serial: int | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key or public_key), critical=False
        )
    )
    for ext in extra:
        builder = builder.add_extension(ext, critical=False)
    return builder.sign(signer, hashes.SHA256())


@dataclass
class TestOnlyIntelPki:
    """A complete fake Intel PKI: root, PCK Platform CA, one PCK, a TCB signing certificate."""

    __test__ = False  # not a pytest test class

    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    pck_ca_key: ec.EllipticCurvePrivateKey
    pck_ca: x509.Certificate
    pck_key: ec.EllipticCurvePrivateKey
    pck: x509.Certificate
    tcb_key: ec.EllipticCurvePrivateKey
    tcb_signing: x509.Certificate
    not_before: datetime
    not_after: datetime
    fmspc: bytes = TEST_ONLY_FMSPC
    pce_id: bytes = b"\x00\x00"
    tcb_components: tuple[int, ...] = field(default=(1,) * 16)
    pce_svn: int = 13

    @classmethod
    def create(
        cls,
        *,
        not_before: datetime,
        not_after: datetime,
        pck_not_after: datetime | None = None,
        fmspc: bytes = TEST_ONLY_FMSPC,
        pce_id: bytes = b"\x00\x00",
        tcb_components: Sequence[int] = (1,) * 16,
        pce_svn: int = 13,
        pck_curve: ec.EllipticCurve | None = None,
    ) -> TestOnlyIntelPki:
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name("Test-only Intel SGX Root CA")
        root = _cert(root_name, root_name, root_key.public_key(), root_key, not_before, not_after, ca=True, path_length=1)
        pck_ca_key = ec.generate_private_key(ec.SECP256R1())
        pck_ca_name = _name("Test-only Intel SGX PCK Platform CA")
        pck_ca = _cert(
            pck_ca_name, root_name, pck_ca_key.public_key(), root_key, not_before, not_after,
            ca=True, path_length=0, issuer_key=root_key.public_key(),
        )
        pck_key = ec.generate_private_key(pck_curve or ec.SECP256R1())
        ext = test_only_sgx_extensions(
            fmspc=fmspc, pce_id=pce_id, tcb_components=tcb_components, pce_svn=pce_svn
        )
        pck = _cert(
            _name("Test-only Intel SGX PCK Certificate"), pck_ca_name, pck_key.public_key(), pck_ca_key,
            not_before, pck_not_after or not_after, ca=False, issuer_key=pck_ca_key.public_key(),
            extra=[x509.UnrecognizedExtension(OID_SGX_EXTENSIONS, ext)],
        )
        tcb_key = ec.generate_private_key(ec.SECP256R1())
        tcb_signing = _cert(
            _name("Test-only Intel SGX TCB Signing"), root_name, tcb_key.public_key(), root_key,
            not_before, not_after, ca=False, issuer_key=root_key.public_key(),
        )
        return cls(
            root_key, root, pck_ca_key, pck_ca, pck_key, pck, tcb_key, tcb_signing,
            not_before, not_after, fmspc, pce_id, tuple(tcb_components), pce_svn,
        )  # fmt: skip

    # --- chains and CRLs

    @property
    def pck_chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (self.pck, self.pck_ca, self.root)) + b"\x00"

    @property
    def tcb_signing_chain(self) -> tuple[x509.Certificate, x509.Certificate]:
        return (self.tcb_signing, self.root)

    def crl(
        self,
        issuer: str,
        *,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        revoked: Sequence[int] = (),
    ) -> x509.CertificateRevocationList:
        """A CRL from ``"root"`` or ``"pck_ca"`` listing ``revoked`` serial numbers."""
        cert, key = (self.root, self.root_key) if issuer == "root" else (self.pck_ca, self.pck_ca_key)
        this_update = this_update or self.not_before
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(cert.subject)
            .last_update(this_update)
            .next_update(next_update or self.not_after)
        )
        for serial in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(this_update).build()
            )
        return builder.sign(key, hashes.SHA256())

    def crls(self) -> tuple[x509.CertificateRevocationList, x509.CertificateRevocationList]:
        """Current, empty root CA and PCK CA CRLs."""
        return (self.crl("root"), self.crl("pck_ca"))

    # --- collateral

    def sign_document(self, key: str, value: dict[str, object], *, indent: int | None = None) -> bytes:
        """``{key: value, "signature": hex}`` signed over the exact bytes of ``value``."""
        body = json.dumps(value, separators=(",", ":"), indent=indent).encode()
        sig = test_only_raw_sign(self.tcb_key, body).hex()
        return b'{"' + key.encode() + b'":' + body + b',"signature":"' + sig.encode() + b'"}'

    def tcb_info(
        self,
        tee: str,
        *,
        levels: Sequence[dict[str, object]] | None = None,
        issue_date: datetime | None = None,
        next_update: datetime | None = None,
        module_identities: Sequence[dict[str, object]] | None = None,
    ) -> bytes:
        """Signed TCB info JSON (v3) for this platform; one UpToDate level by default."""
        value: dict[str, object] = {
            "id": tee.upper(),
            "version": 3,
            "issueDate": _iso(issue_date or self.not_before),
            "nextUpdate": _iso(next_update or self.not_after),
            "fmspc": self.fmspc.hex().upper(),
            "pceId": self.pce_id.hex().upper(),
            "tcbType": 0,
            "tcbEvaluationDataNumber": 17,
        }
        if tee.upper() == "TDX":
            value["tdxModule"] = {"mrsigner": "00" * 48, "attributes": "00" * 8, "attributesMask": "FF" * 8}
            value["tdxModuleIdentities"] = list(
                module_identities
                if module_identities is not None
                else [test_only_module_identity("TDX_01", [(0, "UpToDate", [])])]
            )
        value["tcbLevels"] = list(
            levels
            if levels is not None
            else [test_only_tcb_level(self.tcb_components, self.pce_svn, "UpToDate", tdx=tee.upper() == "TDX")]
        )
        return self.sign_document("tcbInfo", value)

    def qe_identity(
        self,
        tee: str,
        *,
        levels: Sequence[tuple[int, str, Sequence[str]]] = ((1, "UpToDate", ()),),
        issue_date: datetime | None = None,
        next_update: datetime | None = None,
    ) -> bytes:
        """Signed QE identity JSON (v2) matching the QE reports :meth:`quote` makes."""
        value: dict[str, object] = {
            "id": "TD_QE" if tee.upper() == "TDX" else "QE",
            "version": 2,
            "issueDate": _iso(issue_date or self.not_before),
            "nextUpdate": _iso(next_update or self.not_after),
            "tcbEvaluationDataNumber": 17,
            "miscselect": "00000000",
            "miscselectMask": "FFFFFFFF",
            "attributes": "11000000000000000000000000000000",
            "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
            "mrsigner": TEST_ONLY_QE_MRSIGNER.hex().upper(),
            "isvprodid": 2 if tee.upper() == "TDX" else 1,
            "tcbLevels": [_isv_level(svn, status, adv) for svn, status, adv in levels],
        }
        return self.sign_document("enclaveIdentity", value)

    # --- quotes

    def quote(
        self,
        body: abi.SgxReportBody | abi.TdReportBody,
        *,
        version: int | None = None,
        qe_svn: int = 1,
        qe_report: abi.SgxReportBody | None = None,
    ) -> bytes:
        """A DCAP quote over ``body`` signed by a fresh attestation key certified by this PCK."""
        tdx = isinstance(body, abi.TdReportBody)
        version = version or (4 if tdx else 3)
        att_key = ec.generate_private_key(ec.SECP256R1())
        att_pub = att_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )[1:]
        auth = bytes(range(32))
        qe = qe_report or test_only_qe_report(tdx=tdx, isv_svn=qe_svn)
        qe = replace(qe, report_data=hashlib.sha256(att_pub + auth).digest() + bytes(32))
        qe_raw = qe.to_bytes()
        qe_cert = abi.QeCertificationData(
            qe_raw,
            test_only_raw_sign(self.pck_key, qe_raw),
            auth,
            abi.CertificationData(abi.CERT_DATA_PCK_CHAIN, self.pck_chain_pem),
        )
        header = abi.QuoteHeader(
            version=version,
            attestation_key_type=abi.ATT_KEY_TYPE_ECDSA_P256,
            tee_type=abi.TEE_TYPE_TDX if tdx else abi.TEE_TYPE_SGX,
            qe_svn=0 if tdx else qe_svn,
            pce_svn=0 if tdx else self.pce_svn,
            qe_vendor_id=abi.INTEL_QE_VENDOR_ID,
            user_data=bytes(20),
        )
        body_raw = body.to_bytes()
        descriptor = b""
        if version == 5:
            body_type = abi.BODY_TYPE_SGX if not tdx else (abi.BODY_TYPE_TD15 if len(body_raw) == abi.TD_REPORT15_SIZE else abi.BODY_TYPE_TD10)
            descriptor = body_type.to_bytes(2, "little") + len(body_raw).to_bytes(4, "little")
        signed = header.to_bytes() + descriptor + body_raw
        sig = abi.SignatureData(test_only_raw_sign(att_key, signed), att_pub, qe_cert, wrapped=version != 3)
        sig_raw = sig.to_bytes()
        return signed + len(sig_raw).to_bytes(4, "little") + sig_raw


    # --- whole Keep evidence

    def enarx_tdx_evidence(
        self, spki_der: bytes, *, body: abi.TdReportBody | None = None, version: int = 5, collateral: bool = True
    ) -> bytes:
        """What a configfs-tsm TDX Keep sends: our ``TdxEvidence`` binding ``spki_der``.

        REPORTDATA = SHA-256(spki_der) || 0^32 (replacing ``body``'s); with ``collateral``, the
        CRLs, TCB signing chain, TCB info and QE identity of this PKI travel inside.
        """
        from enarx.attestation.dcap.enarx import encode_enarx_tdx_evidence

        body = replace(body or test_only_td_body(), report_data=hashlib.sha256(spki_der).digest() + bytes(32))
        return encode_enarx_tdx_evidence(
            self.quote(body, version=version),
            crls=self.crls(),
            tcb_signing_chain=self.tcb_signing_chain,
            tcb_info=self.tcb_info("tdx"),
            qe_identity=self.qe_identity("tdx"),
            include_collateral=collateral,
        )

    def enarx_sgx_evidence(self, spki_der: bytes, *, body: abi.SgxReportBody | None = None) -> bytes:
        """Enarx ``SgxEvidence`` (quote v3 + CRLs + TCB info) binding ``spki_der``."""
        from enarx.attestation.dcap.enarx import encode_enarx_sgx_evidence

        body = replace(body or test_only_sgx_body(), report_data=hashlib.sha256(spki_der).digest() + bytes(32))
        return encode_enarx_sgx_evidence(
            self.quote(body),
            crls=[("test-only root CRL", self.crl("root")), ("test-only PCK CA CRL", self.crl("pck_ca"))],
            tcb_signing_chain=self.tcb_signing_chain,
            tcb_info=self.tcb_info("sgx"),
        )


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _isv_level(svn: int, status: str, advisories: Sequence[str]) -> dict[str, object]:
    level: dict[str, object] = {"tcb": {"isvsvn": svn}, "tcbDate": "2024-03-13T00:00:00Z", "tcbStatus": status}
    if advisories:
        level["advisoryIDs"] = list(advisories)
    return level


def test_only_tcb_level(
    components: Sequence[int],
    pce_svn: int,
    status: str,
    *,
    advisories: Sequence[str] = (),
    tdx: bool = False,
    tdx_components: Sequence[int] = (0,) * 16,
    date: str = "2024-03-13T00:00:00Z",
) -> dict[str, object]:
    tcb: dict[str, object] = {"sgxtcbcomponents": [{"svn": s} for s in components], "pcesvn": pce_svn}
    if tdx:
        tcb["tdxtcbcomponents"] = [{"svn": s} for s in tdx_components]
    level: dict[str, object] = {"tcb": tcb, "tcbDate": date, "tcbStatus": status}
    if advisories:
        level["advisoryIDs"] = list(advisories)
    return level


def test_only_module_identity(module_id: str, levels: Sequence[tuple[int, str, Sequence[str]]]) -> dict[str, object]:
    return {
        "id": module_id,
        "mrsigner": "00" * 48,
        "attributes": "00" * 8,
        "attributesMask": "FF" * 8,
        "tcbLevels": [_isv_level(svn, status, adv) for svn, status, adv in levels],
    }


def test_only_qe_report(*, tdx: bool = False, isv_svn: int = 1) -> abi.SgxReportBody:
    """A QE report body matching :meth:`TestOnlyIntelPki.qe_identity` (report data filled later)."""
    return test_only_sgx_body(
        mr_signer=TEST_ONLY_QE_MRSIGNER,
        isv_prod_id=2 if tdx else 1,
        isv_svn=isv_svn,
        attributes=bytes.fromhex("11000000000000000000000000000000"),
    )


def test_only_sgx_body(
    *,
    mr_enclave: bytes = b"\xaa" * 32,
    mr_signer: bytes = b"\xbb" * 32,
    isv_prod_id: int = 0,
    isv_svn: int = 0,
    debug: bool = False,
    report_data: bytes = bytes(64),
    attributes: bytes | None = None,
) -> abi.SgxReportBody:
    """An SGX report body (INIT|MODE64BIT, optionally DEBUG)."""
    if attributes is None:
        flags = 0x05 | (abi.SGX_ATTR_DEBUG if debug else 0)
        attributes = flags.to_bytes(8, "little") + (0xE7).to_bytes(8, "little")
    return abi.SgxReportBody(
        cpu_svn=bytes(16), misc_select=0, reserved1=bytes(12), isv_ext_prod_id=bytes(16),
        attributes=attributes, mr_enclave=mr_enclave, reserved2=bytes(32), mr_signer=mr_signer,
        reserved3=bytes(32), config_id=bytes(64), isv_prod_id=isv_prod_id, isv_svn=isv_svn,
        config_svn=0, reserved4=bytes(42), isv_family_id=bytes(16), report_data=report_data,
    )  # fmt: skip


def test_only_td_body(
    *,
    mr_td: bytes = b"\xcc" * 48,
    rtmrs: tuple[bytes, bytes, bytes, bytes] = (b"\x01" * 48, b"\x02" * 48, b"\x03" * 48, b"\x04" * 48),
    debug: bool = False,
    report_data: bytes = bytes(64),
    tee_tcb_svn: bytes = bytes([0, 1]) + bytes(14),
    mr_config_id: bytes = bytes(48),
    mr_owner: bytes = bytes(48),
    v15: bool = False,
) -> abi.TdReportBody:
    """A TD report body (1.0, or 1.5 with ``v15``); TDX module version 1, SVN 0 by default."""
    attributes = bytes([abi.TD_ATTR_DEBUG if debug else 0, 0, 0, 0x10, 0, 0, 0, 0])
    return abi.TdReportBody(
        tee_tcb_svn=tee_tcb_svn, mr_seam=b"\x5e" * 48, mr_signer_seam=bytes(48), seam_attributes=bytes(8),
        td_attributes=attributes, xfam=bytes.fromhex("e742060000000000"), mr_td=mr_td,
        mr_config_id=mr_config_id, mr_owner=mr_owner, mr_owner_config=bytes(48), rtmrs=rtmrs,
        report_data=report_data,
        tee_tcb_svn2=tee_tcb_svn if v15 else None, mr_service_td=bytes(48) if v15 else None,
    )  # fmt: skip


def test_only_window(start: datetime, days: int = 365) -> tuple[datetime, datetime]:
    return start, start + timedelta(days=days)


# pytest collects module-level callables named test_*; these are builders, not tests.
for _builder in (
    test_only_raw_sign,
    test_only_sgx_extensions,
    test_only_tcb_level,
    test_only_module_identity,
    test_only_qe_report,
    test_only_sgx_body,
    test_only_td_body,
    test_only_window,
):
    setattr(_builder, "__test__", False)  # noqa: B010
