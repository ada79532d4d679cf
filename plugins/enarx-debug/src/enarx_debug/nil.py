"""``nil``: no TEE at all, debug build only (Rust Enarx's nil/KVM, as its Steward sees it).

The Keep runs as an ordinary process; its CSR carries Enarx's KVM OID with an empty value,
which only a Steward whose policy allows nil (a test Steward) certifies, and then with the
insecure reason in the claims. This module ships only in ``enarx-debug``: a release install
has no code that could produce a CSR without evidence.
"""

from __future__ import annotations

from enarx.attestation.csr import OID_EVIDENCE_KVM
from enarx.keep.backends import Check, Evidence
from enarx.keep.backends.base import require_report_data


class NilBackend:
    name = "nil"
    key_curve = "P-256"
    insecure = True

    def checks(self) -> list[Check]:
        return [Check("no TEE", True, "debug build only (no isolation, no evidence)")]

    def available(self) -> bool:
        return True

    def evidence(self, report_data: bytes) -> Evidence:
        require_report_data(report_data, self.name)  # the same contract as every backend
        return Evidence(oid=OID_EVIDENCE_KVM, value=b"")
