"""The guest's linear memory as seen by host functions.

A :class:`GuestMemory` is a byte view with bounds checks that fail as ``FAULT``: a guest
pointer is never trusted. It wraps any writable buffer, so the preview 1 functions are
unit-tested over a ``bytearray`` and run over wasmtime's memory unchanged.

Against wasmtime the engine is configured with ``memory_may_move = False``: the base
address of a linear memory is then fixed for its life and only its length grows, so the
view is rebuilt only when an access falls past the length we last saw.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from enarx.wasi.errno import Errno, WasiError

# Largest single transfer the host copies for the guest in one call (fd_read, sock_recv...).
# The guest controls buffer lengths; capping them keeps one call from pinning huge host
# buffers. Short reads and writes are legal in WASI, so callers simply loop.
MAX_IO_CHUNK = 1 << 20


class GuestMemory:
    """Bounds-checked access to linear memory; ``refresh`` returns the current full view."""

    __slots__ = ("_refresh", "view")

    def __init__(self, view: memoryview, refresh: Callable[[], memoryview] | None = None) -> None:
        self.view = view
        self._refresh = refresh

    def _grow(self, end: int) -> None:
        if self._refresh is not None:
            self.view = self._refresh()
        if end > len(self.view):
            raise WasiError(Errno.FAULT, f"guest pointer range ends at {end}, memory is {len(self.view)} bytes")

    def slice(self, ptr: int, length: int) -> memoryview:
        """A writable view of ``length`` bytes at ``ptr`` (no copy)."""
        end = ptr + length
        if end > len(self.view) or ptr < 0 or length < 0:
            if ptr < 0 or length < 0:
                raise WasiError(Errno.FAULT, f"negative pointer or length ({ptr}, {length})")
            self._grow(end)
        return self.view[ptr:end]

    def read(self, ptr: int, length: int) -> bytes:
        return bytes(self.slice(ptr, length))

    def write(self, ptr: int, data: bytes | bytearray | memoryview) -> None:
        self.slice(ptr, len(data))[:] = data

    def unpack(self, fmt: struct.Struct, ptr: int) -> tuple[Any, ...]:
        try:
            return fmt.unpack_from(self.view, ptr)
        except struct.error:
            self._grow(ptr + fmt.size)
            return fmt.unpack_from(self.view, ptr)

    def pack(self, fmt: struct.Struct, ptr: int, *values: int) -> None:
        try:
            fmt.pack_into(self.view, ptr, *values)
        except struct.error:
            if ptr < 0:
                raise WasiError(Errno.FAULT, f"negative pointer {ptr}") from None
            self._grow(ptr + fmt.size)
            fmt.pack_into(self.view, ptr, *values)

    def string(self, ptr: int, length: int) -> str:
        """A guest path or name: UTF-8, else ``ILSEQ``."""
        try:
            return self.read(ptr, length).decode("utf-8")
        except UnicodeDecodeError:
            raise WasiError(Errno.ILSEQ, "string is not valid UTF-8") from None
