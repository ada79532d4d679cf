"""Does a verified SEV-SNP report meet a policy?

Like go-sev-guest's ``validate``, this module checks **no signatures**: it takes a
:class:`~enarx.attestation.snp.verify.VerifiedReport` and compares its claims with an
:class:`SnpPolicy`. Every violation is collected into one :class:`PolicyViolation`, so a refusal
lists all that is wrong, not only the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Final

from enarx.attestation.errors import AttestationError, PolicyViolation
from enarx.attestation.snp.abi import Report, TcbParts
from enarx.attestation.snp.certs import subject_text
from enarx.attestation.snp.verify import VerifiedReport
from enarx.attestation.verdict import Verdict

_DIGEST_SIZES: Final = {
    "measurements": 48,
    "denied_measurements": 48,
    "host_data": 32,
    "denied_host_data": 32,
    "id_key_digests": 48,
    "denied_id_key_digests": 48,
    "author_key_digests": 48,
    "denied_author_key_digests": 48,
}
_TCB_COMPONENTS: Final = ("bootloader", "tee", "snp", "microcode", "fmc")
_SIGNING_KEYS: Final = frozenset({"VCEK", "VLEK"})


@dataclass(frozen=True)
class TcbFloor:
    """Minimum security patch level per firmware component; ``None`` = not checked.

    ``fmc`` only exists on Turin; a floor for it is ignored on Milan and Genoa.
    """

    bootloader: int | None = None
    tee: int | None = None
    snp: int | None = None
    microcode: int | None = None
    fmc: int | None = None

    def __post_init__(self) -> None:
        for name in _TCB_COMPONENTS:
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFF):
                raise _invalid(f"min_tcb.{name}", "an integer 0..255", value)

    def shortfalls(self, tcb: TcbParts) -> list[tuple[str, int, int]]:
        """(component, minimum, actual) for each component below its floor."""
        out = []
        for name in _TCB_COMPONENTS:
            floor = getattr(self, name)
            actual = getattr(tcb, name)
            if floor is not None and actual is not None and actual < floor:
                out.append((name, floor, actual))
        return out


@dataclass(frozen=True)
class SnpPolicy:
    """What a verified SEV-SNP report must satisfy. The defaults are the secure ones.

    Allow lists that are empty mean "any value"; deny lists always apply. ``min_abi`` is the
    guest policy's minimum ABI version (Steward's ``abi``), ``min_firmware`` the committed
    firmware version, both compared as (major, minor) tuples.
    """

    allow_debug: bool = False
    allow_migration_agent: bool = False
    allow_smt: bool = True
    require_single_socket: bool = False
    require_tsme: bool = False
    require_crl: bool = False
    allowed_vmpls: frozenset[int] = frozenset({0})
    allowed_signing_keys: frozenset[str] = _SIGNING_KEYS
    min_tcb: TcbFloor = field(default_factory=TcbFloor)
    min_guest_svn: int = 0
    min_abi: tuple[int, int] | None = None
    min_firmware: tuple[int, int] | None = None
    measurements: frozenset[bytes] = frozenset()
    denied_measurements: frozenset[bytes] = frozenset()
    host_data: frozenset[bytes] = frozenset()
    denied_host_data: frozenset[bytes] = frozenset()
    id_key_digests: frozenset[bytes] = frozenset()
    denied_id_key_digests: frozenset[bytes] = frozenset()
    author_key_digests: frozenset[bytes] = frozenset()
    denied_author_key_digests: frozenset[bytes] = frozenset()

    def __post_init__(self) -> None:
        for name, size in _DIGEST_SIZES.items():
            for digest in getattr(self, name):
                if len(digest) != size:
                    raise _invalid(name, f"{size}-byte digests", f"{len(digest)} bytes")
        for allow, deny in (
            ("measurements", "denied_measurements"),
            ("host_data", "denied_host_data"),
            ("id_key_digests", "denied_id_key_digests"),
            ("author_key_digests", "denied_author_key_digests"),
        ):
            both = getattr(self, allow) & getattr(self, deny)
            if both:
                raise _invalid(deny, f"no value also in {allow}", sorted(d.hex() for d in both)[0])
        if not self.allowed_vmpls or any(not 0 <= v <= 3 for v in self.allowed_vmpls):
            raise _invalid("allowed_vmpls", "a non-empty list of 0..3", sorted(self.allowed_vmpls))
        if not self.allowed_signing_keys or not self.allowed_signing_keys <= _SIGNING_KEYS:
            raise _invalid("allowed_signing_keys", "a non-empty list of VCEK, VLEK", sorted(self.allowed_signing_keys))
        if self.min_guest_svn < 0 or self.min_guest_svn > 0xFFFFFFFF:
            raise _invalid("min_guest_svn", "an integer 0..4294967295", self.min_guest_svn)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], *, where: str = "snp") -> SnpPolicy:
        """Build a policy from a TOML/JSON table; digests are hex strings.

        Also reads Steward's ``[snp]`` keys (``signer``, ``hash``, ``hash_blacklist``,
        ``id_key_digest``, ``id_key_digest_blacklist``, ``abi``, ``policy_flags``,
        ``platform_info_flags``), so an existing ``steward.toml`` keeps working. Unknown keys
        are refused: a misspelt ``measurements`` must not silently allow every guest.
        """
        kwargs: dict[str, object] = {}

        def put(name: str, key: str, value: object) -> None:
            if name in kwargs:
                raise _invalid(key, f"only one of the keys that set {name}", key, where=where, what="duplicate key")
            kwargs[name] = value

        for key, value in data.items():
            if key in _DIGEST_SIZES or key in _STEWARD_DIGESTS:
                name = _STEWARD_DIGESTS.get(key, key)
                put(name, key, frozenset(_digests(key, value, _DIGEST_SIZES[name], where)))
            elif key in ("allow_debug", "allow_migration_agent", "allow_smt", "require_single_socket", "require_tsme", "require_crl"):
                put(key, key, _bool(key, value, where))
            elif key == "allowed_vmpls":
                put(key, key, frozenset(_ints(key, value, where)))
            elif key == "allowed_signing_keys":
                put(key, key, frozenset(_strings(key, value, where)))
            elif key == "min_guest_svn":
                put(key, key, _int(key, value, where))
            elif key in ("min_abi", "min_firmware"):
                put(key, key, _version(key, value, where))
            elif key == "min_tcb":
                if not isinstance(value, Mapping):
                    raise _invalid(key, "a table of bootloader, tee, snp, microcode, fmc", value, where=where)
                unknown = sorted(set(value) - set(_TCB_COMPONENTS))
                if unknown:
                    raise _invalid(f"min_tcb.{unknown[0]}", f"one of {', '.join(_TCB_COMPONENTS)}", unknown[0], where=where, what="unknown key")
                try:
                    floor = TcbFloor(**{k: _int(f"min_tcb.{k}", v, where) for k, v in value.items()})
                except AttestationError as exc:
                    if exc.field and exc.field.startswith(f"{where}."):
                        raise
                    raise _invalid(str(exc.field), str(exc.expected), exc.got, where=where) from None
                put(key, key, floor)
            elif key == "abi":  # Steward: a semver requirement on the guest policy ABI
                if value == "*":
                    continue
                match = re.fullmatch(r"\s*>=\s*(\d+)\.(\d+)(?:\.0)?\s*", value) if isinstance(value, str) else None
                if match is None:
                    raise _invalid(key, "'*' or '>=MAJOR.MINOR'", value, where=where)
                put("min_abi", key, (int(match[1]), int(match[2])))
            elif key == "policy_flags":  # Steward: the guest policy flags a report may have
                flags = set(_strings(key, value, where))
                unknown = sorted(flags - {"Debug", "SingleSocket", "SMT"})
                if unknown:
                    raise _invalid(key, "a list of Debug, SingleSocket, SMT", unknown[0], where=where)
                put("allow_debug", key, "Debug" in flags)
                put("allow_smt", key, "SMT" in flags)
            elif key == "platform_info_flags":
                # Steward's names: "SME" is PLATFORM_INFO bit 0 (really SMT_EN), "TSME" bit 1.
                if value not in ("SME", "TSME"):
                    raise _invalid(key, "'SME' or 'TSME'", value, where=where)
                put("require_tsme", key, value == "TSME")
            else:
                known = sorted({f.name for f in fields(cls)} | set(_STEWARD_DIGESTS) | {"abi", "policy_flags", "platform_info_flags"})
                raise _invalid(key, f"one of {', '.join(known)}", key, where=where, what="unknown key")
        try:
            return cls(**kwargs)  # type: ignore[arg-type]
        except AttestationError as exc:
            raise AttestationError("policy.invalid", f"{where}.{exc.message}", field=f"{where}.{exc.field}", expected=exc.expected, got=exc.got) from None


_NO_FLOOR: Final = TcbFloor()

_STEWARD_DIGESTS: Final = {
    "signer": "author_key_digests",
    "hash": "measurements",
    "hash_blacklist": "denied_measurements",
    "id_key_digest": "id_key_digests",
    "id_key_digest_blacklist": "denied_id_key_digests",
}


def validate_report(verified: VerifiedReport, policy: SnpPolicy, *, report_data_prefix: bytes | None = None) -> None:
    """Raise one :class:`PolicyViolation` listing every way ``verified`` misses ``policy``.

    ``report_data_prefix``: REPORT_DATA must start with these bytes (the binding of a key or
    nonce to the report); a mismatch is reported first, as ``binding.report_data``.
    """
    report = verified.report
    out: list[AttestationError] = []

    def violation(code: str, message: str, *, field: str, expected: object = None, got: object = None) -> None:
        out.append(AttestationError(code, message, field=field, expected=expected, got=got))

    # 1. The binding first: without it nothing else in the report is about this key or nonce.
    if report_data_prefix is not None and report.report_data[: len(report_data_prefix)] != report_data_prefix:
        violation(
            "binding.report_data",
            f"report_data does not start with the expected {len(report_data_prefix)} bytes",
            field="report_data",
            expected=report_data_prefix.hex(),
            got=report.report_data[: len(report_data_prefix)].hex(),
        )
    # 2. Guest policy the VM owner set at launch.
    gp = report.policy
    if gp.debug and not policy.allow_debug:
        violation("snp.policy.debug", "guest policy allows debugging (the host can read guest memory)", field="policy.debug", expected=False, got=True)
    if gp.migrate_ma and not policy.allow_migration_agent:
        violation("snp.policy.migration_agent", "guest policy allows a migration agent", field="policy.migrate_ma", expected=False, got=True)
    if not policy.allow_smt and (gp.smt or report.platform_info.smt_enabled):
        violation(
            "snp.policy.smt",
            "SMT is allowed by the guest policy or enabled on the platform",
            field="policy.smt",
            expected=False,
            got={"policy.smt": gp.smt, "platform_info.smt_enabled": report.platform_info.smt_enabled},
        )
    if policy.require_single_socket and not gp.single_socket:
        violation("snp.policy.single_socket", "guest policy does not require a single socket", field="policy.single_socket", expected=True, got=False)
    if policy.require_tsme and not report.platform_info.tsme_enabled:
        violation("snp.platform.tsme", "platform does not have TSME enabled", field="platform_info.tsme_enabled", expected=True, got=False)
    if policy.min_abi is not None and (gp.abi_major, gp.abi_minor) < policy.min_abi:
        violation(
            "snp.policy.abi",
            f"guest policy ABI {gp.abi_major}.{gp.abi_minor} is below {policy.min_abi[0]}.{policy.min_abi[1]}",
            field="policy.abi",
            expected=f">= {policy.min_abi[0]}.{policy.min_abi[1]}",
            got=f"{gp.abi_major}.{gp.abi_minor}",
        )
    if report.vmpl not in policy.allowed_vmpls:
        violation("snp.vmpl", f"report VMPL is {report.vmpl}", field="vmpl", expected=sorted(policy.allowed_vmpls), got=report.vmpl)
    if verified.key.kind not in policy.allowed_signing_keys:
        violation("snp.signing_key.not_allowed", f"report signed by a {verified.key.kind}", field="signer_info.signing_key", expected=sorted(policy.allowed_signing_keys), got=verified.key.kind)
    if policy.require_crl and not verified.crl_checked:
        violation("snp.crl.required", "no AMD CRL was supplied to check the chain against", field="crl", expected="a current ARK CRL", got=None)
    # 3. Firmware: every TCB the report vouches for meets the floor.
    for which in ("reported", "committed", "current") if policy.min_tcb != _NO_FLOOR else ():
        for name, floor, actual in policy.min_tcb.shortfalls(verified.tcb(which)):
            violation(f"snp.tcb.{name}", f"{which}_tcb {name} SPL {actual} is below {floor}", field=f"{which}_tcb.{name}", expected=f">= {floor}", got=actual)
    if report.guest_svn < policy.min_guest_svn:
        violation("snp.guest_svn", f"guest_svn {report.guest_svn} is below {policy.min_guest_svn}", field="guest_svn", expected=f">= {policy.min_guest_svn}", got=report.guest_svn)
    if policy.min_firmware is not None:
        fw = report.committed_version
        if (fw.major, fw.minor) < policy.min_firmware:
            violation("snp.firmware", f"committed firmware {fw} is below {policy.min_firmware[0]}.{policy.min_firmware[1]}", field="committed_version", expected=f">= {policy.min_firmware[0]}.{policy.min_firmware[1]}", got=str(fw))
    # 4. Identity: allow and deny lists.
    _lists(violation, "measurement", report.measurement, policy.measurements, policy.denied_measurements)
    _lists(violation, "host_data", report.host_data, policy.host_data, policy.denied_host_data)
    _lists(violation, "id_key_digest", report.id_key_digest, policy.id_key_digests, policy.denied_id_key_digests)
    if policy.author_key_digests and not report.signer_info.author_key_en:
        violation("snp.author_key_digest.not_allowed", "the ID block was not signed by an author key", field="author_key_en", expected=True, got=False)
    else:
        _lists(violation, "author_key_digest", report.author_key_digest, policy.author_key_digests, policy.denied_author_key_digests)
    if out:
        raise PolicyViolation(out)


def _lists(violation: Callable[..., None], name: str, value: bytes, allowed: frozenset[bytes], denied: frozenset[bytes]) -> None:
    if allowed and value not in allowed:
        violation(f"snp.{name}.not_allowed", f"{name} {value.hex()} is not allowed by the policy", field=name, expected=sorted(v.hex() for v in allowed), got=value.hex())
    if value in denied:
        violation(f"snp.{name}.denied", f"{name} {value.hex()} is denied by the policy", field=name, got=value.hex())


def report_claims(verified: VerifiedReport) -> dict[str, object]:
    """Every verified field of the report, JSON-ready (bytes as lowercase hex)."""
    r: Report = verified.report
    gp = r.policy
    pi = r.platform_info
    return {
        "version": r.version,
        "product": verified.product,
        "guest_svn": r.guest_svn,
        "policy": {
            "abi": f"{gp.abi_major}.{gp.abi_minor}",
            "smt": gp.smt,
            "migrate_ma": gp.migrate_ma,
            "debug": gp.debug,
            "single_socket": gp.single_socket,
            "cxl_allow": gp.cxl_allow,
            "mem_aes_256_xts": gp.mem_aes_256_xts,
            "rapl_dis": gp.rapl_dis,
            "ciphertext_hiding": gp.ciphertext_hiding,
            "page_swap_disable": gp.page_swap_disable,
        },
        "family_id": r.family_id.hex(),
        "image_id": r.image_id.hex(),
        "vmpl": r.vmpl,
        "platform_info": {k: getattr(pi, k) for k in pi.__dataclass_fields__},
        "signer": verified.key.to_json(),
        "author_key_en": r.signer_info.author_key_en,
        "mask_chip_key": r.signer_info.mask_chip_key,
        "report_data": r.report_data.hex(),
        "measurement": r.measurement.hex(),
        "host_data": r.host_data.hex(),
        "id_key_digest": r.id_key_digest.hex(),
        "author_key_digest": r.author_key_digest.hex(),
        "report_id": r.report_id.hex(),
        "report_id_ma": r.report_id_ma.hex(),
        "chip_id": r.chip_id.hex(),
        "tcb": {which: verified.tcb(which).to_json() for which in ("current", "reported", "committed", "launch")},
        "current_firmware": str(r.current_version),
        "committed_firmware": str(r.committed_version),
        "cpuid": {"family": r.cpuid_fam_id, "model": r.cpuid_mod_id, "stepping": r.cpuid_step} if r.version >= 3 else None,
        "launch_mit_vector": r.launch_mit_vector if r.version >= 5 else None,
        "current_mit_vector": r.current_mit_vector if r.version >= 5 else None,
        "crl_checked": verified.crl_checked,
        # The key by its role (its name was checked when it was picked), then AMD's long-lived
        # intermediate and root, whose names are remembered.
        "chain": [f"CN=SEV-{verified.key.kind}", *(subject_text(c) for c in verified.chain[1:])],
    }


def verdict_of(verified: VerifiedReport) -> Verdict:
    """The :class:`Verdict` of a verified (and validated) report."""
    r = verified.report
    return Verdict(tee="snp", measurement=r.measurement, report_data=r.report_data, debug=r.policy.debug, claims=report_claims(verified))


def _invalid(key: str, expected: str, got: object, *, where: str | None = None, what: str = "invalid value") -> AttestationError:
    name = f"{where}.{key}" if where else key
    return AttestationError("policy.invalid", f"{name}: {what} {got!r}, expected {expected}", field=name, expected=expected, got=got)


def _bool(key: str, value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise _invalid(key, "true or false", value, where=where)
    return value


def _int(key: str, value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(key, "an integer", value, where=where)
    return value


def _ints(key: str, value: object, where: str) -> Iterable[int]:
    if not isinstance(value, list | tuple):
        raise _invalid(key, "a list of integers", value, where=where)
    return [_int(key, v, where) for v in value]


def _strings(key: str, value: object, where: str) -> list[str]:
    if not isinstance(value, list | tuple):
        raise _invalid(key, "a list of strings", value, where=where)
    for item in value:
        if not isinstance(item, str):
            raise _invalid(key, "a list of strings", item, where=where)
    return list(value)


def _digests(key: str, value: object, size: int, where: str) -> list[bytes]:
    out = []
    for item in _strings(key, value, where):
        try:
            digest = bytes.fromhex(item)
        except ValueError:
            raise _invalid(key, f"hex digests of {size} bytes", item, where=where) from None
        if len(digest) != size:
            raise _invalid(key, f"hex digests of {size} bytes", f"{item} ({len(digest)} bytes)", where=where)
        out.append(digest)
    return out


def _version(key: str, value: object, where: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)\.(\d+)", value) if isinstance(value, str) else None
    if match is None:
        raise _invalid(key, "'MAJOR.MINOR'", value, where=where)
    return int(match[1]), int(match[2])
