"""SNP evidence from a configfs-tsm report (sans-IO): checked, then encoded as Enarx's DER.

Kept apart from :mod:`enarx.keep.backends.snp` so that listing and choosing backends does not
load the SNP verifier's modules; they load when a Keep actually makes evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from cryptography import x509

from enarx.attestation.csr import encode_snp_evidence
from enarx.attestation.errors import AttestationError
from enarx.attestation.snp import amd_key_info
from enarx.attestation.snp.abi import SIGNING_KEY_VCEK, SIGNING_KEY_VLEK, Report
from enarx.attestation.snp.tsm import VCEK_GUID, VLEK_GUID, CertTableEntry, parse_tsm
from enarx.keep.backends.base import BackendError
from enarx.keep.backends.cachefmt import HINT_UPDATE, CrlEntries

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
