"""``enarx``: parse the command line, dispatch to one command module, turn errors into one line.

This module is the only place that catches :class:`~enarx.errors.EnarxError`; command modules
raise it and return an :class:`ExitStatus`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence
from typing import TextIO

from enarx import __version__, _log
from enarx.cli.environment import Environment
from enarx.cli.parser import Parser
from enarx.cli.status import ExitStatus
from enarx.errors import EnarxError

# Command groups, each a module in enarx.cli exposing ``register(subparsers)``. Each handler is
# stored as ``args.handler(args, env) -> ExitStatus``.
COMMAND_MODULES = ("run", "config", "attest", "steward", "package", "registry", "repo", "user", "deploy", "platform")

LOG_LEVELS = ("error", "warning", "info", "debug", "trace")


class _VersionAction(argparse.Action):
    """``enarx --version`` names the build: the plugin lookup runs only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=str(kwargs.get("help", "")))

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> None:
        from enarx.keep.plugins import build_name

        sys.stdout.write(f"enarx {__version__} ({build_name()})\n")
        parser.exit()


def _modules_for(argv: Sequence[str]) -> Sequence[str]:
    """Only the command module the command line names: importing every command's
    dependencies (TLS, HTTP, crypto) would cost ``enarx run`` most of its start-up time."""
    if "--version" in argv:
        return ()  # answered before any command is looked at
    args = iter(argv)
    for arg in args:
        if arg == "--log-level":
            next(args, None)
        elif not arg.startswith("-"):
            return (arg,) if arg in COMMAND_MODULES else COMMAND_MODULES
    return COMMAND_MODULES


def build_parser(env: Environment, modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = Parser(
        prog="enarx",
        description="Run WebAssembly workloads in Keeps (TEEs) and prove what runs.",
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and build (release or debug)")
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=env.getenv("ENARX_LOG", "warning"),
        help="runtime log level (env ENARX_LOG; default: warning)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = bool(modules)
    for name in modules:
        module = importlib.import_module(f"enarx.cli.{name}")
        module.register(sub, env)
    return parser


_LEVEL_NUMBERS = {"error": _log.ERROR, "warning": _log.WARNING, "info": _log.INFO, "debug": _log.DEBUG, "trace": _log.DEBUG}


def configure_logging(level_name: str, stream: TextIO) -> None:
    _log.configure(_LEVEL_NUMBERS.get(level_name, _log.WARNING), stream)


def main(argv: Sequence[str] | None = None, env: Environment | None = None, *, collector_paused: bool = False) -> int:
    """Run one command; ``collector_paused``: the caller disabled :mod:`gc` for start-up (see
    :func:`entry`), and it is resumed once the command's modules are loaded."""
    env = env or Environment()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(env, _modules_for(argv))
    if collector_paused:
        _resume_collector()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return int(exc.code or 0)
    if args.log_level not in LOG_LEVELS:
        print(f"enarx: error: ENARX_LOG={args.log_level!r} is not one of {', '.join(LOG_LEVELS)}", file=env.stderr)
        return ExitStatus.USAGE
    configure_logging(args.log_level, env.stderr)
    try:
        return int(args.handler(args, env))
    except EnarxError as exc:
        print(f"enarx: error: {exc}", file=env.stderr)
        return int(getattr(exc, "exit_status", ExitStatus.ERROR))
    except KeyboardInterrupt:
        print("enarx: interrupted", file=env.stderr)
        return 130


def _resume_collector() -> None:
    # Everything allocated so far is the modules a command runs on, alive until exit: frozen,
    # the collector never walks it again, neither while the workload runs nor at exit.
    gc.freeze()
    gc.enable()


def entry() -> None:
    """The ``enarx`` console script.

    Start-up allocates tens of thousands of objects that live as long as the process
    (wasmtime's ctypes bindings above all), and the cyclic collector used to walk them all
    several times while they were imported and again at exit: a fifth of a warm
    ``enarx run hello.wasm`` (benchmarks/startup.py). So collection is off until the command's
    modules are loaded, and what they allocated is then frozen out of its reach.
    """
    gc.disable()
    sys.exit(main(collector_paused=True))


def steward_entry() -> None:
    """The ``steward`` console script: ``steward serve ...`` is ``enarx steward serve ...``."""
    gc.disable()
    sys.exit(main(["steward", *sys.argv[1:]], collector_paused=True))
