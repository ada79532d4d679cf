"""The real Keep code path minus hardware: simulated SEV-SNP and TDX guests, a real Steward.

A simulated configfs-tsm tree (tests/keep/tsm_sim.py) answers the backend's reports with
reports signed by test-only AMD and Intel chains; a test-mode Steward, served by uvicorn on
loopback, trusts those chains through ``extra_roots``. ``enarx.keep.launch`` then does what
``enarx run --test`` does: key, evidence, claims, CSR over HTTP, certificate, TLS listener.
"""

from __future__ import annotations

import io
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from enarx.attestation.dcap.testing import TestOnlyIntelPki
from enarx.attestation.errors import MalformedEvidence
from enarx.attestation.snp.abi import GuestPolicy
from enarx.attestation.testing import TestOnlyAmdSignerBuilder
from enarx.keep.backends.base import Backend
from enarx.keep.launch import Launch, launch
from enarx.keep.modes import InsecureDeployment, Mode, evidence_shows_debug
from enarx.steward.embedded import EmbeddedSteward, start_embedded_steward
from tests.conftest import EXAMPLES, free_port
from tests.keep.conftest import tls_echo_config
from tests.keep.tsm_sim import simulated_snp_backend, simulated_tdx_backend


@pytest.fixture
def steward_for(tmp_path: Path) -> Iterator[object]:
    started: list[EmbeddedSteward] = []

    def start(roots_pem: bytes, *, clock: datetime | None = None, policy: str = "") -> EmbeddedSteward:
        roots = tmp_path / "extra-roots.pem"
        roots.write_bytes(roots_pem)
        steward = start_embedded_steward(
            extra_config=f'extra_roots = ["{roots}"]\n{policy}', clock=(lambda: clock) if clock else None
        )
        started.append(steward)
        return steward

    yield start
    for steward in started:
        steward.stop()


def run_keep(tmp_path: Path, backend: Backend, steward: EmbeddedSteward) -> tuple[x509.Certificate, list[str]]:
    """Launch the TLS echo Keep for a few seconds; return the certificate a client saw."""
    port = free_port()
    config = tls_echo_config(tmp_path / "keep", port=port, app="echo")
    config.write_text(config.read_text() + f'\n[test]\nsteward = "{steward.url}"\n')
    request = Launch(
        wasm=(EXAMPLES / "echo-tcp" / "main.wasm").read_bytes(), name="main.wasm", config_path=config,
        mode=Mode.TEST, overrides=["limits.wall_time=4"], backends=[backend], cache_dir=tmp_path / "cache",
    )
    errors = io.StringIO()
    thread = threading.Thread(target=launch, args=(request,), kwargs={"stderr": errors}, daemon=True)
    thread.start()
    context = ssl.create_default_context(cafile=str(steward.root_ca_path))
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, context.wrap_socket(
                raw, server_hostname="echo.app.enarx.test"
            ) as tls:
                tls.sendall(b"attested\n")
                assert tls.recv(100) == b"attested\n"
                leaf = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True) or b"")
                break
        except (ConnectionRefusedError, ConnectionResetError):
            assert thread.is_alive() and time.monotonic() < deadline, errors.getvalue()
            time.sleep(0.05)
    thread.join(timeout=30)
    return leaf, errors.getvalue().splitlines()


def test_snp_keep_is_certified_by_a_steward_trusting_the_test_chain(tmp_path: Path, steward_for) -> None:  # type: ignore[no-untyped-def]
    signer = TestOnlyAmdSignerBuilder().build()
    backend, _sim = simulated_snp_backend(tmp_path / "tee", signer)
    steward = steward_for(signer.ask.public_bytes(Encoding.PEM) + signer.ark.public_bytes(Encoding.PEM))
    leaf, _log = run_keep(tmp_path, backend, steward)
    record = steward.steward.log.get(leaf.serial_number)
    assert record is not None and record.tee == "snp"
    assert record.apps == ("echo",)
    # A real TEE and TLS only: the one reason left is the loopback Steward reached over http.
    assert record.claims is not None and record.claims["insecure"] == ["http-steward"]
    assert leaf.public_key().curve.name == "secp384r1"  # P-384 on SNP, as Enarx


def test_tdx_keep_is_certified_by_a_steward_trusting_the_test_chain(tmp_path: Path, steward_for) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    pki = TestOnlyIntelPki.create(not_before=now - timedelta(days=1), not_after=now + timedelta(days=365))
    backend, _sim = simulated_tdx_backend(tmp_path / "tee", pki)
    steward = steward_for(pki.root.public_bytes(Encoding.PEM))
    leaf, _log = run_keep(tmp_path, backend, steward)
    record = steward.steward.log.get(leaf.serial_number)
    assert record is not None and record.tee == "tdx"
    assert leaf.public_key().curve.name == "secp256r1"


def test_a_steward_that_does_not_trust_the_chain_refuses_the_keep(tmp_path: Path, steward_for) -> None:  # type: ignore[no-untyped-def]
    signer = TestOnlyAmdSignerBuilder().build()
    backend, _sim = simulated_snp_backend(tmp_path / "tee", signer)
    # The Steward trusts a test root, but not the one this Keep's chain leads to.
    now = datetime.now(UTC)
    other = TestOnlyIntelPki.create(not_before=now - timedelta(days=1), not_after=now + timedelta(days=1))
    steward = steward_for(other.root.public_bytes(Encoding.PEM))
    config = tls_echo_config(tmp_path / "keep", port=free_port(), app="echo")
    config.write_text(config.read_text() + f'\n[test]\nsteward = "{steward.url}"\n')
    request = Launch(
        wasm=(EXAMPLES / "echo-tcp" / "main.wasm").read_bytes(), name="main.wasm", config_path=config,
        mode=Mode.TEST, backends=[backend], overrides=["limits.wall_time=5"],
    )
    from enarx.keep.steward_client import StewardRefused

    with pytest.raises(StewardRefused) as info:
        launch(request, stderr=io.StringIO())
    # The refusal carries the Steward's own code (the verifier's) and its reason.
    assert info.value.code.startswith("snp."), info.value.code
    assert "refused this Keep" in str(info.value)


DEBUG_POLICY = GuestPolicy(abi_minor=51, abi_major=1, smt=True, migrate_ma=False, debug=True, single_socket=False)


def test_a_debug_snp_guest_says_so_in_its_certificate(tmp_path: Path, steward_for) -> None:  # type: ignore[no-untyped-def]
    """The Keep reads its own evidence: a guest launched with the SNP DEBUG policy bit claims
    tee-debug (and a Steward whose policy allows debug guests certifies it so)."""
    signer = TestOnlyAmdSignerBuilder().build()
    backend, _sim = simulated_snp_backend(tmp_path / "tee", signer, policy=DEBUG_POLICY)
    roots = signer.ask.public_bytes(Encoding.PEM) + signer.ark.public_bytes(Encoding.PEM)
    steward = steward_for(roots, policy="[snp]\nallow_debug = true\n")
    leaf, _log = run_keep(tmp_path, backend, steward)
    record = steward.steward.log.get(leaf.serial_number)
    assert record is not None and record.claims is not None
    assert record.claims["insecure"] == ["http-steward", "tee-debug"]


def test_a_secure_run_refuses_a_debug_tee_before_asking_a_steward(tmp_path: Path) -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    backend, _sim = simulated_snp_backend(tmp_path / "tee", signer, policy=DEBUG_POLICY)
    config = tls_echo_config(tmp_path / "keep", port=free_port(), app="echo")
    asked: list[bytes] = []

    def attester(csr: bytes) -> list[x509.Certificate]:
        asked.append(csr)
        raise AssertionError("a debug TEE must be refused before its CSR is sent")

    request = Launch(
        wasm=(EXAMPLES / "echo-tcp" / "main.wasm").read_bytes(), name="main.wasm", config_path=config,
        mode=Mode.SECURE, backends=[backend], attester=attester,
    )
    with pytest.raises(InsecureDeployment) as info:
        launch(request, stderr=io.StringIO())
    assert info.value.reasons == ("tee-debug",) and "tee-debug" in str(info.value) and asked == []


@pytest.mark.parametrize("debug", [False, True])
def test_evidence_shows_debug_for_each_tee(debug: bool) -> None:
    from enarx.attestation.csr import encode_snp_evidence
    from enarx.attestation.dcap.enarx import encode_enarx_sgx_evidence, encode_enarx_tdx_evidence
    from enarx.attestation.dcap.testing import test_only_sgx_body, test_only_td_body
    from enarx.attestation.oids import (
        OID_EVIDENCE_KVM,
        OID_EVIDENCE_SGX,
        OID_EVIDENCE_SNP,
        OID_EVIDENCE_TDX,
    )

    signer = TestOnlyAmdSignerBuilder().build()
    policy = DEBUG_POLICY if debug else None
    snp = encode_snp_evidence(signer.signed_report(**({"policy": policy} if policy else {})), signer.vcek)
    now = datetime.now(UTC)
    pki = TestOnlyIntelPki.create(not_before=now - timedelta(days=1), not_after=now + timedelta(days=1))
    tdx = encode_enarx_tdx_evidence(pki.quote(test_only_td_body(debug=debug)))
    sgx = encode_enarx_sgx_evidence(pki.quote(test_only_sgx_body(debug=debug)), crls=[("x", pki.crl("root"))],
                                    tcb_signing_chain=pki.tcb_signing_chain, tcb_info=b"{}")
    assert evidence_shows_debug(OID_EVIDENCE_SNP, snp) is debug
    assert evidence_shows_debug(OID_EVIDENCE_TDX, tdx) is debug
    assert evidence_shows_debug(OID_EVIDENCE_SGX, sgx) is debug
    assert evidence_shows_debug(OID_EVIDENCE_KVM, b"") is False
    with pytest.raises(MalformedEvidence):
        evidence_shows_debug(OID_EVIDENCE_SNP, snp[:-10])
