"""Everything one workload's WASI host holds: args, environment, fds, the waiter, the exit code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from enarx.wasi.table import FdTable
from enarx.wasi.waiting import Waiter


class ProcExit(Exception):
    """The guest called ``proc_exit(code)``: the run ends with ``code`` (0 included)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"proc_exit({code})")
        self.code = code


class WasiCtx:
    """The state behind one instance's ``wasi_snapshot_preview1`` imports."""

    # A plain class: the dataclasses module (with the inspect it imports) is too dear for the
    # start-up of a run (benchmarks/startup.py).
    __slots__ = ("args", "calls", "env", "exit_code", "fds", "waiter")

    def __init__(
        self, args: Sequence[str], env: Mapping[str, str], fds: FdTable | None = None, waiter: Waiter | None = None
    ) -> None:
        self.args = args
        self.env = env
        self.fds = FdTable() if fds is None else fds
        self.waiter = Waiter() if waiter is None else waiter
        self.exit_code: int | None = None
        self.calls = 0  # host calls made, for the debug log

    def encoded_args(self) -> list[bytes]:
        return [a.encode() + b"\0" for a in self.args]

    def encoded_env(self) -> list[bytes]:
        return [f"{k}={v}".encode() + b"\0" for k, v in self.env.items()]

    def close(self) -> None:
        self.fds.close_all()
        self.waiter.close()
