"""``enarx platform info [--json]`` in-process, on this host (no TEE) and on prepared paths."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

import enarx.cli.platform as platform_cli
from enarx.cli.environment import Environment
from enarx.cli.main import main
from enarx.keep.backends import Check, Evidence
from enarx.keep.backends.choose import plugin_backends as real_plugin_backends


def run(argv: list[str], environ: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, Environment(stdout=out, stderr=err, environ=environ))
    return status, out.getvalue(), err.getvalue()


def paths(tmp_path: Path) -> dict[str, str]:
    return {
        "ENARX_TSM_ROOT": str(tmp_path / "tsm" / "report"),
        "ENARX_ATTESTATION_DEV": str(tmp_path / "attestation"),
        "ENARX_CACHE_ROOT": str(tmp_path / "cache"),
    }


@pytest.fixture
def no_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform_cli, "plugin_backends", lambda taken: [])


class Exploding:
    name = "boom"
    key_curve = "P-256"
    insecure = False

    def checks(self) -> list[Check]:
        raise RuntimeError("driver exploded")

    def available(self) -> bool:
        return False

    def evidence(self, report_data: bytes) -> Evidence:
        raise AssertionError("never called")


def test_text_on_a_host_without_a_tee(tmp_path: Path, no_plugins: None) -> None:
    status, out, err = run(["platform", "info"], paths(tmp_path))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("Enarx version ") and lines[1].startswith("System Info: ")
    assert [line for line in lines if "Backend:" in line] == ["✘ Backend: snp", "✘ Backend: tdx", "✘ Backend: sgx"]
    assert f"  ✘ configfs-tsm: {tmp_path}/tsm/report does not exist" in lines
    assert f"  ✘ AMD CRL cache: {tmp_path}/cache/amd-sev/crls.der is missing" in lines
    assert f"  ✔ Intel TDX collateral cache: {tmp_path}/cache/intel-tdx/tcb.der not cached: the verifier must supply it" in lines
    # Every failed check is followed by its hint.
    for i, line in enumerate(lines):
        if line.startswith("  ✘ "):
            assert lines[i + 1].startswith("      hint: "), line
    assert "      hint: run the Keep with gramine-sgx and `sgx.remote_attestation = \"dcap\"` in its manifest" in lines


def test_json_on_a_host_without_a_tee(tmp_path: Path, no_plugins: None) -> None:
    status, out, _ = run(["platform", "info", "--json"], paths(tmp_path))
    assert status == 0
    doc = json.loads(out)
    assert set(doc) == {"version", "system_info", "backends"}
    assert [(b["backend"], b["available"], b["insecure"], b["key_curve"]) for b in doc["backends"]] == [
        ("snp", False, False, "P-384"), ("tdx", False, False, "P-256"), ("sgx", False, False, "P-256"),
    ]  # fmt: skip
    snp_checks = doc["backends"][0]["checks"]
    assert [c["name"] for c in snp_checks] == ["configfs-tsm", "provider sev_guest", "AMD CRL cache"]
    for backend in doc["backends"]:
        for check in backend["checks"]:
            assert set(check) == {"name", "pass", "detail", "hint"}
            assert check["pass"] or isinstance(check["hint"], str)
    assert run(["platform", "info", "-j"], paths(tmp_path))[1] == out


def test_a_tree_that_is_not_configfs(tmp_path: Path, no_plugins: None) -> None:
    # A plain directory where configfs-tsm should be: the entry is created and removed, but it
    # has no provider attribute, so the provider check fails with a hint.
    root = tmp_path / "tsm" / "report"
    root.mkdir(parents=True)
    _, out, _ = run(["platform", "info"], paths(tmp_path))
    lines = out.splitlines()
    assert f"  ✔ configfs-tsm: {root}" in lines
    provider = next(line for line in lines if "provider sev_guest" in line)
    assert provider.startswith("  ✘ provider sev_guest: cannot read ") and provider.endswith("/provider: No such file or directory")
    assert list(root.iterdir()) == []  # every probe entry removed


def test_flags_override_the_environment(tmp_path: Path, no_plugins: None) -> None:
    root = tmp_path / "flag-root"
    root.mkdir()
    _, out, _ = run(["platform", "info", "--tsm-root", str(root), "--cache-root", str(tmp_path / "c2")], paths(tmp_path))
    assert f"  ✔ configfs-tsm: {root}" in out.splitlines()
    assert f"{tmp_path}/c2/amd-sev/crls.der is missing" in out


def test_this_host_with_default_paths(no_plugins: None) -> None:
    if Path("/sys/kernel/config/tsm/report").exists() or Path("/dev/attestation").exists():
        pytest.skip("this host offers a TEE interface; the test is for TEE-less hosts")
    status, out, err = run(["platform", "info"], {})
    assert (status, err) == (0, "")
    assert "  ✘ configfs-tsm: /sys/kernel/config/tsm/report does not exist" in out
    assert "  ✘ Gramine attestation: /dev/attestation does not exist" in out
    assert out.count("✘ Backend:") == 3
    doc = json.loads(run(["platform", "info", "--json"], {})[1])
    assert [(b["backend"], b["available"]) for b in doc["backends"]] == [("snp", False), ("tdx", False), ("sgx", False)]


def test_plugin_backends_are_listed_and_cannot_crash_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform_cli, "plugin_backends", lambda taken: [Exploding()])
    status, out, _ = run(["platform", "info"], paths(tmp_path))
    assert status == 0
    lines = out.splitlines()
    i = lines.index("✘ Backend: boom")
    assert lines[i + 1:i + 3] == ["  ✘ checks: RuntimeError: driver exploded", "      hint: report this to the backend's authors"]


def test_nil_from_the_installed_debug_distribution(tmp_path: Path) -> None:
    if not any(b.name == "nil" for b in real_plugin_backends(["snp", "tdx", "sgx"])):
        if os.environ.get("CI") == "true":  # scripts/setup installs it: missing in CI is a failure
            pytest.fail("the enarx-debug distribution is not installed")
        pytest.skip("the enarx-debug distribution is not installed")
    _, out, _ = run(["platform", "info"], paths(tmp_path))
    lines = out.splitlines()
    i = lines.index("✔ Backend: nil (insecure: no TEE)")
    assert lines[i + 1] == "  ✔ no TEE: debug build only (no isolation, no evidence)"
    doc = json.loads(run(["platform", "info", "--json"], paths(tmp_path))[1])
    nil = next(b for b in doc["backends"] if b["backend"] == "nil")
    assert (nil["available"], nil["insecure"]) == (True, True)


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, _ = run(["platform", "info", "--help"], {})
    out = capsys.readouterr().out  # argparse prints help to sys.stdout
    assert status == 0 and "--json" in out and "ENARX_TSM_ROOT" in out
