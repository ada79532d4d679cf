"""``enarx platform info [--json]``: which Keep backends this host offers, and why not.

Like Rust Enarx's ``platform info``: each backend with a mark, each of its checks with a mark,
its detail and, on failure, a hint. Always exits 0: a host without a TEE is an answer, not an
error.
"""

from __future__ import annotations

import argparse
import json
import platform as _platform
from pathlib import Path

from enarx import __version__
from enarx.cli.environment import Environment
from enarx.cli.status import ExitStatus
from enarx.keep.backends import (
    Backend,
    Check,
    plugin_backends,
    release_backends_from_env,
)
from enarx.keep.backends.choose import ENV_ATTESTATION_DEV, ENV_CACHE_ROOT, ENV_TSM_ROOT

PASS = "✔"
FAIL = "✘"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], env: Environment) -> None:
    group = sub.add_parser("platform", help="what this host offers Keeps")
    commands = group.add_subparsers(dest="platform_command", metavar="COMMAND")
    commands.required = True
    info = commands.add_parser("info", help="show the Keep backends and their checks")
    info.add_argument("-j", "--json", action="store_true", help="machine-readable output")
    info.add_argument("--tsm-root", type=Path, default=env.getenv(ENV_TSM_ROOT) or None, help=f"configfs-tsm report directory (env {ENV_TSM_ROOT})")
    info.add_argument("--attestation-dev", type=Path, default=env.getenv(ENV_ATTESTATION_DEV) or None, help=f"Gramine attestation directory (env {ENV_ATTESTATION_DEV})")
    info.add_argument("--cache-root", type=Path, default=env.getenv(ENV_CACHE_ROOT) or None, help=f"host vendor cache root (env {ENV_CACHE_ROOT})")
    info.set_defaults(handler=handle_info)


def handle_info(args: argparse.Namespace, env: Environment) -> ExitStatus:
    environ = dict(env.environ)
    for flag, name in ((args.tsm_root, ENV_TSM_ROOT), (args.attestation_dev, ENV_ATTESTATION_DEV), (args.cache_root, ENV_CACHE_ROOT)):
        if flag is not None:
            environ[name] = str(flag)
    release = release_backends_from_env(environ)
    backends = [*release, *plugin_backends(b.name for b in release)]
    rows = [(b, _checks(b)) for b in backends]
    uname = _platform.uname()
    system = f"{uname.system} {uname.release} {uname.version} {uname.machine}"
    if args.json:
        doc = {
            "version": __version__,
            "system_info": system,
            "backends": [
                {
                    "backend": b.name,
                    "available": _ok(checks),
                    "insecure": bool(b.insecure),
                    "key_curve": b.key_curve,
                    "checks": [c.to_json() for c in checks],
                }
                for b, checks in rows
            ],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False), file=env.stdout)
        return ExitStatus.OK
    out = [f"Enarx version {__version__}", f"System Info: {system}"]
    for b, checks in rows:
        note = " (insecure: no TEE)" if b.insecure else ""
        out.append(f"{PASS if _ok(checks) else FAIL} Backend: {b.name}{note}")
        for c in checks:
            out.append(f"  {PASS if c.passed else FAIL} {c.name}: {c.detail}")
            if c.hint and not c.passed:
                out.append(f"      hint: {c.hint}")
    print("\n".join(out), file=env.stdout)
    return ExitStatus.OK


def _ok(checks: list[Check]) -> bool:
    return bool(checks) and all(c.passed for c in checks)


def _checks(backend: Backend) -> list[Check]:
    # A plugin's checks are foreign code: whatever they raise is one failed line, not a crash.
    try:
        return list(backend.checks())
    except Exception as exc:  # platform info must run on every host
        return [Check("checks", False, f"{type(exc).__name__}: {exc}", hint="report this to the backend's authors")]
