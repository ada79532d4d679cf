"""Everything one workload's WASI host holds: args, environment, fds, the waiter, the exit code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from enarx.wasi.table import FdTable
from enarx.wasi.waiting import Waiter


class ProcExit(Exception):
    """The guest called ``proc_exit(code)``: the run ends with ``code`` (0 included)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"proc_exit({code})")
        self.code = code


@dataclass
class WasiCtx:
    """The state behind one instance's ``wasi_snapshot_preview1`` imports."""

    args: Sequence[str]
    env: Mapping[str, str]
    fds: FdTable = field(default_factory=FdTable)
    waiter: Waiter = field(default_factory=Waiter)
    exit_code: int | None = None
    calls: int = 0  # host calls made, for the debug log

    def encoded_args(self) -> list[bytes]:
        return [a.encode() + b"\0" for a in self.args]

    def encoded_env(self) -> list[bytes]:
        return [f"{k}={v}".encode() + b"\0" for k, v in self.env.items()]

    def close(self) -> None:
        self.fds.close_all()
        self.waiter.close()
