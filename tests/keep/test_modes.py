"""Secure by default, --test and --unsafe: what each permits, refuses and says."""

from __future__ import annotations

from pathlib import Path

from enarx.config import load_config
from enarx.keep.modes import InsecureDeployment, insecure_reasons
from tests.conftest import EXAMPLES, TESTDATA, free_port, run_enarx

HELLO = EXAMPLES / "hello" / "main.wasm"


def test_secure_run_refuses_and_lists_every_reason(tmp_path: Path, enarx_env: dict[str, str]) -> None:
    config = tmp_path / "Enarx.toml"
    config.write_text(
        'steward = "http://steward.example"\n[[files]]\nkind = "null"\n[[files]]\nkind = "stdout"\n[[files]]\nkind = "null"\n'
        '[[files]]\nkind = "dir"\nname = "/d"\npath = "."\n'
        '[[files]]\nkind = "listen"\nname = "l"\nprot = "tcp"\n'
    )
    result = run_enarx(["run", "--wasmcfgfile", str(config), str(HELLO)], enarx_env)
    assert result.returncode == 4
    err = result.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err
    for reason in ("host-stdio", "host-dirs", "raw-tcp", "http-steward"):
        assert reason in err
    assert "--test" in err and "--unsafe" in err
    assert result.stdout == b""  # nothing of the workload ran


def test_secure_run_without_config_refuses_host_stdio(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", str(HELLO)], enarx_env)
    assert result.returncode == 4
    assert b"host-stdio" in result.stderr and result.stdout == b""


def test_secure_tls_only_run_needs_a_tee(tmp_path: Path, enarx_env: dict[str, str]) -> None:
    # Nothing insecure in the config; this machine has no TEE and a secure run never falls back to nil.
    env = {**enarx_env, "ENARX_TSM_ROOT": str(tmp_path / "no-tsm"), "ENARX_ATTESTATION_DEV": str(tmp_path / "no-dev")}
    config = EXAMPLES / "https-hello" / "Enarx.toml"
    result = run_enarx(["run", "--wasmcfgfile", str(config), str(EXAMPLES / "https-hello" / "main.wasm")], env)
    assert result.returncode == 125
    err = result.stderr.decode()
    assert "backend" in err and "hint" in err and "Traceback" not in err


def test_unsafe_permits_insecure_features(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", str(HELLO)], enarx_env)
    assert (result.returncode, result.stdout) == (0, b"Hello, world!\n")


def test_test_mode_always_works_and_says_where_the_root_is(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--test", str(HELLO)], enarx_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Hello, world!\n"
    err = result.stderr.decode()
    root = Path(enarx_env["XDG_CACHE_HOME"]) / "enarx" / "test-steward" / "ca" / "root.pem"
    assert str(root) in err
    assert root.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert ".adig.enarx.test" in err and ".ddig.enarx.test" in err


def test_test_mode_uses_the_test_tables_steward(tmp_path: Path, enarx_env: dict[str, str]) -> None:
    # [test] names a Steward nobody runs: the run must try it (and fail to reach it), not embed one.
    port = free_port()
    config = tmp_path / "Enarx.toml"
    config.write_text(f'steward = "https://prod.example"\n[test]\nsteward = "http://127.0.0.1:{port}"\n')
    result = run_enarx(["run", "--test", "--wasmcfgfile", str(config), str(TESTDATA / "exit0.wasm")], enarx_env)
    assert result.returncode == 125
    assert f"127.0.0.1:{port}".encode() in result.stderr
    assert b"prod.example" not in result.stderr


def test_mutually_exclusive_modes(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--test", "--unsafe", str(HELLO)], enarx_env)
    assert result.returncode == 2
    assert b"not allowed with" in result.stderr


def test_insecure_reasons_table(tmp_path: Path) -> None:
    config = tmp_path / "Enarx.toml"
    config.write_text('[[files]]\nkind = "null"\n[[files]]\nkind = "connect"\nhost = "h"\nprot = "tls"\n')
    loaded = load_config(config)
    assert insecure_reasons(loaded.config, backend="snp", steward_url="https://s") == []
    assert insecure_reasons(loaded.config, backend="nil", steward_url="http://s", tee_debug=True) == [
        "nil-backend", "http-steward", "tee-debug",
    ]
    error = InsecureDeployment(["host-stdio", "raw-tcp"])
    assert error.reasons == ("host-stdio", "raw-tcp") and error.code == "run.insecure"
