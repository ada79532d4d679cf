"""Property-based fuzzing of every DCAP parser: arbitrary and mutated bytes give a typed
:class:`AttestationError`, never another exception."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enarx.attestation.dcap import DcapPolicy, verify_tdx_quote
from enarx.attestation.dcap.abi import Quote
from enarx.attestation.dcap.collateral import parse_qe_identity, parse_tcb_info
from enarx.attestation.dcap.enarx import (
    decode_enarx_sgx_evidence,
    decode_enarx_tdx_evidence,
    encode_enarx_tdx_evidence,
)
from enarx.attestation.dcap.pck import OID_SGX_EXTENSIONS, parse_pck_extensions
from enarx.attestation.dcap.testing import test_only_sgx_extensions
from enarx.attestation.errors import AttestationError
from enarx.attestation.options import VerifyOptions
from tests.attestation.dcap_cases import (
    GO_TDX,
    GO_TDX_NOW,
    OCCLUM,
    TRUSTEE_4,
    V5_SAMPLE,
    XEON_CSR,
    csr_parts,
    go_tdx_collateral,
)
from tests.vectors import vector

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """Flip, overwrite, cut or insert bytes of a valid input."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[pos:]
    return bytes(data)


def _typed_only(parse: Callable[[bytes], object], data: bytes) -> None:
    try:
        parse(data)
    except AttestationError:
        pass


@FUZZ
@given(st.binary(max_size=6000))
def test_quote_arbitrary(data: bytes) -> None:
    _typed_only(Quote.from_bytes, data)


@FUZZ
@given(st.sampled_from([OCCLUM, TRUSTEE_4, V5_SAMPLE]).flatmap(lambda p: mutated(vector(p))))
def test_quote_mutated(data: bytes) -> None:
    _typed_only(Quote.from_bytes, data)


@FUZZ
@given(st.one_of(st.binary(max_size=600), mutated(vector(GO_TDX + "sample_tcbInfo_response"))))
def test_tcb_info(data: bytes) -> None:
    _typed_only(parse_tcb_info, data)


@FUZZ
@given(st.one_of(st.binary(max_size=600), mutated(vector(GO_TDX + "sample_qeIdentity_response"))))
def test_qe_identity(data: bytes) -> None:
    _typed_only(parse_qe_identity, data)


@FUZZ
@given(st.one_of(st.binary(max_size=600), mutated(csr_parts(XEON_CSR).evidence)))
def test_enarx_sgx_evidence(data: bytes) -> None:
    _typed_only(decode_enarx_sgx_evidence, data)


@FUZZ
@given(st.one_of(st.binary(max_size=600), mutated(encode_enarx_tdx_evidence(vector(TRUSTEE_4), crls=go_tdx_collateral().crls))))
def test_enarx_tdx_evidence(data: bytes) -> None:
    _typed_only(decode_enarx_tdx_evidence, data)


_KEY = ec.generate_private_key(ec.SECP256R1())
_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fuzz")])


def _cert_with_extension(value: bytes) -> x509.Certificate:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return (
        x509.CertificateBuilder().subject_name(_NAME).issuer_name(_NAME).public_key(_KEY.public_key())
        .serial_number(1).not_valid_before(start).not_valid_after(start + timedelta(days=1))
        .add_extension(x509.UnrecognizedExtension(OID_SGX_EXTENSIONS, value), critical=False)
        .sign(_KEY, hashes.SHA256())
    )  # fmt: skip


@FEW
@given(st.one_of(st.binary(max_size=300), mutated(test_only_sgx_extensions(fmspc=b"\x00" * 6))))
def test_pck_extensions(data: bytes) -> None:
    _typed_only(parse_pck_extensions, _cert_with_extension(data))


def test_pck_extensions_seed_parses() -> None:
    ext = parse_pck_extensions(_cert_with_extension(test_only_sgx_extensions(fmspc=b"\x01" * 6, pce_svn=9)))
    assert (ext.fmspc, ext.pce_svn) == (b"\x01" * 6, 9)


@FEW
@given(mutated(vector(TRUSTEE_4)))
def test_full_verification_of_mutated_quotes(data: bytes) -> None:
    """Parse -> verify -> TCB -> policy on damaged real quotes: typed refusals only."""
    options = VerifyOptions(now=GO_TDX_NOW, collateral=go_tdx_collateral())
    _typed_only(lambda d: verify_tdx_quote(d, options=options, policy=DcapPolicy(allow_debug=True)), data)


_POLICY_KEYS = st.sampled_from(
    ["accepted_tcb_statuses", "allowed_advisories", "allow_debug", "require_qe_identity", "mrenclave", "mrsigner",
     "isv_prod_id", "min_isv_svn", "mrtd", "rtmr0", "mrconfigid", "mrowner", "bogus"]
)  # fmt: skip
_POLICY_VALUES = st.one_of(
    st.booleans(), st.integers(-5, 70000), st.text(max_size=8), st.none(),
    st.lists(st.one_of(st.text(max_size=8), st.sampled_from(["UpToDate", "Revoked", "aa" * 32, "bb" * 48]), st.integers()), max_size=3),
)  # fmt: skip


@FUZZ
@given(st.dictionaries(_POLICY_KEYS, _POLICY_VALUES, max_size=5))
def test_policy_loading(data: dict[str, object]) -> None:
    _typed_only(DcapPolicy.from_mapping, data)  # type: ignore[arg-type]
