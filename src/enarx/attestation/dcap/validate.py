"""Does verified DCAP evidence meet a policy?

Like go-sev-guest's ``validate``, this module checks **no signatures**: it takes claims that
:mod:`enarx.attestation.dcap.verify` already verified and compares them with a
:class:`DcapPolicy`. Every violation is collected, so a refusal lists all that is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Final

from enarx.attestation.errors import AttestationError

#: Intel's TCB statuses (PCS API v4), in the order Intel documents them.
TCB_STATUSES: Final = (
    "UpToDate",
    "SWHardeningNeeded",
    "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",
    "OutOfDate",
    "OutOfDateConfigurationNeeded",
    "Revoked",
)

_SGX_DIGEST = 32  # MRENCLAVE, MRSIGNER: SHA-256
_TDX_DIGEST = 48  # MRTD, RTMRs, MRCONFIGID, MROWNER: SHA-384
_U16_MAX = 0xFFFF


@dataclass(frozen=True)
class DcapPolicy:
    """What an Intel SGX or TDX verdict must satisfy.

    Empty allow lists mean "any value"; ``None`` means "not checked". The defaults are the
    secure ones: only ``UpToDate`` platforms, no advisories, no debug enclaves or TDs.
    ``allowed_advisories`` is checked **in addition to** the status (Steward ignored the
    status once advisories were listed, accepting OutOfDate platforms; we do not).
    """

    accepted_tcb_statuses: frozenset[str] = frozenset({"UpToDate"})
    allowed_advisories: frozenset[str] = frozenset()
    allow_debug: bool = False
    # SGX
    mrenclave: frozenset[bytes] = frozenset()
    mrsigner: frozenset[bytes] = frozenset()
    isv_prod_id: int | None = None
    min_isv_svn: int | None = None
    # TDX
    mrtd: frozenset[bytes] = frozenset()
    rtmr0: frozenset[bytes] = frozenset()
    rtmr1: frozenset[bytes] = frozenset()
    rtmr2: frozenset[bytes] = frozenset()
    rtmr3: frozenset[bytes] = frozenset()
    mrconfigid: frozenset[bytes] = frozenset()
    mrowner: frozenset[bytes] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.accepted_tcb_statuses) - set(TCB_STATUSES))
        if unknown:
            raise _invalid("accepted_tcb_statuses", f"one of {', '.join(TCB_STATUSES)}", unknown[0])
        if not self.accepted_tcb_statuses:
            raise _invalid("accepted_tcb_statuses", "at least one status", "[]")
        for name, size in _DIGEST_FIELDS.items():
            for digest in getattr(self, name):
                if len(digest) != size:
                    raise _invalid(name, f"{size}-byte digests", f"{len(digest)} bytes")
        for name in ("isv_prod_id", "min_isv_svn"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= _U16_MAX:
                raise _invalid(name, "an integer 0..65535", value)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> DcapPolicy:
        """Build a policy from a TOML/JSON table; digests are hex strings.

        Unknown keys are refused: a misspelt ``mrenclave`` must not silently allow every
        enclave.
        """
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, object] = {}
        for key, value in data.items():
            if key not in known:
                raise _invalid(key, f"one of {', '.join(sorted(known))}", key, what="unknown key")
            if key in ("accepted_tcb_statuses", "allowed_advisories"):
                kwargs[key] = frozenset(_strings(key, value))
            elif key == "allow_debug":
                if not isinstance(value, bool):
                    raise _invalid(key, "true or false", value)
                kwargs[key] = value
            elif key in ("isv_prod_id", "min_isv_svn"):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise _invalid(key, "an integer 0..65535", value)
                kwargs[key] = value
            else:
                kwargs[key] = frozenset(_digests(key, value, _DIGEST_FIELDS[key]))
        return cls(**kwargs)  # type: ignore[arg-type]


_DIGEST_FIELDS: Final = {
    "mrenclave": _SGX_DIGEST,
    "mrsigner": _SGX_DIGEST,
    "mrtd": _TDX_DIGEST,
    "rtmr0": _TDX_DIGEST,
    "rtmr1": _TDX_DIGEST,
    "rtmr2": _TDX_DIGEST,
    "rtmr3": _TDX_DIGEST,
    "mrconfigid": _TDX_DIGEST,
    "mrowner": _TDX_DIGEST,
}


def _strings(key: str, value: object) -> Iterable[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise _invalid(key, "a list of strings", value)
    for item in value:
        if not isinstance(item, str):
            raise _invalid(key, "a list of strings", item)
        yield item


def _digests(key: str, value: object, size: int) -> Iterable[bytes]:
    for item in _strings(key, value):
        try:
            digest = bytes.fromhex(item)
        except ValueError:
            raise _invalid(key, f"hex digests of {size} bytes", item) from None
        if len(digest) != size:
            raise _invalid(key, f"hex digests of {size} bytes", f"{item} ({len(digest)} bytes)")
        yield digest


def _invalid(key: str, expected: str, got: object, *, what: str = "invalid value") -> AttestationError:
    return AttestationError(
        "dcap.policy.invalid",
        f"DCAP policy {key}: {what} {got!r}, expected {expected}",
        field=key,
        expected=expected,
        got=got,
    )
