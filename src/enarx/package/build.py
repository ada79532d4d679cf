"""Check a package and compute its digests (``enarx package build``).

A package is valid when ``main.wasm`` is a WASI command (compiles, exports a ``_start``
function, imports only ``wasi_snapshot_preview1``) and ``Enarx.toml`` passes the schema.
Its three digests (docs/packages.md):

* **tree digest**: the Drawbridge root-directory digest of every file -- what a tag names
  and what ``@sha-256:`` pins;
* **application digest**: the tree digest without ``Enarx.toml`` (DESIGN.md section 2);
* **deployment digest**: the application digest with the *effective* configuration.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wasmtime

from enarx.config.load import LoadedConfig, load_config
from enarx.errors import EnarxError
from enarx.identity.digests import (
    CONFIG_NAME,
    MODULE_NAME,
    Tree,
    application_digest,
    build_tree,
    deployment_digest,
)
from enarx.identity.errors import IdentityError
from enarx.keep.engine import ModuleError

# Enarx's fetch limits (exec-wasmtime workload.rs); the same apply when building.
MAX_MODULE_BYTES = 100_000_000
MAX_CONFIG_BYTES = 1_000_000
MAX_FILE_BYTES = 100_000_000
MAX_FILES = 1000


class PackageError(EnarxError):
    """The directory is not a valid package."""

    code = "package.invalid"


@dataclass(frozen=True)
class PackageReport:
    files: Mapping[str, bytes]
    tree: Tree
    application_digest: bytes
    deployment_digest: bytes
    config: LoadedConfig

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_digest": f"sha-256:{self.tree.sha256.hex()}",
            "application_digest": f"sha-256:{self.application_digest.hex()}",
            "deployment_digest": f"sha-256:{self.deployment_digest.hex()}",
            "entry": self.tree.entry.to_json(),
            "files": {name: len(data) for name, data in sorted(self.files.items())},
        }


def read_package_dir(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` by its ``/``-separated relative path."""
    if not root.is_dir():
        raise PackageError(f"{root}: not a directory (a package is a directory with {MODULE_NAME} and {CONFIG_NAME})")
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        mode = path.lstat().st_mode
        if stat.S_ISDIR(mode):
            continue
        if stat.S_ISLNK(mode) or not stat.S_ISREG(mode):
            raise PackageError(f"{path}: only regular files can be packaged (no symlinks or devices)")
        if len(files) >= MAX_FILES:
            raise PackageError(f"{root}: more than {MAX_FILES} files")
        limit = MAX_CONFIG_BYTES if rel == CONFIG_NAME else MAX_FILE_BYTES
        if path.stat().st_size > limit:
            raise PackageError(f"{path}: larger than the limit of {limit} bytes")
        files[rel] = path.read_bytes()
    return files


def check_module(wasm: bytes, name: str = MODULE_NAME) -> None:
    """A WASI command: valid, exports ``_start``, imports only WASI preview 1."""
    if len(wasm) > MAX_MODULE_BYTES:
        raise ModuleError(f"{name} is larger than {MAX_MODULE_BYTES} bytes")
    try:
        module = wasmtime.Module(wasmtime.Engine(), wasm)
    except wasmtime.WasmtimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
        raise ModuleError(f"{name} is not valid WebAssembly: {first}") from None
    start = next((e for e in module.exports if e.name == "_start"), None)
    if start is None or not isinstance(start.type, wasmtime.FuncType):
        raise ModuleError(f"{name} has no _start function: it is not a WASI command")
    foreign = [f"{i.module}.{i.name}" for i in module.imports if i.module != "wasi_snapshot_preview1"]
    if foreign:
        raise ModuleError(f"{name} imports what no Keep provides: {', '.join(foreign[:5])}")


def check_files(files: Mapping[str, bytes]) -> Tree:
    if MODULE_NAME not in files:
        raise PackageError(f"the package has no {MODULE_NAME}")
    try:
        return build_tree(files)
    except IdentityError as exc:
        raise PackageError(str(exc)) from exc


def effective_config(loaded: LoadedConfig) -> dict[str, Any]:
    """The configuration as run: ``[test]`` overlay and ``--set`` applied, defaults filled in."""
    return dict(loaded.config.document)


def build_package(root: Path, *, test: bool = False, overrides: Sequence[str] = (),
                  require_config: bool = True, compile_module: bool = True) -> PackageReport:
    """``compile_module=False`` skips compiling main.wasm, for callers that run it next (the
    runner compiles it anyway, with its cache, and makes the same checks)."""
    files = read_package_dir(root)
    tree = check_files(files)
    if CONFIG_NAME not in files and require_config:
        raise PackageError(f"{root}: no {CONFIG_NAME} (`enarx config init` writes one)")
    loaded = load_config(root / CONFIG_NAME if CONFIG_NAME in files else None, test=test, overrides=overrides)
    if compile_module:
        check_module(files[MODULE_NAME], str(root / MODULE_NAME))
    app = application_digest(files)
    return PackageReport(files, tree, app, deployment_digest(app, effective_config(loaded)), loaded)
