"""``enarx attest verify`` in process: one test per exit status, each input form, JSON output."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from enarx.attestation.snp.tsm import build_tsm
from enarx.attestation.testing import TestOnlyAmdSignerBuilder
from enarx.cli.environment import Environment
from enarx.cli.main import main
from enarx.cli.status import ExitStatus
from tests.vectors import vectors_dir

MILAN_CSR_NOW = "2023-02-01T00:00:00Z"


def run(*argv: str, clock: datetime = datetime(2024, 1, 1, tzinfo=UTC), environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, environ=environ or {}, clock=lambda: clock, cache_dir=Path("/nonexistent"))
    status = main(["attest", "verify", *argv], env)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def v() -> Path:
    return vectors_dir()


def test_accepted_csr_with_steward_policy(v: Path) -> None:
    status, out, _ = run(str(v / "enarx-csr/milan.signed.crl.csr"), "--policy", str(v / "enarx-csr/steward.toml"), "--at", MILAN_CSR_NOW)
    assert status == ExitStatus.OK
    assert out.startswith("accepted: Enarx CSR (snp)")
    assert "ff717ae719840c93c1fca3b7db96488454c3c21b43531488eecff51cfed3febcd91da8be87a4cbcbc52a3bae770987c3" in out
    assert "reported tcb:  bootloader=2 tee=0 snp=6 microcode=93" in out
    assert "crl checked:   yes" in out


def test_refused_debug_report_prints_code_and_reason(v: Path) -> None:
    status, out, _ = run(str(v / "snp/go-sev-guest/attestation.bin"), "--collateral", str(v / "snp/go-sev-guest/vcek.testcer"), "--at", "2022-09-24T01:00:00Z")
    assert status == ExitStatus.REFUSED
    assert out.startswith("refused: snp.policy.debug: ")


def test_refused_outside_the_window(v: Path) -> None:
    status, out, _ = run(str(v / "enarx-csr/milan.signed.crl.csr"), "--policy", str(v / "enarx-csr/steward.toml"), "--at", "2023-05-09T23:00:01Z")
    assert status == ExitStatus.REFUSED
    assert "snp.crl.expired" in out


def test_unreadable_input_is_an_error(tmp_path: Path) -> None:
    status, _, err = run(str(tmp_path / "missing.csr"))
    assert status == ExitStatus.ERROR
    assert "missing.csr" in err and "input.unreadable" in err
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"hello world")
    status, _, err = run(str(garbage))
    assert status == ExitStatus.ERROR
    assert "not an Enarx CSR" in err


def test_malformed_evidence_is_an_error_with_its_code(tmp_path: Path, v: Path) -> None:
    cut = tmp_path / "cut.csr"
    cut.write_bytes((v / "enarx-csr/milan.signed.crl.csr").read_bytes()[:-10])
    status, _, err = run(str(cut))
    assert status == ExitStatus.ERROR
    assert "[csr.malformed]" in err


def test_bad_time_is_a_usage_error(v: Path) -> None:
    status, _, _ = run(str(v / "enarx-csr/milan.signed.crl.csr"), "--at", "yesterday")
    assert status == ExitStatus.USAGE


def test_default_time_comes_from_the_environment_clock(tmp_path: Path, v: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[snp]\nallow_debug = true\n")
    args = (str(v / "snp/go-sev-guest/attestation.bin"), "--collateral", str(v / "snp/go-sev-guest/vcek.testcer"), "--policy", str(policy))
    status, out, _ = run(*args, clock=datetime(2022, 9, 24, 1, tzinfo=UTC))
    assert status == ExitStatus.OK, out
    assert "debug:         yes" in out
    status, out, _ = run(*args, clock=datetime(2022, 9, 24, 0, 55, 27, tzinfo=UTC))  # 1 s before the VCEK
    assert status == ExitStatus.REFUSED
    assert "snp.cert.not_yet_valid" in out


def test_environment_defaults(v: Path) -> None:
    environ = {"ENARX_ATTEST_AT": MILAN_CSR_NOW, "ENARX_ATTEST_POLICY": str(v / "enarx-csr/steward.toml")}
    status, out, _ = run(str(v / "enarx-csr/milan.signed.crl.csr"), environ=environ)
    assert status == ExitStatus.OK, out
    environ = {"ENARX_ATTEST_COLLATERAL": str(v / "snp/virtee-sev/vcek_milan.der")}
    status, out, _ = run(str(v / "snp/virtee-sev/report_milan.bin"), environ=environ)
    assert status == ExitStatus.OK, out


def test_json_accepted_and_refused(v: Path) -> None:
    status, out, err = run(str(v / "snp/virtee-sev/report_milan.hex"), "--collateral", str(v / "snp/virtee-sev/vcek_milan.der"), "--json")
    assert status == ExitStatus.OK
    doc = json.loads(out)
    assert doc["accepted"] is True and doc["evidence"] == "SEV-SNP report"
    assert doc["verdict"]["claims"]["tcb"]["reported"] == {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
    assert "no measurement was pinned" in err
    status, out, _ = run(str(v / "snp/virtee-sev/report_milan.bin"), "--json")
    assert status == ExitStatus.REFUSED
    assert json.loads(out) == {"accepted": False, "error": {"code": "snp.vcek.missing", "reason": "no SEV-VCEK certificate came with the evidence or the collateral", "field": "vcek"}}


def test_policy_violations_are_all_listed(tmp_path: Path, v: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[snp]\nmeasurements = ["' + "00" * 48 + '"]\nmin_tcb = { microcode = 200 }\n')
    status, out, _ = run(str(v / "snp/virtee-sev/report_milan.bin"), "--collateral", str(v / "snp/virtee-sev/vcek_milan.der"), "--policy", str(policy))
    assert status == ExitStatus.REFUSED
    assert "  - snp.measurement.not_allowed: " in out
    assert "  - snp.tcb.microcode: " in out


def test_bad_policy_names_the_key(tmp_path: Path, v: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[snp]\nmeasurement = ["00"]\n')
    status, _, err = run(str(v / "snp/virtee-sev/report_milan.bin"), "--policy", str(policy))
    assert status == ExitStatus.ERROR
    assert "snp.measurement" in err and "[policy.invalid]" in err


def test_configfs_tsm_directory(tmp_path: Path, v: Path) -> None:
    vcek = (v / "snp/virtee-sev/vcek_milan.der").read_bytes()
    outblob, auxblob = build_tsm((v / "snp/virtee-sev/report_milan.bin").read_bytes(), vcek=vcek)
    (tmp_path / "outblob").write_bytes(outblob)
    (tmp_path / "auxblob").write_bytes(auxblob)
    (tmp_path / "provider").write_text("sev_guest\n")
    status, out, _ = run(str(tmp_path))
    assert status == ExitStatus.OK, out
    assert out.startswith("accepted: configfs-tsm SNP report (snp)")
    # The same auxblob as --collateral next to a bare report.
    status, out, _ = run(str(tmp_path / "outblob"), "--collateral", str(tmp_path / "auxblob"))
    assert status == ExitStatus.OK, out


def test_test_only_chains_are_not_trusted_by_the_command(tmp_path: Path) -> None:
    signer = TestOnlyAmdSignerBuilder().build()
    outblob, auxblob = build_tsm(signer.signed_report(), vcek=signer.vcek.public_bytes(Encoding.DER), ask=signer.ask.public_bytes(Encoding.DER), ark=signer.ark.public_bytes(Encoding.DER))
    (tmp_path / "outblob").write_bytes(outblob)
    (tmp_path / "auxblob").write_bytes(auxblob)
    status, out, _ = run(str(tmp_path))
    assert status == ExitStatus.REFUSED
    assert "snp.chain.untrusted" in out


def test_sgx_csr(v: Path) -> None:
    status, out, _ = run(str(v / "sgx/steward/icelake.signed.tcb.crl.single.i5.csr"), "--policy", str(v / "enarx-csr/steward.toml"), "--at", MILAN_CSR_NOW)
    assert status in (ExitStatus.OK, ExitStatus.REFUSED)
    if status == ExitStatus.OK:
        assert "4046ea255f0455131a024e1265ac1ebd131fdbd1240f1712a00381f6f04e8c15" in out
        assert "tcb status:" in out and "advisories:" in out


def test_help_teaches() -> None:
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO(), environ={})
    import contextlib

    with contextlib.redirect_stdout(out):
        status = main(["attest", "verify", "--help"], env)
    assert status == 0
    text = out.getvalue()
    for phrase in ("configfs-tsm", "--collateral", "--at", "steward.toml", "Exit status", "examples:"):
        assert phrase in text


def test_tdx_quote_with_collateral_files(tmp_path: Path, v: Path) -> None:
    collateral = [
        "tdx/go-tdx-guest/sample_tcbInfo_response",  # JSON: TCB info, exact bytes as served
        "tdx/go-tdx-guest/sample_qeIdentity_response",
        "tdx/go-tdx-guest/pckcrl",  # DER CRL
        "tdx/go-tdx-guest/rootcrl.der",
        "tdx/go-tdx-guest/tcb_info_issuer_chain.pem",  # PEM chain: TCB Signing, Root CA
    ]
    args = [str(v / "tdx/trustee/tdx_quote_4.dat"), "--at", "2023-07-01T01:00:00Z"]
    for path in collateral:
        args += ["--collateral", str(v / path)]
    status, out, _ = run(*args)
    assert status == ExitStatus.REFUSED
    assert out.startswith("refused: tdx.debug")  # a DEBUG TD, refused by the default policy
    policy = tmp_path / "policy.toml"
    policy.write_text("[tdx]\nallow_debug = true\n")
    status, out, _ = run(*args, "--policy", str(policy))
    assert status == ExitStatus.OK, out
    assert "tcb status:    UpToDate" in out
    assert "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031" in out
