"""The project's own WASI preview 1 host (see docs/wasi.md for why it is not wasmtime's)."""

from enarx.wasi.binding import WasiBinding
from enarx.wasi.ctx import ProcExit, WasiCtx
from enarx.wasi.errno import Errno, WasiError
from enarx.wasi.files import NullFile, WasiFile
from enarx.wasi.memory import GuestMemory
from enarx.wasi.preview1 import SIGNATURES, Preview1
from enarx.wasi.sockets import ListenerFile, SocketFile, bind_listener, connect_stream
from enarx.wasi.table import FdTable
from enarx.wasi.waiting import Interrupted, Waiter

__all__ = [
    "SIGNATURES",
    "Errno",
    "FdTable",
    "GuestMemory",
    "Interrupted",
    "ListenerFile",
    "NullFile",
    "Preview1",
    "ProcExit",
    "SocketFile",
    "Waiter",
    "WasiBinding",
    "WasiCtx",
    "WasiError",
    "WasiFile",
    "bind_listener",
    "connect_stream",
]
