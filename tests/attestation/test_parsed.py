"""Parsed certificates and CRLs are handed out again for the same bytes; failures never are."""

from __future__ import annotations

import pytest
from cryptography import x509

from enarx.attestation.dcap.enarx import decode_enarx_sgx_evidence
from enarx.attestation.errors import MalformedEvidence
from enarx.attestation.parsed import parsed
from tests.vectors import vector

SGX_CSR = "sgx/steward/icelake.signed.tcb.crl.multi.xeon.csr"


def test_the_same_bytes_give_the_same_object_and_failures_are_not_kept() -> None:
    calls: list[bytes] = []

    def load(der: bytes) -> bytes:
        calls.append(der)
        if der.startswith(b"bad"):
            raise ValueError("does not parse")
        return der.upper()

    first = parsed(b"some bytes", bytes, load)
    assert parsed(b"some " + b"bytes", bytes, load) is first and len(calls) == 1  # equal, not identical
    for _ in range(2):
        with pytest.raises(ValueError):
            parsed(b"bad bytes", bytes, load)
    assert len(calls) == 3
    # Remembered as another kind: loaded again, as the kind asked for.
    assert parsed(b"some bytes", int, lambda d: len(d)) == 10


def test_sgx_evidence_seen_twice_shares_its_collateral_objects() -> None:
    evidence = x509.load_der_x509_csr(vector(SGX_CSR)).extensions[0].value.value  # type: ignore[attr-defined]
    (_, one), (_, two) = decode_enarx_sgx_evidence(evidence), decode_enarx_sgx_evidence(bytes(evidence))
    assert all(a is b for a, b in zip(one.crls, two.crls, strict=True)) and one.crls
    assert all(a is b for a, b in zip(one.tcb_info_issuer_chain, two.tcb_info_issuer_chain, strict=True))


def test_sgx_evidence_that_is_not_der_is_refused() -> None:
    evidence = bytes(x509.load_der_x509_csr(vector(SGX_CSR)).extensions[0].value.value)  # type: ignore[attr-defined]
    for broken in (evidence[:-1], evidence + b"\0", b"\x30\x80" + evidence[2:], evidence[:4] + b"\x05" + evidence[5:]):
        with pytest.raises(MalformedEvidence) as info:
            decode_enarx_sgx_evidence(broken)
        assert info.value.code.startswith("sgx.evidence"), info.value.code
