"""``sgx``: a Gramine SGX enclave, quotes through ``/dev/attestation``.

Gramine's pseudo-files (gramine.readthedocs.io, "Attestation and Secret Provisioning"):
``attestation_type`` reads ``dcap`` when the manifest says ``sgx.remote_attestation =
"dcap"``; writing 64 bytes to ``user_report_data`` and then reading ``quote`` returns a DCAP
quote v3 whose REPORTDATA is those bytes. The evidence is Enarx's ``SgxEvidence`` (OID
``1.3.6.1.4.1.58270.1.2``) with the CRLs and TCB package of the host cache (``intel-sgx/``),
which the enclave must be allowed to read (``sgx.allowed_files``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

from enarx.keep.backends.base import BackendError, Check, Evidence, all_passed, require_report_data
from enarx.keep.backends.hostcache import HostCache
from enarx.keep.backends.pseudofs import OS_FS, PseudoFs

DEFAULT_ATTESTATION_DEV: Final = Path("/dev/attestation")
T = TypeVar("T")

HINT_GRAMINE: Final = "run the Keep with gramine-sgx and `sgx.remote_attestation = \"dcap\"` in its manifest"


class SgxBackend:
    name = "sgx"
    key_curve = "P-256"
    insecure = False

    def __init__(self, *, attestation_dev: Path = DEFAULT_ATTESTATION_DEV, cache: HostCache | None = None, fs: PseudoFs = OS_FS) -> None:
        self.dev = Path(attestation_dev)
        self.cache = cache or HostCache()
        self.fs = fs

    def checks(self) -> list[Check]:
        base = self.cache.intel("sgx")
        dev = self._dev_check()
        return [
            dev,
            self._type_check() if dev.passed else Check("attestation type dcap", False, "not checked: no Gramine", hint=HINT_GRAMINE),
            self.cache.file_check("Intel CRL cache", base / "crls.der"),
            self.cache.file_check("Intel TCB cache", base / "tcb.der"),
        ]

    def available(self) -> bool:
        return all_passed(self.checks())

    def evidence(self, report_data: bytes) -> Evidence:
        data = require_report_data(report_data, self.name)
        collateral = self.cache.intel_collateral("sgx", required=True)
        kind = self._attestation_type()
        if kind != "dcap":
            raise BackendError(f"sgx: Gramine attestation type is {kind!r}, expected 'dcap'", code="sgx.attestation_type", hint=HINT_GRAMINE)
        self._io(lambda: self.fs.write(self.dev / "user_report_data", data), "write user_report_data")
        quote = self._io(lambda: self.fs.read(self.dev / "quote"), "read quote")
        # The DCAP encoders load only when evidence is made, not to list or pick backends.
        from enarx.attestation.dcap.enarx import OID_EVIDENCE_SGX
        from enarx.keep.backends.intel import build_sgx_evidence

        return Evidence(oid=OID_EVIDENCE_SGX, value=build_sgx_evidence(quote, data, collateral))

    # ---

    def _dev_check(self) -> Check:
        if self.fs.is_dir(self.dev):
            return Check("Gramine attestation", True, str(self.dev))
        return Check("Gramine attestation", False, f"{self.dev} does not exist", hint=HINT_GRAMINE)

    def _type_check(self) -> Check:
        try:
            kind = self._attestation_type()
        except BackendError as exc:
            return Check("attestation type dcap", False, exc.reason, hint=exc.hint)
        if kind != "dcap":
            return Check("attestation type dcap", False, f"attestation type is {kind!r}", hint=HINT_GRAMINE)
        return Check("attestation type dcap", True, kind)

    def _attestation_type(self) -> str:
        raw = self._io(lambda: self.fs.read(self.dev / "attestation_type"), "read attestation_type")
        return raw[:64].decode("ascii", errors="replace").strip()

    def _io(self, op: Callable[[], T], what: str) -> T:
        try:
            return op()
        except FileNotFoundError:
            raise BackendError(f"sgx: cannot {what}: {self.dev} is not Gramine's attestation interface", code="sgx.missing", hint=HINT_GRAMINE) from None
        except OSError as exc:
            raise BackendError(f"sgx: cannot {what} in {self.dev}: {exc.strerror or exc}", code="sgx.io", hint=HINT_GRAMINE) from None
