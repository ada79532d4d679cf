"""What a Keep backend is: an evidence provider with checks a host can show.

A backend does not run anything: the Python runtime already runs inside the TEE (a
confidential VM for SNP and TDX, a Gramine enclave for SGX). It answers two questions:
can this process produce evidence here (:meth:`Backend.checks`), and what evidence binds
this ``report_data`` (:meth:`Backend.evidence`), as the CSR extension Enarx's Steward reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from enarx.errors import EnarxError

#: Every backend's report_data is 64 bytes: SHA-384(SPKI) on SNP, SHA-256(SPKI) zero-padded on
#: SGX and TDX (Enarx's binding); the TEEs' REPORTDATA fields are all 64 bytes.
REPORT_DATA_SIZE: Final = 64


@dataclass(frozen=True)
class Check:
    """One line of ``enarx platform info``: what was checked, the outcome, and what to do."""

    name: str
    passed: bool
    detail: str
    hint: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "pass": self.passed, "detail": self.detail, "hint": self.hint}


@dataclass(frozen=True)
class Evidence:
    """A CSR extension: the technology's OID and the DER (or empty) value Enarx puts under it."""

    oid: str
    value: bytes


@runtime_checkable
class Backend(Protocol):
    name: str  # "snp" | "tdx" | "sgx" | "nil"
    key_curve: str  # "P-384" for snp, "P-256" otherwise (as Enarx)
    insecure: bool  # True only for nil

    def checks(self) -> list[Check]: ...

    def available(self) -> bool: ...

    def evidence(self, report_data: bytes) -> Evidence: ...


class BackendError(EnarxError):
    """A backend could not produce evidence; ``hint`` says what to do about it."""

    code = "backend.error"

    def __init__(self, message: str, *, code: str, hint: str | None = None) -> None:
        super().__init__(message if hint is None else f"{message} (hint: {hint})", code=code)
        self.reason = message
        self.hint = hint


def require_report_data(report_data: bytes, backend: str) -> bytes:
    """The 64 bytes every backend writes into its TEE's report; anything else is a caller bug."""
    data = bytes(report_data)
    if len(data) != REPORT_DATA_SIZE:
        raise BackendError(
            f"{backend}: report_data is {len(data)} bytes, expected {REPORT_DATA_SIZE}",
            code="backend.report_data",
            hint="pass SHA-384(SPKI) on SNP or SHA-256(SPKI) zero-padded to 64 bytes on SGX/TDX",
        )
    return data


def all_passed(checks: Sequence[Check]) -> bool:
    return bool(checks) and all(c.passed for c in checks)


def report_data_for(backend: Backend, spki_der: bytes) -> bytes:
    """Enarx's binding of a Keep key: SHA-384(SPKI DER) with a P-384 key (SNP), SHA-256(SPKI
    DER) otherwise, zero-padded to 64 bytes (``identity/mod.rs`` in Enarx's exec-wasmtime)."""
    digest = hashlib.sha384(spki_der).digest() if backend.key_curve == "P-384" else hashlib.sha256(spki_der).digest()
    return digest.ljust(REPORT_DATA_SIZE, b"\0")
