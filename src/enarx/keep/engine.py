"""The wasmtime engine the runtime uses, and the compiled-module cache.

Compiling is the slow part of starting a workload, so compiled modules are cached on
disk, keyed by the module's SHA-256, the wasmtime version and the engine settings: any
of them changing gives a different key, never a stale artefact. Entries are written
atomically (temp file + rename), and an entry that fails to load is removed and rebuilt.

A cache entry is native code. The cache therefore belongs to the Keep's own (encrypted,
measured) filesystem, never to a directory the host can write; ``--no-cache`` turns it off.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import wasmtime

from enarx._log import get_logger
from enarx.errors import EnarxError

log = get_logger("enarx.keep")


def _wasmtime_version() -> str:
    """The installed wasmtime's version, from its dist-info directory name.

    ``importlib.metadata`` would say the same but costs tens of milliseconds to import,
    a sixth of a warm start.
    """
    site = Path(wasmtime.__file__).resolve().parent.parent
    found = sorted(n for n in os.listdir(site) if n.startswith("wasmtime-") and n.endswith(".dist-info"))
    if found:  # (a listing, not Path.glob: this runs at every start-up)
        return found[-1].removeprefix("wasmtime-").removesuffix(".dist-info")
    library = Path(wasmtime.__file__).resolve().parent
    stats = [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in library.rglob("*.so")]
    return "unknown-" + hashlib.sha256("|".join(sorted(stats)).encode()).hexdigest()[:16]


WASMTIME_VERSION = _wasmtime_version()

# The settings every workload engine gets. Part of the cache key.
ENGINE_SETTINGS: dict[str, object] = {
    # Lets the watchdog stop wasm code that never calls the host (time limits).
    "epoch_interruption": True,
    # The host keeps a view of linear memory; a fixed base means it never dangles.
    "memory_may_move": False,
    "cranelift_opt_level": "speed",
}


class ModuleError(EnarxError):
    """The module is not runnable WebAssembly."""

    code = "module.invalid"


def make_engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    config.epoch_interruption = True
    config.memory_may_move = False
    config.cranelift_opt_level = "speed"
    return wasmtime.Engine(config)


def cache_key(module_digest: str) -> str:
    settings = ",".join(f"{k}={v!r}" for k, v in sorted(ENGINE_SETTINGS.items()))
    material = f"module={module_digest}\nwasmtime={WASMTIME_VERSION}\nengine={settings}\n"
    return hashlib.sha256(material.encode()).hexdigest()


class ModuleCache:
    """Compiled modules under ``directory``, one ``<key>.cwasm`` file each."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"ModuleCache({str(self.directory)!r}, hits={self.hits}, misses={self.misses})"

    def path_for(self, module_digest: str) -> Path:
        return self.directory / f"{cache_key(module_digest)}.cwasm"

    def load(self, engine: wasmtime.Engine, module_digest: str) -> wasmtime.Module | None:
        path = self.path_for(module_digest)
        if not path.exists():
            return None
        try:
            module = wasmtime.Module.deserialize_file(engine, str(path))
        except (wasmtime.WasmtimeError, OSError) as exc:
            log.warning("dropping unusable cache entry %s: %s", path.name, exc)
            path.unlink(missing_ok=True)
            return None
        self.hits += 1
        return module

    def store(self, module: wasmtime.Module, module_digest: str) -> None:
        import tempfile  # only on a cache miss

        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            data = module.serialize()
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".cwasm")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, self.path_for(module_digest))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("module cache not written (%s): running without it", exc)


def compile_module(
    engine: wasmtime.Engine, wasm: bytes, *, cache: ModuleCache | None, name: str = "main.wasm"
) -> wasmtime.Module:
    """Compile (or load from the cache) a module, with a one-line error for bad input."""
    digest = hashlib.sha256(wasm).hexdigest()
    if cache is not None:
        cached = cache.load(engine, digest)
        if cached is not None:
            return cached
        cache.misses += 1
    if not wasm.startswith(b"\0asm"):
        kind = "empty" if not wasm else "not a WebAssembly module (no \\0asm magic)"
        raise ModuleError(f"{name} is {kind}")
    try:
        module = wasmtime.Module(engine, wasm)
    except wasmtime.WasmtimeError as exc:
        first = str(exc).strip().splitlines()
        detail = first[-1] if first else "invalid"
        raise ModuleError(f"{name} is not valid WebAssembly: {detail.strip()}") from None
    if cache is not None:
        cache.store(module, digest)
    return module
