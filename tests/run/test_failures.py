"""Bad input and misbehaving workloads: one line, the right exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, TESTDATA, run_enarx

HELLO = EXAMPLES / "hello" / "main.wasm"


def one_clear_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.startswith("enarx:")]
    assert len(lines) == 1, text
    return lines[0]


def test_truncated_module(tmp_path: Path, enarx_env: dict[str, str]) -> None:
    truncated = tmp_path / "truncated.wasm"
    truncated.write_bytes(HELLO.read_bytes()[:200])
    result = run_enarx(["run", "--unsafe", str(truncated)], enarx_env)
    assert result.returncode == 126
    assert "not valid WebAssembly" in one_clear_line(result.stderr)


def test_not_wasm(tmp_path: Path, enarx_env: dict[str, str]) -> None:
    bogus = tmp_path / "bogus.wasm"
    bogus.write_text("#!/bin/sh\necho hi\n")
    result = run_enarx(["run", "--unsafe", str(bogus)], enarx_env)
    assert result.returncode == 126
    assert "not a WebAssembly module" in one_clear_line(result.stderr)


def test_empty_module(tmp_path: Path, enarx_env: dict[str, str]) -> None:
    empty = tmp_path / "empty.wasm"
    empty.write_bytes(b"")
    result = run_enarx(["run", "--unsafe", str(empty)], enarx_env)
    assert result.returncode == 126
    assert "is empty" in one_clear_line(result.stderr)


def test_missing_module(tmp_path: Path, enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", str(tmp_path / "nope.wasm")], enarx_env)
    assert result.returncode == 126
    assert "no such file" in one_clear_line(result.stderr)


def test_missing_config(tmp_path: Path, enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", "--wasmcfgfile", str(tmp_path / "Enarx.toml"), str(HELLO)], enarx_env)
    assert result.returncode == 125
    assert "no such file" in one_clear_line(result.stderr)


def test_module_without_start(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", str(TESTDATA / "no-start.wasm")], enarx_env)
    assert result.returncode == 126
    assert "no _start" in one_clear_line(result.stderr)


def test_module_with_foreign_imports(tmp_path: Path, enarx_env: dict[str, str]) -> None:
    import wasmtime

    module = tmp_path / "foreign.wasm"
    module.write_bytes(wasmtime.wat2wasm('(module (import "env" "launch_missiles" (func)) (func (export "_start")))'))
    result = run_enarx(["run", "--unsafe", str(module)], enarx_env)
    assert result.returncode == 126
    assert "env.launch_missiles" in one_clear_line(result.stderr)


BAD_CONFIGS = {
    "unknown kind": ('[[files]]\nkind = "pipe"\n', "unknown kind 'pipe'", 2),
    "port 70000": ('[[files]]\nkind = "listen"\nname = "l"\nprot = "tcp"\nport = 70000\n', "less than or equal to 65535", 5),
    "name with colon": ('[[files]]\nkind = "null"\nname = "a:b"\n', "must not contain ':'", 3),
    "wrong type": ('args = "not-a-list"\n', "valid list", 1),
    "port as string": ('[[files]]\nkind = "listen"\nname = "l"\nport = "80"\n', "valid integer", 4),
    "unknown key in files": ('[[files]]\nkind = "listen"\nname = "l"\nhost = "x"\n', "unknown key", 4),
    "syntax": ('args = [\n', "TOML syntax", None),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_names_file_and_line(case: str, tmp_path: Path, enarx_env: dict[str, str]) -> None:
    text, expected, line = BAD_CONFIGS[case]
    config = tmp_path / "Enarx.toml"
    config.write_text(text)
    result = run_enarx(["run", "--unsafe", "--wasmcfgfile", str(config), str(HELLO)], enarx_env)
    assert result.returncode == 125
    message = one_clear_line(result.stderr)
    assert expected in message
    if line is not None:
        assert f"{config}:{line}:" in message


def test_trap_is_one_line_and_backtrace_only_in_debug(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", str(TESTDATA / "trap.wasm")], enarx_env)
    assert result.returncode == 134
    assert result.stdout == b"about to trap\n"
    line = one_clear_line(result.stderr)
    assert "workload trapped" in line and "unreachable" in line
    assert "backtrace" not in result.stderr.decode()
    debug = run_enarx(["run", "--unsafe", str(TESTDATA / "trap.wasm")], {**enarx_env, "ENARX_LOG": "debug"})
    assert debug.returncode == 134
    assert "wasm backtrace" in debug.stderr.decode()
    assert "0: " in debug.stderr.decode()


def test_exit_code_passes_through(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", str(TESTDATA / "exit3.wasm")], enarx_env)
    assert result.returncode == 3
    assert result.stderr == b""


def test_explicit_proc_exit_zero(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", str(TESTDATA / "exit0.wasm")], enarx_env)
    assert result.returncode == 0
    assert b"proc_exit(0)" in result.stdout


def test_memory_limit_stops_the_workload(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", "--set", "limits.memory=16MiB", str(TESTDATA / "memhog.wasm")], enarx_env)
    assert result.returncode == 137
    assert "memory limit of 16.0 MiB reached" in one_clear_line(result.stderr)


def test_wall_time_limit_stops_a_spinning_workload(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", "--set", 'limits.wall_time="500ms"', str(TESTDATA / "spin.wasm")], enarx_env)
    assert result.returncode == 124
    assert "wall time limit of 0.5s reached" in one_clear_line(result.stderr)


def test_wall_time_limit_stops_a_workload_blocked_in_the_host(enarx_env: dict[str, str]) -> None:
    # sleeper blocks in a host call (read on stdin that never ends): epochs alone cannot stop it.
    import subprocess

    from tests.conftest import enarx_command

    proc = subprocess.Popen(
        [*enarx_command(), "run", "--unsafe", "--set", "limits.wall_time=0.5", str(TESTDATA / "sleeper.wasm")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=enarx_env,
    )
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 124
    assert "wall time limit" in one_clear_line(err)


def test_cpu_time_limit(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", "--set", "limits.cpu_time=0.5", str(TESTDATA / "spin.wasm")], enarx_env)
    assert result.returncode == 124
    assert "CPU time limit" in one_clear_line(result.stderr)


def test_listen_port_in_use(enarx_env: dict[str, str]) -> None:
    import socket

    holder = socket.create_server(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    config = EXAMPLES / "echo-tcp" / "Enarx.toml"
    result = run_enarx(
        ["run", "--unsafe", "--wasmcfgfile", str(config), "--set", f"files.3.port={port}", str(EXAMPLES / "echo-tcp" / "main.wasm")],
        enarx_env,
    )
    holder.close()
    assert result.returncode == 125
    assert f"cannot listen on 127.0.0.1:{port}" in one_clear_line(result.stderr)


def test_unsupported_calls_return_errnos_and_never_crash(enarx_env: dict[str, str]) -> None:
    result = run_enarx(["run", "--unsafe", str(TESTDATA / "wasi-probe.wasm")], enarx_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "wasi-probe: done" in out
    assert "fd_allocate(1): 58" in out  # NOTSUP
    assert "fd_close(1000): 8" in out  # BADF
    assert "poll_oneoff(0 subscriptions): 28" in out  # INVAL
    assert "sock_accept(0): 8" in out  # BADF: stdin is not a socket


def test_environment_is_only_what_the_config_says(enarx_env: dict[str, str]) -> None:
    env = {**enarx_env, "SECRET_HOST_VARIABLE": "leak"}
    result = run_enarx(["run", "--unsafe", "--set", 'env.GREETING="hi"', "--set", 'args=["one", "two"]', str(TESTDATA / "env-args.wasm")], env)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().splitlines()
    assert "argv[0]=main.wasm" in out
    assert "argv[1]=one" in out and "argv[2]=two" in out
    assert "environ=FD_COUNT=3" in out
    assert "environ=FD_NAMES=stdin:stdout:stderr" in out
    assert "environ=GREETING=hi" in out
    assert not any("SECRET_HOST_VARIABLE" in line for line in out)


def test_random_and_clocks(enarx_env: dict[str, str]) -> None:
    first = run_enarx(["run", "--unsafe", str(TESTDATA / "random.wasm")], enarx_env)
    second = run_enarx(["run", "--unsafe", str(TESTDATA / "random.wasm")], enarx_env)
    assert first.returncode == second.returncode == 0
    assert len(first.stdout.strip()) == 32 and first.stdout != second.stdout
    slept = run_enarx(["run", "--unsafe", str(TESTDATA / "poll-clock.wasm")], enarx_env)
    assert (slept.returncode, slept.stdout) == (0, b"slept\n")


def test_stdin_to_stdout(enarx_env: dict[str, str]) -> None:
    data = bytes(range(256)) * 1000
    result = run_enarx(["run", "--unsafe", str(TESTDATA / "stdin-cat.wasm")], enarx_env, stdin=data)
    assert result.returncode == 0
    assert result.stdout == data
