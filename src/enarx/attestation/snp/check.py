"""Verify, then validate: one call from report bytes to a :class:`Verdict` or a typed refusal."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from enarx.attestation.options import VerifyOptions
from enarx.attestation.snp.abi import Report
from enarx.attestation.snp.validate import SnpPolicy, validate_report, verdict_of
from enarx.attestation.snp.verify import verify_report
from enarx.attestation.verdict import Verdict


def check_report(
    report: bytes | Report,
    *,
    options: VerifyOptions,
    policy: SnpPolicy,
    certificates: Sequence[x509.Certificate] = (),
    crls: Sequence[x509.CertificateRevocationList] = (),
    report_data_prefix: bytes | None = None,
) -> Verdict:
    """1. verify signatures, chain and revocation at ``options.now``; 2. validate ``policy``."""
    verified = verify_report(report, options=options, certificates=certificates, crls=crls)
    validate_report(verified, policy, report_data_prefix=report_data_prefix)
    return verdict_of(verified)
