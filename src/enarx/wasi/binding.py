"""Links :class:`~enarx.wasi.preview1.Preview1` into a wasmtime linker, on the fast path.

Host calls are the hot path of every workload, so each import is defined with wasmtime's
raw ``wasmtime_linker_define_func_unchecked`` through the package's own ctypes bindings
(about 1 µs a call, against about 14 µs through the high-level ``Func`` API). Arguments
arrive as an array of 16-byte ``wasmtime_val_raw`` slots; one precompiled ``struct``
format per signature reads them all at once, unsigned, and the errno goes back in slot 0.

What may leave a host function: an errno (a :class:`WasiError`), or a trap carrying
:class:`ProcExit` or :class:`Interrupted`. Any other exception is a host bug: it becomes a
trap naming the function, never a crash of the runtime and never a silent success.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable, Iterable

import wasmtime
from wasmtime import _ffi as ffi

from enarx._log import DEBUG, get_logger
from enarx.wasi.ctx import ProcExit
from enarx.wasi.errno import WasiError
from enarx.wasi.memory import GuestMemory
from enarx.wasi.preview1 import NO_RESULT, SIGNATURES, Preview1
from enarx.wasi.waiting import Interrupted

log = get_logger("enarx.wasi")

MODULE_NAME = b"wasi_snapshot_preview1"
_RAW_SLOT = 16  # sizeof(wasmtime_val_raw_t)

# The C callback type, with plain addresses instead of typed pointers so the arguments
# cost nothing to convert; cast to wasmtime's own type when registering.
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)

_string_at = ctypes.string_at
_memmove = ctypes.memmove
# wasmtime calls no finalizer when given NULL; the callbacks live as long as this object.
_NO_FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)()
_ERRNO_BYTES = [struct.pack("<i", n) for n in range(128)]


class HostCallTrap(Exception):
    """Raised by the runtime after a trap that a host function produced on purpose."""


def _arg_format(kinds: str) -> struct.Struct:
    # Each slot is 16 bytes; an i32 is its first 4, an i64 its first 8 (little-endian).
    return struct.Struct("<" + "".join("I12x" if k == "i" else "Q8x" for k in kinds))


def _new_trap(message: str) -> int:
    data = message.encode()
    trap = ffi.wasmtime_trap_new(ctypes.create_string_buffer(data), len(data))
    return ctypes.cast(trap, ctypes.c_void_p).value or 0


def _make_callback(name: str, method: Callable[..., int], fmt: struct.Struct, has_result: bool) -> Callable[..., int]:
    nbytes = fmt.size
    unpack = fmt.unpack

    def read_args(vals: int) -> tuple[int, ...]:
        return unpack(_string_at(vals, nbytes)) if nbytes else ()

    def callback(_env: int, _caller: int, vals: int, _nvals: int) -> int:
        try:
            errno = method(*read_args(vals))
        except WasiError as exc:
            errno = exc.errno
            if log.isEnabledFor(DEBUG):
                log.debug("%s -> %s (%s)", name, exc.errno.name, exc.reason)
        except ProcExit as exc:
            return _new_trap(f"proc_exit({exc.code})")
        except Interrupted as exc:
            return _new_trap(f"stopped: {exc.reason}")
        except BaseException as exc:  # a host bug must not look like success to the guest
            log.debug("host function %s failed", name, exc_info=True)
            return _new_trap(f"internal error in {name}: {type(exc).__name__}: {exc}")
        if has_result:
            _memmove(vals, _ERRNO_BYTES[errno], 4)
        return 0

    return callback


class WasiBinding:
    """Owns the C callbacks (they must outlive the linker) and binds guest memory later."""

    def __init__(self, linker: wasmtime.Linker, preview1: Preview1, names: Iterable[str] | None = None) -> None:
        """Define the preview 1 functions in ``names`` (default: all of them) in ``linker``.

        A runner passes the names its module imports: a typical command imports a handful,
        and each definition costs a callback and a function type (a run's start-up).
        Names outside preview 1 are left undefined, for the linker to report.
        """
        self.preview1 = preview1
        self._keepalive: list[object] = []
        i32, i64 = wasmtime.ValType.i32(), wasmtime.ValType.i64()
        functypes: dict[str, wasmtime.FuncType] = {}
        for name in SIGNATURES if names is None else dict.fromkeys(n for n in names if n in SIGNATURES):
            kinds = SIGNATURES[name]
            has_result = name not in NO_RESULT
            functype = functypes.get(kinds + "r" * has_result)
            if functype is None:
                functype = wasmtime.FuncType([i32 if k == "i" else i64 for k in kinds], [i32] if has_result else [])
                functypes[kinds + "r" * has_result] = functype
            py_callback = _make_callback(name, getattr(preview1, name), _arg_format(kinds), has_result)
            c_callback = _CALLBACK(py_callback)
            raw = ctypes.cast(c_callback, ffi.wasmtime_func_unchecked_callback_t)
            self._keepalive += [functype, c_callback, raw]
            encoded = name.encode()
            error = ffi.wasmtime_linker_define_func_unchecked(
                linker.ptr(), MODULE_NAME, len(MODULE_NAME), encoded, len(encoded),
                functype.ptr(), raw, None, _NO_FINALIZER,
            )
            if error:
                raise wasmtime.WasmtimeError._from_ptr(error)

    def bind_memory(self, store: wasmtime.Store, memory: wasmtime.Memory) -> None:
        """Point the host at the instance's exported memory."""

        def view() -> memoryview:
            base = ctypes.cast(memory.data_ptr(store), ctypes.c_void_p).value or 0
            length = memory.data_len(store)
            if length == 0 or base == 0:
                return memoryview(bytearray())
            array = (ctypes.c_ubyte * length).from_address(base)
            return memoryview(array).cast("B")

        self.preview1.mem = GuestMemory(view(), view)
