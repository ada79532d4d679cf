"""``tdx``: an Intel TDX trust domain, quotes through configfs-tsm (``tdx_guest``).

The outblob is a DCAP quote v4/v5 (the kernel asks the host's quote generation service);
it goes into our ``TdxEvidence`` (Enarx never defined TDX evidence; the OID and format are
:mod:`enarx.attestation.dcap.enarx`'s) with whatever collateral the host cache holds
(``intel-tdx/``): none is required, a verifier may hold its own.
"""

from __future__ import annotations

from pathlib import Path

from enarx.keep.backends.base import Check, Evidence, all_passed, require_report_data
from enarx.keep.backends.configfs_tsm import DEFAULT_TSM_ROOT, PROVIDER_TDX, TsmClient
from enarx.keep.backends.hostcache import HostCache
from enarx.keep.backends.probe import provider_check, tsm_root_check
from enarx.keep.backends.pseudofs import OS_FS, PseudoFs


class TdxBackend:
    name = "tdx"
    key_curve = "P-256"
    insecure = False

    def __init__(self, *, tsm_root: Path = DEFAULT_TSM_ROOT, cache: HostCache | None = None, fs: PseudoFs = OS_FS) -> None:
        self.client = TsmClient(tsm_root, fs=fs)
        self.cache = cache or HostCache()

    def checks(self) -> list[Check]:
        root = tsm_root_check(self.client)
        base = self.cache.intel("tdx")
        return [
            root,
            provider_check(self.client, PROVIDER_TDX, "an Intel TDX guest", probe=root.passed),
            self.cache.file_check("Intel TDX collateral cache", base / "tcb.der", required=False),
        ]

    def available(self) -> bool:
        return all_passed(self.checks())

    def evidence(self, report_data: bytes) -> Evidence:
        data = require_report_data(report_data, self.name)
        collateral = self.cache.intel_collateral("tdx", required=False)
        tsm = self.client.report(data, provider=PROVIDER_TDX, auxblob=False)
        # The DCAP encoders load only when evidence is made, not to list or pick backends.
        from enarx.attestation.dcap.enarx import OID_EVIDENCE_TDX
        from enarx.keep.backends.intel import build_tdx_evidence

        return Evidence(oid=OID_EVIDENCE_TDX, value=build_tdx_evidence(tsm.outblob, data, collateral))
