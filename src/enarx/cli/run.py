"""``enarx run``: run a WebAssembly module in a Keep, configured by an Enarx.toml."""

from __future__ import annotations

import argparse
from pathlib import Path

from enarx._log import get_logger
from enarx.cli.environment import Environment
from enarx.cli.parser import RawDescriptionHelpFormatter
from enarx.cli.status import ExitStatus
from enarx.errors import EnarxError
from enarx.keep.engine import ModuleError
from enarx.keep.launch import Launch, launch
from enarx.keep.modes import InsecureDeployment, Mode

log = get_logger("enarx")

# Largest module read from disk; Enarx caps packaged modules at 100 MB.
MAX_MODULE_BYTES = 100_000_000

EPILOG = """\
modes:
  secure (default)  refuses anything insecure and names every reason; needs a steward (https)
  --test            against the [test] Steward of Enarx.toml, or an embedded test Steward whose
                    root CA path it prints; insecure features allowed and recorded (debug build)
  --unsafe          permits host stdio and directories, plaintext TCP, the nil backend (debug build)

examples:
  enarx run --wasmcfgfile Enarx.toml server.wasm     secure: TLS sockets, attested to the Steward
  enarx run --test --wasmcfgfile Enarx.toml app.wasm
  enarx run --unsafe hello.wasm                      stdin, stdout and stderr only
  enarx run --unsafe --set limits.memory=64MiB --set 'args=["10"]' fib.wasm

exit status: the workload's own exit code; or 4 insecure deployment refused, 124 time limit,
125 enarx could not start the workload (configuration, sockets, files, Steward), 126 the module
is not runnable, 134 the workload trapped, 137 memory limit. Set ENARX_LOG=debug (or
--log-level debug) to see the wasm backtrace.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    parser = sub.add_parser(
        "run",
        help="run a WebAssembly module inside an Enarx Keep",
        description="Run a WebAssembly (WASI preview 1) module. The i-th [[files]] entry of "
        "Enarx.toml is its fd i; without a config it gets stdin, stdout and stderr.",
        epilog=EPILOG,
        formatter_class=RawDescriptionHelpFormatter,
    )
    parser.add_argument("module", type=Path, help="the .wasm module to run")
    parser.add_argument(
        "--wasmcfgfile",
        type=Path,
        default=env.getenv("ENARX_WASMCFGFILE"),
        metavar="FILE",
        help="Enarx.toml to use (env ENARX_WASMCFGFILE)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key (TOML dotted key; numbers index arrays: files.3.port=8080); "
        "applied after the [test] overlay; repeatable",
    )
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument(
        "--test",
        action="store_true",
        help="run against a test Steward: the [test] table of Enarx.toml, or an embedded one "
        "(insecure features allowed and recorded; debug build only)",
    )
    modes.add_argument(
        "--unsafe",
        action="store_true",
        help="permit insecure features (host stdio and directories, plaintext TCP, no TEE); the "
        "certificate says so (debug build only)",
    )
    parser.add_argument(
        "--backend",
        default=env.getenv("ENARX_BACKEND"),
        help="Keep backend: snp, tdx, sgx (or nil in the debug build); default: the first available "
        "(env ENARX_BACKEND; see `enarx platform info`)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        default=env.getenv("ENARX_NO_CACHE") == "1",
        help="do not use the compiled-module cache (env ENARX_NO_CACHE=1)",
    )
    parser.set_defaults(handler=handle)


def _read_module(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_MODULE_BYTES + 1)
    except FileNotFoundError:
        raise ModuleError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModuleError(f"{path} is a directory, not a .wasm module") from None
    except OSError as exc:
        raise ModuleError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_MODULE_BYTES:
        raise ModuleError(f"{path} is larger than {MAX_MODULE_BYTES} bytes")
    return data


def handle(args: argparse.Namespace, env: Environment) -> ExitStatus | int:
    mode = Mode.TEST if args.test else Mode.UNSAFE if args.unsafe else Mode.SECURE
    try:
        wasm = _read_module(args.module)
        request = Launch(
            wasm=wasm, name=str(args.module), config_path=args.wasmcfgfile, mode=mode,
            overrides=args.overrides, backend=args.backend,
            cache_dir=None if args.no_cache else env.cache_dir, environ=env.environ,
        )
        outcome = launch(request, stderr=env.stderr)
    except ModuleError as exc:
        _fail(env, exc)
        return ExitStatus.MODULE_INVALID
    except InsecureDeployment as exc:
        _fail(env, exc)
        return ExitStatus.INSECURE
    except EnarxError as exc:
        _fail(env, exc)
        return ExitStatus.RUNTIME_ERROR
    if outcome.message:
        print(f"enarx: {outcome.message}", file=env.stderr)
        if outcome.backtrace:
            log.debug("wasm backtrace:\n  %s", "\n  ".join(outcome.backtrace))
    return outcome.status


def _fail(env: Environment, exc: EnarxError) -> None:
    print(f"enarx: error: {exc}", file=env.stderr)
