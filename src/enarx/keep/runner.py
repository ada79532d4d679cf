"""One run of a workload: compile, link our WASI host, instantiate, call ``_start``, classify.

The result is a :class:`RunOutcome`: the exit status the ``enarx`` process should return,
one line for the user when the runtime (not the workload) ended the run, and the wasm
backtrace for the debug log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import wasmtime

from enarx.cli.status import ExitStatus
from enarx.config.load import LoadedConfig
from enarx.keep.engine import ModuleCache, ModuleError, compile_module, make_engine
from enarx.keep.lifecycle import Event, Lifecycle
from enarx.keep.limits import Watchdog
from enarx.keep.workload import DEFAULT_STDIO, HostStdio, argv_of, build_fd_table, environ_of
from enarx.wasi.binding import WasiBinding
from enarx.wasi.ctx import WasiCtx
from enarx.wasi.preview1 import Preview1
from enarx.wasi.waiting import Waiter

if TYPE_CHECKING:
    from enarx.keep.identity import KeepIdentity


WASM_PAGE = 65536
# A trap with linear memory closer than this to its limit (or 1/8 of the limit, if larger)
# is reported as the memory limit: allocators grow in chunks, so the refused grow is
# usually a few hundred KiB to a few MiB past what is in use.
MEMORY_LIMIT_MARGIN = 2 << 20


class RunOutcome(NamedTuple):
    status: int
    message: str | None = None  # one line, when the runtime ended the run
    backtrace: Sequence[str] = ()


def _wasi_imports(module: wasmtime.Module, name: str) -> list[str]:
    """The preview 1 functions ``module`` imports; a ModuleError for any other import."""
    wasi, missing = [], []
    for imp in module.imports:
        if imp.module == "wasi_snapshot_preview1" and imp.name is not None:
            wasi.append(imp.name)
        else:
            missing.append(f"{imp.module}.{imp.name}")
    if missing:
        raise ModuleError(f"{name} imports what no Keep provides: {', '.join(missing[:5])}")
    return wasi


def run_module(
    wasm: bytes,
    loaded: LoadedConfig,
    *,
    cache: ModuleCache | None = None,
    stdio: HostStdio = DEFAULT_STDIO,
    name: str = "main.wasm",
    identity: KeepIdentity | None = None,
) -> RunOutcome:
    """Run ``wasm`` under ``loaded``'s configuration; never raises for the guest's behaviour."""
    lifecycle = Lifecycle()
    engine = make_engine()
    module = compile_module(engine, wasm, cache=cache, name=name)
    lifecycle.advance(Event.COMPILE)

    wasi_imports = _wasi_imports(module, name)
    start_export = next((e for e in module.exports if e.name == "_start"), None)
    if start_export is None or not isinstance(start_export.type, wasmtime.FuncType):
        raise ModuleError(f"{name} has no _start function: it is not a WASI command")

    config = loaded.config
    waiter = Waiter()
    ctx = WasiCtx(args=argv_of(config), env=environ_of(config), waiter=waiter)
    ctx.fds = build_fd_table(loaded, waiter, stdio, identity)
    store = wasmtime.Store(engine)
    store.set_epoch_deadline(1)
    if config.memory is not None:
        store.set_limits(memory_size=config.memory)
    watchdog = Watchdog(engine, waiter, wall_time=config.wall_time, cpu_time=config.cpu_time)
    try:
        linker = wasmtime.Linker(engine)
        binding = WasiBinding(linker, Preview1(ctx), wasi_imports)
        try:
            instance = linker.instantiate(store, module)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
            raise ModuleError(f"{name} could not be instantiated: {_first_line(exc)}") from None
        lifecycle.advance(Event.INSTANTIATE)
        exports = instance.exports(store)
        memory = exports.get("memory")
        if isinstance(memory, wasmtime.Memory):
            binding.bind_memory(store, memory)
        start = exports["_start"]
        assert isinstance(start, wasmtime.Func)
        watchdog.start()
        lifecycle.advance(Event.START)
        try:
            start(store)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as trap:
            return _classify_trap(trap, ctx, watchdog, lifecycle, store, memory, config.memory)
        lifecycle.advance(Event.EXIT)
        return RunOutcome(ExitStatus.OK)
    finally:
        watchdog.stop()
        ctx.close()


def _classify_trap(
    trap: Exception,
    ctx: WasiCtx,
    watchdog: Watchdog,
    lifecycle: Lifecycle,
    store: wasmtime.Store,
    memory: object,
    memory_limit: int | None,
) -> RunOutcome:
    if ctx.exit_code is not None:
        lifecycle.advance(Event.EXIT)
        if ctx.exit_code > 255:
            # A process exit status has 8 bits; 256 must not become a silent 0.
            return RunOutcome(ExitStatus.ERROR, f"workload exited with {ctx.exit_code}, reported as 1")
        return RunOutcome(ctx.exit_code)
    frames = _backtrace(trap)
    if watchdog.reason is not None or ctx.waiter.stop_reason is not None:
        lifecycle.advance(Event.STOP)
        reason = watchdog.reason or ctx.waiter.stop_reason
        return RunOutcome(ExitStatus.TIME_LIMIT, f"workload stopped: {reason}", frames)
    if memory_limit is not None and isinstance(memory, wasmtime.Memory):
        used = memory.data_len(store)
        # The engine refuses a memory.grow past the limit (grow returns -1, as wasm says) and
        # the C API gives no way to see that refusal; an allocator then aborts. So a trap
        # while memory is within the margin of the limit is reported as the limit.
        if used + max(MEMORY_LIMIT_MARGIN, memory_limit // 8) > memory_limit:
            lifecycle.advance(Event.STOP)
            return RunOutcome(
                ExitStatus.MEMORY_LIMIT,
                f"workload stopped: memory limit of {_mib(memory_limit)} reached ({_mib(used)} in use)",
                frames,
            )
    lifecycle.advance(Event.TRAP)
    return RunOutcome(ExitStatus.TRAP, f"workload trapped: {_trap_message(trap)}", frames)


def _trap_message(trap: Exception) -> str:
    """One line: the cause wasmtime gives last, and the innermost named wasm function."""
    text = trap.message if isinstance(trap, wasmtime.Trap) else str(trap)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    cause = lines[-1] if lines else type(trap).__name__
    cause = cause.removeprefix("wasm trap: ").removeprefix("wasm ")
    if isinstance(trap, wasmtime.Trap):
        named = next((f.func_name for f in trap.frames if f.func_name), None)
        if named:
            return f"{cause} (in {named})"
    return cause


def _backtrace(trap: Exception) -> list[str]:
    if not isinstance(trap, wasmtime.Trap):
        return []
    lines = []
    for i, frame in enumerate(trap.frames):
        fname = frame.func_name or f"<func {frame.func_index}>"
        lines.append(f"{i}: {fname} @ {frame.module_offset:#x}")
    return lines


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"
