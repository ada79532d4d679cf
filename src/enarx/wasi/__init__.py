"""The project's own WASI preview 1 host (see docs/wasi.md for why it is not wasmtime's)."""

from enarx.wasi.binding import WasiBinding
from enarx.wasi.ctx import ProcExit, WasiCtx
from enarx.wasi.dirs import Dir
from enarx.wasi.errno import Errno, WasiError
from enarx.wasi.files import HostStreamFile, NullFile, RegularFile, WasiFile
from enarx.wasi.memory import GuestMemory
from enarx.wasi.preview1 import SIGNATURES, Preview1
from enarx.wasi.sockets import TcpListener, TcpStream, bind_listener, connect_stream
from enarx.wasi.table import FdTable
from enarx.wasi.waiting import Interrupted, Waiter

__all__ = [
    "SIGNATURES",
    "Dir",
    "Errno",
    "FdTable",
    "GuestMemory",
    "HostStreamFile",
    "Interrupted",
    "NullFile",
    "Preview1",
    "ProcExit",
    "RegularFile",
    "TcpListener",
    "TcpStream",
    "Waiter",
    "WasiBinding",
    "WasiCtx",
    "WasiError",
    "WasiFile",
    "bind_listener",
    "connect_stream",
]
