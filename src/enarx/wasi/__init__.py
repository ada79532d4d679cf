"""The project's own WASI preview 1 host (see docs/wasi.md for why it is not wasmtime's).

A lazy facade (see :mod:`enarx._lazy`): a workload with only stdio never loads the socket
layer, and the plugins' imports of ``enarx.wasi.errno`` do not load the binding.
"""

from typing import TYPE_CHECKING

from enarx._lazy import attach

if TYPE_CHECKING:
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

__getattr__, __dir__ = attach(
    __name__,
    {
        "WasiBinding": "enarx.wasi.binding",
        "ProcExit": "enarx.wasi.ctx",
        "WasiCtx": "enarx.wasi.ctx",
        "Errno": "enarx.wasi.errno",
        "WasiError": "enarx.wasi.errno",
        "NullFile": "enarx.wasi.files",
        "WasiFile": "enarx.wasi.files",
        "GuestMemory": "enarx.wasi.memory",
        "SIGNATURES": "enarx.wasi.preview1",
        "Preview1": "enarx.wasi.preview1",
        "ListenerFile": "enarx.wasi.sockets",
        "SocketFile": "enarx.wasi.sockets",
        "bind_listener": "enarx.wasi.sockets",
        "connect_stream": "enarx.wasi.sockets",
        "FdTable": "enarx.wasi.table",
        "Interrupted": "enarx.wasi.waiting",
        "Waiter": "enarx.wasi.waiting",
    },
)
