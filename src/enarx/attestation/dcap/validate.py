"""Does verified DCAP evidence meet a policy?

Like go-sev-guest's ``validate``, this module checks **no signatures**: it takes claims that
:mod:`enarx.attestation.dcap.verify` already verified and compares them with a
:class:`DcapPolicy`. Every violation is collected, so a refusal lists all that is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Final

from enarx.attestation.errors import AttestationError, PolicyViolation

if TYPE_CHECKING:
    from enarx.attestation.dcap.abi import SgxReportBody, TdReportBody
    from enarx.attestation.dcap.tcb import TcbEvaluation

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
    # Intel's QE identity collateral must be supplied and match. Enarx's SGX CSR evidence does
    # not carry it, so a Steward either supplies it from its cache or waives it here, knowingly.
    require_qe_identity: bool = True
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
        if "Revoked" in self.accepted_tcb_statuses:
            # A revoked TCB fails verification itself (``<tee>.tcb.revoked``); no policy accepts it.
            raise _invalid("accepted_tcb_statuses", "statuses other than Revoked", "Revoked")
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
            elif key in ("allow_debug", "require_qe_identity"):
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


# --- validation ----------------------------------------------------------------------------


def _violation(code: str, field: str, expected: object, got: object, message: str) -> AttestationError:
    return AttestationError(code, message, field=field, expected=expected, got=got)


def _hexes(values: frozenset[bytes]) -> list[str]:
    return sorted(v.hex() for v in values)


def _tcb_violations(tee: str, evaluation: TcbEvaluation, policy: DcapPolicy) -> list[AttestationError]:
    out = []
    if evaluation.status not in policy.accepted_tcb_statuses:
        accepted = sorted(policy.accepted_tcb_statuses)
        out.append(
            _violation(
                f"{tee}.tcb.status",
                "tcb_status",
                accepted,
                evaluation.status,
                f"TCB status is {evaluation.status}, expected one of {', '.join(accepted)}",
            )
        )
    unexpected = [a for a in evaluation.advisory_ids if a not in policy.allowed_advisories]
    if unexpected:
        out.append(
            _violation(
                f"{tee}.tcb.advisory",
                "advisory_ids",
                sorted(policy.allowed_advisories),
                unexpected,
                f"advisories {', '.join(unexpected)} are not allowed by the policy",
            )
        )
    return out


def _allow(out: list[AttestationError], code: str, field: str, allowed: frozenset[bytes], got: bytes) -> None:
    if allowed and got not in allowed:
        out.append(_violation(code, field, _hexes(allowed), got, f"{field} {got.hex()} is not in the allow list"))


def sgx_violations(body: SgxReportBody, evaluation: TcbEvaluation, policy: DcapPolicy) -> list[AttestationError]:
    """Every way a verified SGX enclave report fails ``policy`` (empty: it passes)."""
    out = _tcb_violations("sgx", evaluation, policy)
    if body.debug and not policy.allow_debug:
        out.append(_violation("sgx.debug", "attributes.debug", False, True, "enclave is in DEBUG mode and the policy forbids it"))
    _allow(out, "sgx.mrenclave", "mrenclave", policy.mrenclave, body.mr_enclave)
    _allow(out, "sgx.mrsigner", "mrsigner", policy.mrsigner, body.mr_signer)
    if policy.isv_prod_id is not None and body.isv_prod_id != policy.isv_prod_id:
        out.append(
            _violation(
                "sgx.isv_prod_id",
                "isv_prod_id",
                policy.isv_prod_id,
                body.isv_prod_id,
                f"isv_prod_id is {body.isv_prod_id}, expected {policy.isv_prod_id}",
            )
        )
    if policy.min_isv_svn is not None and body.isv_svn < policy.min_isv_svn:
        out.append(
            _violation(
                "sgx.isv_svn",
                "isv_svn",
                f">= {policy.min_isv_svn}",
                body.isv_svn,
                f"isv_svn is {body.isv_svn}, expected >= {policy.min_isv_svn}",
            )
        )
    return out


def tdx_violations(body: TdReportBody, evaluation: TcbEvaluation, policy: DcapPolicy) -> list[AttestationError]:
    """Every way a verified TD report fails ``policy`` (empty: it passes)."""
    out = _tcb_violations("tdx", evaluation, policy)
    if body.debug and not policy.allow_debug:
        out.append(_violation("tdx.debug", "td_attributes.debug", False, True, "TD is in DEBUG mode and the policy forbids it"))
    _allow(out, "tdx.mrtd", "mrtd", policy.mrtd, body.mr_td)
    for i, rtmr in enumerate(body.rtmrs):
        _allow(out, f"tdx.rtmr{i}", f"rtmr{i}", getattr(policy, f"rtmr{i}"), rtmr)
    _allow(out, "tdx.mrconfigid", "mrconfigid", policy.mrconfigid, body.mr_config_id)
    _allow(out, "tdx.mrowner", "mrowner", policy.mrowner, body.mr_owner)
    return out


def enforce(violations: list[AttestationError]) -> None:
    """Raise one :class:`PolicyViolation` listing every violation, if there is any."""
    if violations:
        raise PolicyViolation(violations)
