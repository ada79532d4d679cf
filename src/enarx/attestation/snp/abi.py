"""AMD SEV-SNP ATTESTATION_REPORT: bytes to a typed structure and back.

Is it well-formed? Nothing else: this module checks no signature and no policy (go-sev-guest's
``abi`` package is the model). Layout: SEV Secure Nested Paging Firmware ABI Specification
(AMD 56860), Table "ATTESTATION_REPORT Structure". Report versions 2, 3 (adds the CPUID
family/model/stepping of the chip, ABI 1.55) and 5 (adds the launch and current mitigation
vectors, ABI 1.58) are understood. All integers are little-endian. Reserved ranges must be
zero: a firmware that starts using one is a new report version, and we refuse what we cannot
read rather than sign off on bytes we ignored.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from typing import Final, Literal

from enarx.attestation.errors import MalformedEvidence

REPORT_SIZE: Final = 0x4A0
#: The ECDSA signature covers bytes [0, SIGNED_SIZE).
SIGNED_SIZE: Final = 0x2A0
#: r and s are 72-byte little-endian integers at the start of the signature field.
SIGNATURE_COMPONENT_SIZE: Final = 72
SUPPORTED_VERSIONS: Final = (2, 3, 5)
SIG_ALGO_ECDSA_P384_SHA384: Final = 1

Product = Literal["Milan", "Genoa", "Turin"]
PRODUCTS: Final[tuple[Product, ...]] = ("Milan", "Genoa", "Turin")

# Guest policy bits (ABI Table "Guest Policy Structure").
_POLICY_SMT = 16
_POLICY_RESERVED_ONE = 17  # must be 1
_POLICY_MIGRATE_MA = 18
_POLICY_DEBUG = 19
_POLICY_SINGLE_SOCKET = 20
_POLICY_CXL_ALLOW = 21
_POLICY_MEM_AES_256_XTS = 22
_POLICY_RAPL_DIS = 23
_POLICY_CIPHERTEXT_HIDING = 24
_POLICY_PAGE_SWAP_DISABLE = 25
_POLICY_HIGHEST_BIT = 25  # bits above must be zero

# PLATFORM_INFO bits.
_PLATFORM_INFO_BITS: Final = (
    "smt_enabled",
    "tsme_enabled",
    "ecc_enabled",
    "rapl_disabled",
    "ciphertext_hiding_enabled",
    "alias_check_complete",
    "reserved6",
    "tio_enabled",
)

SIGNING_KEY_VCEK: Final = 0
SIGNING_KEY_VLEK: Final = 1
SIGNING_KEY_NONE: Final = 7


def _malformed(field: str, message: str, *, expected: object = None, got: object = None) -> MalformedEvidence:
    return MalformedEvidence("snp.report.malformed", f"SNP report {field}: {message}", field=field, expected=expected, got=got)


@dataclass(frozen=True)
class GuestPolicy:
    """The guest policy the VM owner set at launch (report offset 0x08)."""

    abi_minor: int
    abi_major: int
    smt: bool
    migrate_ma: bool
    debug: bool
    single_socket: bool
    cxl_allow: bool = False
    mem_aes_256_xts: bool = False
    rapl_dis: bool = False
    ciphertext_hiding: bool = False
    page_swap_disable: bool = False

    @classmethod
    def from_u64(cls, value: int) -> GuestPolicy:
        if not value >> _POLICY_RESERVED_ONE & 1:
            raise _malformed("policy", "reserved bit 17 must be 1", expected=1, got=0)
        if value >> (_POLICY_HIGHEST_BIT + 1):
            raise _malformed("policy", f"reserved bits 26..63 must be zero, got {value:#018x}", got=hex(value))

        def bit(n: int) -> bool:
            return bool(value >> n & 1)

        return cls(
            abi_minor=value & 0xFF,
            abi_major=value >> 8 & 0xFF,
            smt=bit(_POLICY_SMT),
            migrate_ma=bit(_POLICY_MIGRATE_MA),
            debug=bit(_POLICY_DEBUG),
            single_socket=bit(_POLICY_SINGLE_SOCKET),
            cxl_allow=bit(_POLICY_CXL_ALLOW),
            mem_aes_256_xts=bit(_POLICY_MEM_AES_256_XTS),
            rapl_dis=bit(_POLICY_RAPL_DIS),
            ciphertext_hiding=bit(_POLICY_CIPHERTEXT_HIDING),
            page_swap_disable=bit(_POLICY_PAGE_SWAP_DISABLE),
        )

    def to_u64(self) -> int:
        flags = {
            _POLICY_SMT: self.smt,
            _POLICY_RESERVED_ONE: True,
            _POLICY_MIGRATE_MA: self.migrate_ma,
            _POLICY_DEBUG: self.debug,
            _POLICY_SINGLE_SOCKET: self.single_socket,
            _POLICY_CXL_ALLOW: self.cxl_allow,
            _POLICY_MEM_AES_256_XTS: self.mem_aes_256_xts,
            _POLICY_RAPL_DIS: self.rapl_dis,
            _POLICY_CIPHERTEXT_HIDING: self.ciphertext_hiding,
            _POLICY_PAGE_SWAP_DISABLE: self.page_swap_disable,
        }
        value = (self.abi_minor & 0xFF) | (self.abi_major & 0xFF) << 8
        for n, on in flags.items():
            value |= int(on) << n
        return value


@dataclass(frozen=True)
class PlatformInfo:
    """What the host's platform looked like when the report was made (offset 0x40)."""

    smt_enabled: bool
    tsme_enabled: bool
    ecc_enabled: bool = False
    rapl_disabled: bool = False
    ciphertext_hiding_enabled: bool = False
    alias_check_complete: bool = False
    tio_enabled: bool = False

    @classmethod
    def from_u64(cls, value: int) -> PlatformInfo:
        # bit 6 is reserved; bits above 7 are reserved.
        if value >> 8 or value >> 6 & 1:
            raise _malformed("platform_info", f"reserved bits set in {value:#x}", got=hex(value))
        return cls(
            smt_enabled=bool(value & 1),
            tsme_enabled=bool(value >> 1 & 1),
            ecc_enabled=bool(value >> 2 & 1),
            rapl_disabled=bool(value >> 3 & 1),
            ciphertext_hiding_enabled=bool(value >> 4 & 1),
            alias_check_complete=bool(value >> 5 & 1),
            tio_enabled=bool(value >> 7 & 1),
        )

    def to_u64(self) -> int:
        value = 0
        for n, name in enumerate(_PLATFORM_INFO_BITS):
            if name != "reserved6" and getattr(self, name):
                value |= 1 << n
        return value


@dataclass(frozen=True)
class SignerInfo:
    """Offset 0x48: which key signed the report and whether CHIP_ID was masked."""

    author_key_en: bool
    mask_chip_key: bool
    signing_key: int  # SIGNING_KEY_VCEK, SIGNING_KEY_VLEK or SIGNING_KEY_NONE

    @classmethod
    def from_u32(cls, value: int) -> SignerInfo:
        if value >> 5:
            raise _malformed("signer_info", f"reserved bits 5..31 must be zero, got {value:#x}", got=hex(value))
        signing_key = value >> 2 & 7
        if signing_key not in (SIGNING_KEY_VCEK, SIGNING_KEY_VLEK, SIGNING_KEY_NONE):
            raise _malformed("signer_info.signing_key", "values 2..6 are reserved", expected="0, 1 or 7", got=signing_key)
        return cls(author_key_en=bool(value & 1), mask_chip_key=bool(value >> 1 & 1), signing_key=signing_key)

    def to_u32(self) -> int:
        return int(self.author_key_en) | int(self.mask_chip_key) << 1 | (self.signing_key & 7) << 2

    @property
    def signing_key_name(self) -> str:
        return {SIGNING_KEY_VCEK: "VCEK", SIGNING_KEY_VLEK: "VLEK", SIGNING_KEY_NONE: "none"}.get(self.signing_key, "reserved")


@dataclass(frozen=True)
class TcbParts:
    """A TCB_VERSION decoded: the security patch level of each firmware component.

    ``fmc`` (the Turin first-mutable-code SPL) is ``None`` on Milan and Genoa.
    """

    bootloader: int
    tee: int
    snp: int
    microcode: int
    fmc: int | None = None

    @classmethod
    def from_u64(cls, value: int, product: Product) -> TcbParts:
        raw = value.to_bytes(8, "little")
        if product == "Turin":
            # Turin (ABI 1.56+ Table "TCB_VERSION Structure, Turin"): FMC, BL, TEE, SNP, 3 reserved, UCODE.
            return cls(fmc=raw[0], bootloader=raw[1], tee=raw[2], snp=raw[3], microcode=raw[7])
        # Milan, Genoa: BL, TEE, 4 reserved, SNP, UCODE.
        return cls(bootloader=raw[0], tee=raw[1], snp=raw[6], microcode=raw[7])

    def to_u64(self, product: Product) -> int:
        raw = bytearray(8)
        if product == "Turin":
            raw[0], raw[1], raw[2], raw[3] = self.fmc or 0, self.bootloader, self.tee, self.snp
        else:
            raw[0], raw[1], raw[6] = self.bootloader, self.tee, self.snp
        raw[7] = self.microcode
        return int.from_bytes(raw, "little")

    def to_json(self) -> dict[str, int]:
        out = {"bootloader": self.bootloader, "tee": self.tee, "snp": self.snp, "microcode": self.microcode}
        if self.fmc is not None:
            out["fmc"] = self.fmc
        return out


def reserved_tcb_bytes_zero(value: int, product: Product) -> bool:
    """True when the reserved bytes of a TCB_VERSION are zero for ``product``'s layout."""
    raw = value.to_bytes(8, "little")
    reserved = raw[4:7] if product == "Turin" else raw[2:6]
    return not any(reserved)


@dataclass(frozen=True)
class FirmwareVersion:
    major: int
    minor: int
    build: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}"


def product_from_cpuid(family: int, model: int) -> Product | None:
    """The SEV product named by a v3+ report's CPUID family and model, if known."""
    if family == 0x19:
        if model >> 4 == 0x0:
            return "Milan"
        if model >> 4 in (0x1, 0xA):
            return "Genoa"
    if family == 0x1A and model >> 4 in (0x0, 0x1):
        return "Turin"
    return None


# (name, offset, size) of every byte field, for messages and mutation tests.
_FIXED_FIELDS: Final = {
    "family_id": (0x10, 16),
    "image_id": (0x20, 16),
    "report_data": (0x50, 64),
    "measurement": (0x90, 48),
    "host_data": (0xC0, 32),
    "id_key_digest": (0xE0, 48),
    "author_key_digest": (0x110, 48),
    "report_id": (0x140, 32),
    "report_id_ma": (0x160, 32),
    "chip_id": (0x1A0, 64),
}

# 0x000..0x188: version .. reported_tcb; 0x1A0..0x1F8: chip_id .. launch_tcb.
_HEAD: Final = struct.Struct("<IIQ16s16sIIQQII64s48s32s48s48s32s32sQ")
_TAIL: Final = struct.Struct("<64sQBBBBBBBBQ")

#: Signed regions a verifier must protect, as (name, start, end): used by tests.
SIGNED_FIELDS: Final = (
    ("version", 0x00, 0x04),
    ("guest_svn", 0x04, 0x08),
    ("policy", 0x08, 0x10),
    *((name, off, off + size) for name, (off, size) in _FIXED_FIELDS.items()),
    ("vmpl", 0x30, 0x34),
    ("signature_algo", 0x34, 0x38),
    ("current_tcb", 0x38, 0x40),
    ("platform_info", 0x40, 0x48),
    ("signer_info", 0x48, 0x4C),
    ("reported_tcb", 0x180, 0x188),
    ("committed_tcb", 0x1E0, 0x1E8),
    ("current_version", 0x1E8, 0x1EB),
    ("committed_version", 0x1EC, 0x1EF),
    ("launch_tcb", 0x1F0, 0x1F8),
)


@dataclass(frozen=True)
class Report:
    """One ATTESTATION_REPORT, every field, as signed by the AMD secure processor.

    TCB values stay raw ``u64``: how to split them into components depends on the product
    (Turin's layout has an FMC byte), which a v2 report does not say; use
    :meth:`tcb` with the product from the VCEK or :attr:`cpuid_product`.
    """

    version: int
    guest_svn: int
    policy: GuestPolicy
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb: int
    platform_info: PlatformInfo
    signer_info: SignerInfo
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    report_id_ma: bytes
    reported_tcb: int
    chip_id: bytes
    committed_tcb: int
    current_version: FirmwareVersion
    committed_version: FirmwareVersion
    launch_tcb: int
    signature_r: int
    signature_s: int
    # Version 3 and later (zero in v2):
    cpuid_fam_id: int = 0
    cpuid_mod_id: int = 0
    cpuid_step: int = 0
    # Version 5 and later (zero before):
    launch_mit_vector: int = 0
    current_mit_vector: int = 0

    @classmethod
    def from_bytes(cls, data: bytes) -> Report:
        """Parse exactly one report; raises :class:`MalformedEvidence` naming the field."""
        data = bytes(data)
        if len(data) != REPORT_SIZE:
            raise MalformedEvidence(
                "snp.report.size",
                f"SNP report length is {len(data)}, expected {REPORT_SIZE}",
                field="report",
                expected=REPORT_SIZE,
                got=len(data),
            )
        (version,) = struct.unpack_from("<I", data, 0x00)
        if version not in SUPPORTED_VERSIONS:
            raise MalformedEvidence(
                "snp.report.version",
                f"SNP report version is {version}, expected one of {', '.join(map(str, SUPPORTED_VERSIONS))}",
                field="version",
                expected=list(SUPPORTED_VERSIONS),
                got=version,
            )
        (
            _, guest_svn, policy, family_id, image_id, vmpl, sig_algo, current_tcb, platform_info, signer_info, rsvd,
            report_data, measurement, host_data, id_key_digest, author_key_digest, report_id, report_id_ma, reported_tcb,
        ) = _HEAD.unpack_from(data, 0)
        chip_id, committed_tcb, cur_build, cur_minor, cur_major, rsvd2, com_build, com_minor, com_major, rsvd3, launch_tcb = _TAIL.unpack_from(data, 0x1A0)
        if rsvd:
            _mbz(data, "reserved at 0x4c", 0x4C, 0x50)
        if version >= 3:
            cpuid = data[0x188], data[0x189], data[0x18A]
            _mbz(data, "reserved at 0x18b", 0x18B, 0x1A0)
        else:
            cpuid = (0, 0, 0)
            _mbz(data, "reserved at 0x188", 0x188, 0x1A0)
        if rsvd2:
            _mbz(data, "reserved at 0x1eb", 0x1EB, 0x1EC)
        if rsvd3:
            _mbz(data, "reserved at 0x1ef", 0x1EF, 0x1F0)
        if version >= 5:
            launch_mit, current_mit = struct.unpack_from("<QQ", data, 0x1F8)
            _mbz(data, "reserved at 0x208", 0x208, SIGNED_SIZE)
        else:
            launch_mit = current_mit = 0
            _mbz(data, "reserved at 0x1f8", 0x1F8, SIGNED_SIZE)
        sig = data[SIGNED_SIZE:]
        n = SIGNATURE_COMPONENT_SIZE
        _mbz(data, "signature reserved", SIGNED_SIZE + 2 * n, REPORT_SIZE)
        return cls(
            version=version,
            guest_svn=guest_svn,
            policy=_guest_policy(policy),
            vmpl=vmpl,
            signature_algo=sig_algo,
            current_tcb=current_tcb,
            platform_info=_platform_info(platform_info),
            signer_info=_signer_info(signer_info),
            reported_tcb=reported_tcb,
            committed_tcb=committed_tcb,
            current_version=FirmwareVersion(build=cur_build, minor=cur_minor, major=cur_major),
            committed_version=FirmwareVersion(build=com_build, minor=com_minor, major=com_major),
            launch_tcb=launch_tcb,
            signature_r=int.from_bytes(sig[:n], "little"),
            signature_s=int.from_bytes(sig[n : 2 * n], "little"),
            cpuid_fam_id=cpuid[0],
            cpuid_mod_id=cpuid[1],
            cpuid_step=cpuid[2],
            launch_mit_vector=launch_mit,
            current_mit_vector=current_mit,
            family_id=family_id,
            image_id=image_id,
            report_data=report_data,
            measurement=measurement,
            host_data=host_data,
            id_key_digest=id_key_digest,
            author_key_digest=author_key_digest,
            report_id=report_id,
            report_id_ma=report_id_ma,
            chip_id=chip_id,
        )

    def to_bytes(self) -> bytes:
        """The exact ABI bytes (``Report.from_bytes(r.to_bytes()) == r``)."""
        out = bytearray(REPORT_SIZE)
        struct.pack_into("<II", out, 0x00, self.version, self.guest_svn)
        struct.pack_into("<Q", out, 0x08, self.policy.to_u64())
        for name, (off, size) in _FIXED_FIELDS.items():
            value = getattr(self, name)
            if len(value) != size:
                raise _malformed(name, f"length is {len(value)}, expected {size}", expected=size, got=len(value))
            out[off : off + size] = value
        struct.pack_into("<II", out, 0x30, self.vmpl, self.signature_algo)
        struct.pack_into("<QQ", out, 0x38, self.current_tcb, self.platform_info.to_u64())
        struct.pack_into("<I", out, 0x48, self.signer_info.to_u32())
        struct.pack_into("<Q", out, 0x180, self.reported_tcb)
        if self.version >= 3:
            out[0x188:0x18B] = bytes((self.cpuid_fam_id, self.cpuid_mod_id, self.cpuid_step))
        struct.pack_into("<Q", out, 0x1E0, self.committed_tcb)
        cur, com = self.current_version, self.committed_version
        out[0x1E8:0x1EB] = bytes((cur.build, cur.minor, cur.major))
        out[0x1EC:0x1EF] = bytes((com.build, com.minor, com.major))
        struct.pack_into("<Q", out, 0x1F0, self.launch_tcb)
        if self.version >= 5:
            struct.pack_into("<QQ", out, 0x1F8, self.launch_mit_vector, self.current_mit_vector)
        n = SIGNATURE_COMPONENT_SIZE
        out[SIGNED_SIZE : SIGNED_SIZE + n] = self.signature_r.to_bytes(n, "little")
        out[SIGNED_SIZE + n : SIGNED_SIZE + 2 * n] = self.signature_s.to_bytes(n, "little")
        return bytes(out)

    def signed_bytes(self) -> bytes:
        """Bytes [0, 0x2A0): what the ECDSA P-384 signature covers."""
        return self.to_bytes()[:SIGNED_SIZE]

    @property
    def cpuid_product(self) -> Product | None:
        """The product the CPUID fields name (v3+), or ``None`` (v2, or unknown chip)."""
        if self.version < 3:
            return None
        return product_from_cpuid(self.cpuid_fam_id, self.cpuid_mod_id)

    def tcb(self, which: str, product: Product) -> TcbParts:
        """Decode ``current``, ``reported``, ``committed`` or ``launch`` TCB for ``product``."""
        return _tcb_parts(getattr(self, f"{which}_tcb"), product)


# The small bit-field decoders, memoised: a VM's reports repeat the same policy, platform info
# and TCB values, and the results are immutable. Errors are not cached (they are raised).
_guest_policy = functools.lru_cache(maxsize=256)(GuestPolicy.from_u64)
_platform_info = functools.lru_cache(maxsize=256)(PlatformInfo.from_u64)
_signer_info = functools.lru_cache(maxsize=64)(SignerInfo.from_u32)
_tcb_parts = functools.lru_cache(maxsize=1024)(TcbParts.from_u64)


def _mbz(data: bytes, what: str, lo: int, hi: int) -> None:
    if any(data[lo:hi]):
        raise MalformedEvidence(
            "snp.report.reserved",
            f"SNP report {what} must be zero, got {data[lo:hi].hex()}",
            field=what,
            expected="zero",
            got=data[lo:hi].hex(),
        )
