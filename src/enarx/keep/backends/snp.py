"""``snp``: an AMD SEV-SNP confidential VM, evidence through configfs-tsm (``sev_guest``).

The evidence is Enarx's (OID ``1.3.6.1.4.1.58270.1.3``)::

    Evidence ::= SEQUENCE { crts SEQUENCE { vcek Certificate, crl CrlList }, report OCTET STRING }

built with :func:`enarx.attestation.csr.encode_snp_evidence`, the inverse of what the Steward
decodes. The report is the configfs-tsm ``outblob``; the endorsement key (VCEK, or VLEK when
the report says so) comes from the ``auxblob`` certificate table the host attached, else from
the host cache (``amd-sev/``, filled by ``enarx platform update``); the CRLs from the cache
(``amd-sev/crls.der``). The ASK is not carried (Enarx's format has no place for it): verifiers
use AMD's, shipped with them.
"""

from __future__ import annotations

from pathlib import Path

from enarx.keep.backends.base import Check, Evidence, all_passed, require_report_data
from enarx.keep.backends.configfs_tsm import DEFAULT_TSM_ROOT, PROVIDER_SNP, TsmClient
from enarx.keep.backends.hostcache import HostCache
from enarx.keep.backends.probe import provider_check, tsm_root_check
from enarx.keep.backends.pseudofs import OS_FS, PseudoFs


class SnpBackend:
    """SEV-SNP through configfs-tsm; ``privlevel`` is the VMPL to request (None: the kernel's)."""

    name = "snp"
    key_curve = "P-384"
    insecure = False

    def __init__(
        self,
        *,
        tsm_root: Path = DEFAULT_TSM_ROOT,
        cache: HostCache | None = None,
        fs: PseudoFs = OS_FS,
        privlevel: int | None = None,
    ) -> None:
        self.client = TsmClient(tsm_root, fs=fs)
        self.cache = cache or HostCache()
        self.privlevel = privlevel

    def checks(self) -> list[Check]:
        root = tsm_root_check(self.client)
        return [
            root,
            provider_check(self.client, PROVIDER_SNP, "an AMD SEV-SNP guest", probe=root.passed),
            self.cache.file_check("AMD CRL cache", self.cache.amd / "crls.der"),
        ]

    def available(self) -> bool:
        return all_passed(self.checks())

    def evidence(self, report_data: bytes) -> Evidence:
        data = require_report_data(report_data, self.name)
        crls = self.cache.amd_crls()
        tsm = self.client.report(data, provider=PROVIDER_SNP, privlevel=self.privlevel)
        from enarx.attestation.csr import OID_EVIDENCE_SNP  # the verifier's modules load only here
        from enarx.keep.backends.snp_evidence import build_snp_evidence

        value = build_snp_evidence(tsm.outblob, tsm.auxblob, data, cached_keys=self.cache.amd_keys(), crls=crls)
        return Evidence(oid=OID_EVIDENCE_SNP, value=value)
