"""Shared material for the DCAP tests: vector collateral, fixed instants, policies, test PKIs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from enarx.attestation.dcap import DcapPolicy
from enarx.attestation.dcap.testing import TestOnlyIntelPki
from enarx.attestation.options import Collateral, VerifyOptions
from tests.vectors import vector

SECOND = timedelta(seconds=1)
XEON_CSR = "sgx/steward/icelake.signed.tcb.crl.multi.xeon.csr"
I5_CSR = "sgx/steward/icelake.signed.tcb.crl.single.i5.csr"
OCCLUM = "sgx/trustee/occlum_quote.dat"
SPR_E4 = "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat"
V5_SAMPLE = "tdx/go-tdx-guest/quote_v5_sample.dat"
TRUSTEE_4 = "tdx/trustee/tdx_quote_4.dat"
TRUSTEE_5 = "tdx/trustee/tdx_quote_5.dat"
TRUSTEE_6 = "tdx/trustee/tdx_quote_6.dat"
GO_TDX = "tdx/go-tdx-guest/"

# go-tdx-guest's own test time; every piece of its 2023 collateral is valid then.
GO_TDX_NOW = datetime(2023, 7, 1, 1, 0, 0, tzinfo=UTC)
STEWARD_NOW = datetime(2023, 2, 1, tzinfo=UTC)

#: Steward's testdata/steward.toml allowed advisories (enarx-csr/steward.toml).
STEWARD_ADVISORIES = frozenset(
    f"INTEL-SA-{n:05d}" for n in (289, 381, 389, 477, 586, 614, 615, 617, 657)
)
STEWARD_MRENCLAVE = bytes.fromhex("4046ea255f0455131a024e1265ac1ebd131fdbd1240f1712a00381f6f04e8c15")
STEWARD_MRSIGNER = bytes.fromhex("7a49a07df0f8e90a6e1d9a63e3c696d9c844f0e3f8739b21daa640f99facc48a")


def steward_policy(**overrides: object) -> DcapPolicy:
    """What Steward's test policy means here: OutOfDate platforms with the listed advisories.

    The Steward CSRs carry no QE identity and SET 1 has no SGX QE identity for 2023, so the
    policy waives it knowingly.
    """
    fields: dict[str, object] = {
        "accepted_tcb_statuses": frozenset({"UpToDate", "SWHardeningNeeded", "OutOfDate"}),
        "allowed_advisories": STEWARD_ADVISORIES,
        "mrenclave": frozenset({STEWARD_MRENCLAVE}),
        "mrsigner": frozenset({STEWARD_MRSIGNER}),
        "isv_prod_id": 0,
        "min_isv_svn": 0,
        "require_qe_identity": False,
    }
    fields.update(overrides)
    return DcapPolicy(**fields)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CsrParts:
    evidence: bytes
    spki_der: bytes


def csr_parts(path: str) -> CsrParts:
    csr = x509.load_der_x509_csr(vector(path))
    (ext,) = list(csr.extensions)
    spki = csr.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return CsrParts(ext.value.value, spki)  # type: ignore[attr-defined]


def go_tdx_collateral(**overrides: object) -> Collateral:
    """go-tdx-guest's 2023 collateral (FMSPC 50806F000000): TCB info, QE identity, CRLs."""
    fields: dict[str, object] = {
        "crls": (x509.load_der_x509_crl(vector(GO_TDX + "pckcrl")), x509.load_der_x509_crl(vector(GO_TDX + "rootcrl.der"))),
        "tcb_info": vector(GO_TDX + "sample_tcbInfo_response"),
        "tcb_info_issuer_chain": tuple(x509.load_pem_x509_certificates(vector(GO_TDX + "tcb_info_issuer_chain.pem"))),
        "qe_identity": vector(GO_TDX + "sample_qeIdentity_response"),
    }
    fields.update(overrides)
    return Collateral(**fields)  # type: ignore[arg-type]


def chain_2025() -> tuple[x509.Certificate, ...]:
    return tuple(x509.load_pem_x509_certificates(vector("roots/intel_sgx_tcb_signing_chain_2025.pem")))


T0 = datetime(2024, 1, 1, tzinfo=UTC)
T_END = T0 + timedelta(days=365)
T_NOW = T0 + timedelta(days=30)


@cache
def fake_pki() -> TestOnlyIntelPki:
    """One fake Intel PKI for the synthetic tests (key generation is the slow part)."""
    return TestOnlyIntelPki.create(not_before=T0, not_after=T_END)


def fake_options(
    pki: TestOnlyIntelPki, tee: str, *, now: datetime = T_NOW, **overrides: object
) -> VerifyOptions:
    fields: dict[str, object] = {
        "crls": pki.crls(),
        "tcb_info": pki.tcb_info(tee),
        "tcb_info_issuer_chain": pki.tcb_signing_chain,
        "qe_identity": pki.qe_identity(tee),
    }
    fields.update(overrides)
    return VerifyOptions(
        now=now, extra_roots=(pki.root,), trust_vendor_roots=False, collateral=Collateral(**fields)  # type: ignore[arg-type]
    )
