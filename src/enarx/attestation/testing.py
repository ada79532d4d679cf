"""TEST ONLY: fake AMD SEV-SNP chains and synthetic signed reports.

Nothing here is trusted by default: the fake ARK is not pinned, so evidence signed by these
keys verifies only when a caller passes the ARK in ``VerifyOptions.extra_roots`` (see
:meth:`TestOnlyAmdSigner.options`). Names say ``test_only`` so that no production path can
pick one up by accident (go-sev-guest ``testing/fake_certs.go`` ``AmdSignerBuilder`` is the
model). Used by the attestation tests and by the Keep's simulated configfs-tsm tree. Intel's
counterpart lives in :mod:`enarx.attestation.dcap.testing`.

AMD's chain shape is kept where verifiers depend on it: RSASSA-PSS (SHA-384, salt 48) for the
ARK and ASK, an EC P-384 VCEK carrying AMD's product, TCB and hwID extensions, CRLs signed by
the ARK. Keys are RSA-2048 rather than AMD's 4096 to keep test set-up fast.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.type import char, univ

from enarx.attestation.options import VerifyOptions
from enarx.attestation.snp import keyinfo as amd
from enarx.attestation.snp.abi import (
    SIG_ALGO_ECDSA_P384_SHA384,
    SIGNED_SIZE,
    SIGNING_KEY_VCEK,
    SIGNING_KEY_VLEK,
    FirmwareVersion,
    GuestPolicy,
    PlatformInfo,
    Product,
    Report,
    SignerInfo,
    TcbParts,
)

TEST_ONLY_ORGANIZATION = "Enarx TEST ONLY - not AMD"
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


@functools.cache
def _rsa_key(label: str) -> rsa.RSAPrivateKey:
    del label  # one cached key per role, so a test run generates each only once
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def _ec_key(label: str) -> ec.EllipticCurvePrivateKey:
    del label
    return ec.generate_private_key(ec.SECP384R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_ONLY_ORGANIZATION)])


def _der_int(value: int) -> bytes:
    return bytes(der_encoder.encode(univ.Integer(value)))


def _ext(oid: str, value: bytes) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value)


@dataclass(frozen=True)
class TestOnlyAmdSigner:
    """A fake ARK -> ASK -> VCEK (or VLEK) chain with its keys; signs synthetic reports."""

    __test__ = False  # not a pytest test class

    product: Product
    kind: str
    ark: x509.Certificate
    ask: x509.Certificate
    vcek: x509.Certificate
    ark_key: rsa.RSAPrivateKey
    ask_key: rsa.RSAPrivateKey
    vcek_key: ec.EllipticCurvePrivateKey
    tcb: TcbParts
    chip_id: bytes

    def sign(self, report: Report) -> bytes:
        """The report's bytes with a fresh ECDSA P-384 signature by the VCEK (r, s little-endian)."""
        unsigned = replace(report, signature_r=0, signature_s=0).to_bytes()
        der = self.vcek_key.sign(unsigned[:SIGNED_SIZE], ec.ECDSA(hashes.SHA384()))
        r, s = decode_dss_signature(der)
        return replace(report, signature_r=r, signature_s=s).to_bytes()

    def report(self, **fields: Any) -> Report:
        """An unsigned report consistent with this chain (TCB, chip id, signing key); override any field."""
        defaults: dict[str, Any] = {
            "tcb": self.tcb.to_u64(self.product),
            "chip_id": self.chip_id,
            "signing_key": SIGNING_KEY_VCEK if self.kind == "VCEK" else SIGNING_KEY_VLEK,
        }
        return make_test_only_report(**(defaults | fields))

    def signed_report(self, **fields: Any) -> bytes:
        return self.sign(self.report(**fields))

    def crl(
        self,
        *,
        revoked: Iterable[x509.Certificate] = (),
        last_update: datetime | None = None,
        next_update: datetime | None = None,
        signer: str = "ark",
    ) -> x509.CertificateRevocationList:
        """A CRL from the ARK (or ``signer="ask"``), listing ``revoked`` certificates."""
        issuer, key = (self.ark, self.ark_key) if signer == "ark" else (self.ask, self.ask_key)
        last = last_update or _EPOCH
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.subject)
            .last_update(last)
            .next_update(next_update or last + timedelta(days=365 * 30))
        )
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(last).build()
            )
        return builder.sign(key, hashes.SHA384(), rsa_padding=_PSS)

    def options(self, now: datetime, **kwargs: object) -> VerifyOptions:
        """Options that trust this fake ARK only (never the vendor roots)."""
        return VerifyOptions(now=now, extra_roots=(self.ark,), trust_vendor_roots=False, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TestOnlyAmdSignerBuilder:
    """Builds a :class:`TestOnlyAmdSigner`; every field has a working default."""

    __test__ = False

    product: Product = "Milan"
    kind: str = "VCEK"  # or "VLEK"
    tcb: TcbParts = field(default_factory=lambda: TcbParts(bootloader=3, tee=0, snp=8, microcode=115))
    chip_id: bytes = bytes(range(64))
    not_before: datetime = _EPOCH
    not_after: datetime = _EPOCH + timedelta(days=365 * 30)
    ark_not_after: datetime | None = None
    ask_not_after: datetime | None = None
    key_label: str = "default"
    hwid_octet_string: bool = False  # the newer KDS encoding of hwID

    def build(self) -> TestOnlyAmdSigner:
        p = self.product
        tcb = self.tcb if p != "Turin" or self.tcb.fmc is not None else replace(self.tcb, fmc=1)
        ark_key = _rsa_key(f"ark-{p}-{self.key_label}")
        ask_key = _rsa_key(f"ask-{p}-{self.kind}-{self.key_label}")
        vcek_key = _ec_key(f"vcek-{p}-{self.kind}-{self.key_label}")
        ark_name = _name(f"ARK-{p}")
        ask_name = _name(f"SEV-{p}" if self.kind == "VCEK" else f"SEV-VLEK-{p}")
        ark = (
            x509.CertificateBuilder()
            .subject_name(ark_name)
            .issuer_name(ark_name)
            .public_key(ark_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.not_before)
            .not_valid_after(self.ark_not_after or self.not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .sign(ark_key, hashes.SHA384(), rsa_padding=_PSS)
        )
        ask = (
            x509.CertificateBuilder()
            .subject_name(ask_name)
            .issuer_name(ark_name)
            .public_key(ask_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.not_before)
            .not_valid_after(self.ask_not_after or self.not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .sign(ark_key, hashes.SHA384(), rsa_padding=_PSS)
        )
        product_name = {"Milan": "Milan-B0", "Genoa": "Genoa-B1", "Turin": "Turin-C1"}[p]
        exts = [
            _ext(amd.OID_STRUCT_VERSION, _der_int(0)),
            _ext(amd.OID_PRODUCT_NAME, bytes(der_encoder.encode(char.IA5String(product_name)))),
            _ext(amd.OID_BL_SPL, _der_int(tcb.bootloader)),
            _ext(amd.OID_TEE_SPL, _der_int(tcb.tee)),
            _ext(amd.OID_SNP_SPL, _der_int(tcb.snp)),
            _ext(amd.OID_UCODE_SPL, _der_int(tcb.microcode)),
        ]
        if p == "Turin":
            exts.append(_ext(amd.OID_FMC_SPL, _der_int(tcb.fmc or 0)))
        if self.kind == "VCEK":
            hwid = self.chip_id[:8] if p == "Turin" else self.chip_id
            value = bytes(der_encoder.encode(univ.OctetString(hwid))) if self.hwid_octet_string else hwid
            exts.append(_ext(amd.OID_HWID, value))
        else:
            exts.append(_ext(amd.OID_CSP_ID, bytes(der_encoder.encode(char.IA5String("test-only-csp")))))
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(f"SEV-{self.kind}"))
            .issuer_name(ask_name)
            .public_key(vcek_key.public_key())
            .serial_number(1)
            .not_valid_before(self.not_before)
            .not_valid_after(self.not_after)
        )
        for ext in exts:
            builder = builder.add_extension(ext, critical=False)
        vcek = builder.sign(ask_key, hashes.SHA384(), rsa_padding=_PSS)
        return TestOnlyAmdSigner(
            product=p, kind=self.kind, ark=ark, ask=ask, vcek=vcek, ark_key=ark_key, ask_key=ask_key,
            vcek_key=vcek_key, tcb=tcb, chip_id=self.chip_id,
        )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
    )


def make_test_only_report(
    *,
    version: int = 2,
    tcb: int = 0,
    chip_id: bytes = bytes(64),
    signing_key: int = SIGNING_KEY_VCEK,
    measurement: bytes = hashlib.sha384(b"enarx test-only measurement").digest(),
    report_data: bytes = bytes(64),
    policy: GuestPolicy | None = None,
    **fields: object,
) -> Report:
    """An unsigned, well-formed report (reported = committed = current = launch TCB)."""
    base = Report(
        version=version,
        guest_svn=1,
        policy=policy or GuestPolicy(abi_minor=51, abi_major=1, smt=True, migrate_ma=False, debug=False, single_socket=False),
        family_id=bytes(16),
        image_id=bytes(16),
        vmpl=0,
        signature_algo=SIG_ALGO_ECDSA_P384_SHA384,
        current_tcb=tcb,
        platform_info=PlatformInfo(smt_enabled=True, tsme_enabled=False),
        signer_info=SignerInfo(author_key_en=False, mask_chip_key=False, signing_key=signing_key),
        report_data=report_data,
        measurement=measurement,
        host_data=bytes(32),
        id_key_digest=bytes(48),
        author_key_digest=bytes(48),
        report_id=bytes(32),
        report_id_ma=b"\xff" * 32,
        reported_tcb=tcb,
        chip_id=chip_id,
        committed_tcb=tcb,
        current_version=FirmwareVersion(1, 55, 21),
        committed_version=FirmwareVersion(1, 55, 21),
        launch_tcb=tcb,
        signature_r=0,
        signature_s=0,
    )
    return replace(base, **fields)  # type: ignore[arg-type]
