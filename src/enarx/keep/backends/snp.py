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

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from cryptography import x509

from enarx.attestation.csr import OID_EVIDENCE_SNP, encode_snp_evidence
from enarx.attestation.errors import AttestationError
from enarx.attestation.snp import amd_key_info
from enarx.attestation.snp.abi import SIGNING_KEY_VCEK, SIGNING_KEY_VLEK, Report
from enarx.attestation.snp.tsm import VCEK_GUID, VLEK_GUID, CertTableEntry, parse_tsm
from enarx.keep.backends.base import BackendError, Check, Evidence, all_passed, require_report_data
from enarx.keep.backends.cachefmt import HINT_UPDATE, CrlEntries
from enarx.keep.backends.configfs_tsm import DEFAULT_TSM_ROOT, PROVIDER_SNP, TsmClient
from enarx.keep.backends.hostcache import HostCache
from enarx.keep.backends.probe import provider_check, tsm_root_check
from enarx.keep.backends.pseudofs import OS_FS, PseudoFs

HINT_REPORT: Final = "the TEE returned something that is not an SNP report; check the guest kernel log (dmesg)"


def build_snp_evidence(
    outblob: bytes,
    auxblob: bytes,
    report_data: bytes,
    *,
    cached_keys: Sequence[x509.Certificate] = (),
    crls: CrlEntries = (),
) -> bytes:
    """Enarx's SNP evidence DER from a configfs-tsm report (sans-IO).

    Checks what the Keep can check about its own report before sending it: it parses, it
    carries ``report_data`` (a racing writer or a confused driver is caught here, not at the
    Steward), and an endorsement key for it is at hand.
    """
    try:
        tsm = parse_tsm(outblob, auxblob)
    except AttestationError as exc:
        raise BackendError(f"snp: configfs-tsm outblob/auxblob: {exc.message}", code="snp.outblob", hint=HINT_REPORT) from None
    report = tsm.report
    if report.report_data != report_data:
        raise BackendError(
            f"snp: the report carries report_data {report.report_data.hex()}, not the {report_data.hex()} written",
            code="tsm.report_data",
            hint="another writer or the driver changed the request; retry",
        )
    key = _endorsement_key(report, tsm.entries, cached_keys)
    return encode_snp_evidence(tsm.raw_report, key, crls)


def _endorsement_key(report: Report, entries: Sequence[CertTableEntry], cached: Sequence[x509.Certificate]) -> x509.Certificate:
    signing_key = report.signer_info.signing_key
    if signing_key not in (SIGNING_KEY_VCEK, SIGNING_KEY_VLEK):
        raise BackendError(f"snp: the report is not signed (signing_key {report.signer_info.signing_key_name})", code="snp.unsigned", hint=HINT_REPORT)
    kind = "VCEK" if signing_key == SIGNING_KEY_VCEK else "VLEK"
    guid = VCEK_GUID if kind == "VCEK" else VLEK_GUID
    # The key for this chip (hwID) and this REPORTED_TCB: from the host's certificate table
    # first, else from the cache. A host can attach a stale key (one from before a TCB update;
    # steward#50), so a fitting cached key beats an attached key that does not fit, and an
    # attached key that fits nothing is still sent: the verifier says precisely what is wrong.
    attached = [x509.load_der_x509_certificate(e.data) for e in entries if e.guid == guid]  # parse_tsm parsed them once
    for cert in (*attached, *cached):
        if _key_fits(cert, report, kind):
            return cert
    if attached:
        return attached[0]
    raise BackendError(
        f"snp: no {kind} for this report: the host attached none (auxblob) and the cache has none for its chip and reported TCB",
        code="snp.vcek.missing",
        hint=f"{HINT_UPDATE}, or configure the host to attach certificates to guest reports (snphost import)",
    )


def _key_fits(cert: x509.Certificate, report: Report, kind: str) -> bool:
    try:
        info = amd_key_info(cert)
        if info.kind != kind or info.tcb != report.tcb("reported", info.product):
            return False
    except (AttestationError, ValueError, TypeError, KeyError):
        return False  # not an AMD endorsement key
    if info.hwid is None or report.signer_info.mask_chip_key:
        return True
    return report.chip_id[: len(info.hwid)] == info.hwid


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
        value = build_snp_evidence(tsm.outblob, tsm.auxblob, data, cached_keys=self.cache.amd_keys(), crls=crls)
        return Evidence(oid=OID_EVIDENCE_SNP, value=value)
