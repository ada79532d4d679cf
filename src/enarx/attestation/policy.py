"""One policy for every TEE: what evidence a verifier (the Steward, ``enarx attest verify``) accepts.

Loaded from a TOML-like mapping (the Steward's policy file, ``--policy``)::

    allow_nil = false          # KVM/nil "evidence" (no TEE): only for test Stewards

    [snp]                      # enarx.attestation.snp.validate.SnpPolicy
    measurements = ["ff717a..."]
    min_tcb = { bootloader = 2, snp = 6, microcode = 93 }

    [sgx]                      # enarx.attestation.dcap.validate.DcapPolicy
    mrenclave = ["4046ea..."]

    [tdx]
    mrtd = ["..."]

Steward's own ``steward.toml`` reads too: its ``[snp]`` keys are understood by
:meth:`SnpPolicy.from_mapping`, and its ``[sgx]`` keys (``signer``, ``hash``, ``features``,
``enclave_security_version``, ``enclave_product_id``) are translated here to
:class:`DcapPolicy` names. Every error names the key (``policy.invalid``, field ``sgx.hash``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from enarx.attestation.dcap.validate import TCB_STATUSES, DcapPolicy
from enarx.attestation.errors import AttestationError
from enarx.attestation.snp.validate import SnpPolicy

_TABLES: Final = ("snp", "sgx", "tdx")

# Steward [sgx] key -> DcapPolicy key.
_STEWARD_SGX: Final = {
    "signer": "mrsigner",
    "hash": "mrenclave",
    "enclave_product_id": "isv_prod_id",
    "enclave_security_version": "min_isv_svn",
}
_STEWARD_FEATURES: Final = frozenset({"CET", "Debug", "EInitKey", "KSS", "ProvisioningKey"})


@dataclass(frozen=True)
class AttestationPolicy:
    """Per-TEE policies, plus whether evidence-less (nil/KVM) Keeps are acceptable at all."""

    snp: SnpPolicy = field(default_factory=SnpPolicy)
    sgx: DcapPolicy = field(default_factory=DcapPolicy)
    tdx: DcapPolicy = field(default_factory=DcapPolicy)
    allow_nil: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> AttestationPolicy:
        """Build from a parsed TOML document; unknown keys and bad values are errors naming the key."""
        if not isinstance(data, Mapping):
            raise _invalid("(document)", "a table", type(data).__name__)
        unknown = sorted(set(data) - {*_TABLES, "allow_nil"})
        if unknown:
            raise _invalid(unknown[0], f"one of allow_nil, {', '.join(_TABLES)}", unknown[0], what="unknown key")
        allow_nil = data.get("allow_nil", False)
        if not isinstance(allow_nil, bool):
            raise _invalid("allow_nil", "true or false", allow_nil)
        tables: dict[str, Mapping[str, object]] = {}
        for name in _TABLES:
            table = data.get(name, {})
            if not isinstance(table, Mapping):
                raise _invalid(name, "a table", table)
            tables[name] = table
        snp = SnpPolicy.from_mapping(tables["snp"], where="snp")
        sgx = _dcap(tables["sgx"], "sgx")
        tdx = _dcap(tables["tdx"], "tdx")
        return cls(snp=snp, sgx=sgx, tdx=tdx, allow_nil=allow_nil)


def _dcap(table: Mapping[str, object], where: str) -> DcapPolicy:
    converted = dict(_from_steward_sgx(table, where)) if where == "sgx" else dict(table)
    try:
        return DcapPolicy.from_mapping(converted)
    except AttestationError as exc:
        name = f"{where}.{exc.field}" if exc.field else where
        raise AttestationError("policy.invalid", f"{where}: {exc.message}", field=name, expected=exc.expected, got=exc.got) from None


def _from_steward_sgx(table: Mapping[str, object], where: str) -> Mapping[str, object]:
    """Translate Steward's ``[sgx]`` keys; tables written with DcapPolicy names pass through."""
    out: dict[str, object] = {}
    steward_style = any(key in _STEWARD_SGX or key == "features" for key in table)
    for key, value in table.items():
        if key in _STEWARD_SGX:
            target = _STEWARD_SGX[key]
            if target in table:
                raise _invalid(f"{where}.{key}", f"either {key} or {target}, not both", key, what="duplicate key")
            out[target] = value
        elif key == "features":
            # Steward: the attribute flags an enclave may have. Only Debug matters to a verifier
            # that refuses debug enclaves by default.
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _invalid(f"{where}.features", "a list of CET, Debug, EInitKey, KSS, ProvisioningKey", value)
            bad = sorted(set(value) - _STEWARD_FEATURES)
            if bad:
                raise _invalid(f"{where}.features", "a list of CET, Debug, EInitKey, KSS, ProvisioningKey", bad[0])
            out["allow_debug"] = "Debug" in value
        elif key in ("hash_blacklist", "misc_select"):
            raise _invalid(f"{where}.{key}", "a key this verifier enforces", key, what="unsupported Steward key")
        else:
            out[key] = value
    if steward_style and "allowed_advisories" in table and "accepted_tcb_statuses" not in table:
        # Steward accepted any TCB status once advisories were listed (checking only that the
        # level's advisories are allowed); keep that meaning for its files, except Revoked.
        out["accepted_tcb_statuses"] = [s for s in TCB_STATUSES if s != "Revoked"]
    if steward_style and "require_qe_identity" not in table:
        # Steward never checked the QE identity and Enarx's SgxEvidence does not carry one; a
        # host can still supply it as collateral, and a table may ask for it explicitly.
        out["require_qe_identity"] = False
    return out


def _invalid(key: str, expected: str, got: object, *, what: str = "invalid value") -> AttestationError:
    return AttestationError("policy.invalid", f"policy {key}: {what} {got!r}, expected {expected}", field=key, expected=expected, got=got)
