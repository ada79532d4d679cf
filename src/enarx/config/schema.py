"""Enarx.toml as types.

Compatible with Enarx's ``enarx-config`` crate: ``steward``, ``args``, ``env`` and
``[[files]]`` with kinds ``null``, ``stdin``, ``stdout``, ``stderr``, ``listen`` and
``connect``; unknown keys inside an entry are rejected (Enarx's ``deny_unknown_fields``).
Our extensions (docs/enarx-toml.md): ``kind = "dir"`` pre-opens, ``peer``/``ca`` and client
authentication for TLS, ``[limits]``, top-level ``ca``, and the ``[test]`` overlay.

Where Enarx's documentation and code disagree, we take the documented, safer choice:
``prot`` defaults to ``"tls"`` (Enarx's docs say so; its code required the key).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

Prot = Literal["tcp", "tls"]
Port = Annotated[int, Field(ge=1, le=65535, strict=True)]

_SIZE = re.compile(r"^\s*(\d+)\s*(B|KiB|MiB|GiB|KB|MB|GB)?\s*$")
_SIZE_UNITS = {None: 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "KB": 10**3, "MB": 10**6, "GB": 10**9}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def default_port(prot: Prot) -> int:
    """Enarx's defaults: 443 for TLS, 80 for plain TCP."""
    return 443 if prot == "tls" else 80


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _check_name(value: str) -> str:
    if ":" in value:
        raise ValueError("file name must not contain ':' (FD_NAMES joins names with ':')")
    if not value:
        raise ValueError("file name must not be empty")
    return value


# Every [[files]] name ends up in FD_NAMES.
FileName = Annotated[str, AfterValidator(_check_name)]


class NullFile(_Strict):
    """Reads see end-of-file; writes are discarded."""

    kind: Literal["null"]
    name: FileName = "null"


class StdinFile(_Strict):
    """The host's standard input (an insecure host channel: debug builds only)."""

    kind: Literal["stdin"]
    name: FileName = "stdin"


class StdoutFile(_Strict):
    """The host's standard output (an insecure host channel: debug builds only)."""

    kind: Literal["stdout"]
    name: FileName = "stdout"


class StderrFile(_Strict):
    """The host's standard error (an insecure host channel: debug builds only)."""

    kind: Literal["stderr"]
    name: FileName = "stderr"


class ListenFile(_Strict):
    """A bound TCP listener; with ``prot = "tls"`` every connection is TLS-terminated in the Keep."""

    kind: Literal["listen"]
    name: FileName
    prot: Prot = "tls"
    addr: str = "::"
    port: Port | None = None
    client_auth: Literal["none", "request", "require"] = "none"
    peers: list[str] = Field(default_factory=list, description="applications allowed as TLS clients (mTLS)")

    @model_validator(mode="after")
    def _defaults(self) -> ListenFile:
        if self.port is None:
            object.__setattr__(self, "port", default_port(self.prot))
        if (self.peers or self.client_auth != "none") and self.prot != "tls":
            raise ValueError("client_auth and peers need prot = \"tls\"")
        return self


class ConnectFile(_Strict):
    """An outgoing TCP stream connected at start-up; with TLS, the server is verified."""

    kind: Literal["connect"]
    host: str
    prot: Prot = "tls"
    name: FileName | None = None
    port: Port | None = None
    peer: str | None = Field(default=None, description="application the server's certificate must name")
    ca: list[str] = Field(default_factory=list, description="extra trust anchors (PEM files)")

    @model_validator(mode="after")
    def _defaults(self) -> ConnectFile:
        if self.name is None:
            if ":" in self.host:
                raise ValueError("host contains ':'; set a name for this entry")
            object.__setattr__(self, "name", self.host)
        if self.port is None:
            object.__setattr__(self, "port", default_port(self.prot))
        if (self.peer or self.ca) and self.prot != "tls":
            raise ValueError("peer and ca need prot = \"tls\"")
        return self


class DirFile(_Strict):
    """A host directory pre-opened for the guest (our extension; insecure: debug builds only).

    ``name`` is the guest path (e.g. ``/data``); ``path`` the host directory, relative to the
    Enarx.toml's own directory.
    """

    kind: Literal["dir"]
    name: FileName
    path: str
    writable: bool = False


File = Annotated[
    NullFile | StdinFile | StdoutFile | StderrFile | ListenFile | ConnectFile | DirFile,
    Field(discriminator="kind"),
]


def parse_size(value: int | str) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a size such as 64MiB")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a size such as 64MiB, 512KiB or 1048576")
        size = int(match.group(1)) * _SIZE_UNITS[match.group(2)]
    if size <= 0:
        raise ValueError("size must be positive")
    return size


def parse_duration(value: int | float | str) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 10s")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration such as 500ms, 10s, 5m or 1h")
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError("duration must be positive")
    return seconds


class Limits(_Strict):
    """Resource limits (our extension). Sizes take B/KiB/MiB/GiB; durations ms/s/m/h."""

    memory: int | None = Field(default=None, description="largest linear memory, bytes or e.g. \"64MiB\"")
    wall_time: float | None = Field(default=None, description="wall-clock limit, seconds or e.g. \"30s\"")
    cpu_time: float | None = Field(default=None, description="CPU-time limit, seconds or e.g. \"10s\"")

    @field_validator("memory", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        return None if value is None else parse_size(value)

    @field_validator("wall_time", "cpu_time", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)


class Config(_Strict):
    """An Enarx.toml, after the ``[test]`` overlay and ``--set`` overrides."""

    steward: str | None = Field(default=None, description="Steward URL the Keep attests to (https)")
    app: str | None = Field(
        default=None, description="application name the Keep asks its certificate to carry (the Steward decides)"
    )
    args: list[str] = Field(default_factory=list, description="argv[1..]; argv[0] is always main.wasm")
    env: dict[str, str] = Field(default_factory=dict, description="the workload's whole environment")
    files: list[File] = Field(default_factory=list, description="fds 0..N-1, in order")
    ca: list[str] = Field(default_factory=list, description="trust anchors (PEM files) for TLS connects")
    limits: Limits = Field(default_factory=Limits)

    @field_validator("steward")
    @classmethod
    def _steward_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("app")
    @classmethod
    def _app_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", value):
            raise ValueError(f"{value!r} is not an application name (a DNS label: a-z, 0-9, '-')")
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not key or "=" in key or "\0" in key:
                raise ValueError(f"environment variable name {key!r} is not valid")
            if key in ("FD_COUNT", "FD_NAMES"):
                raise ValueError(f"{key} is set by the runtime from [[files]]")
        return value

    @model_validator(mode="after")
    def _dirs_after_stdio(self) -> Config:
        # wasi-libc finds pre-opens by scanning fds from 3 upward until the first fd that is
        # not one, so a directory placed after a socket would never be seen by the guest.
        seen_other = False
        for index, entry in enumerate(self.files):
            if index < 3:
                if isinstance(entry, DirFile):
                    raise ValueError(
                        f"files[{index}] (dir {entry.name!r}) would be fd {index}: pre-opens must be fd 3 or higher"
                    )
                continue
            if isinstance(entry, DirFile):
                if seen_other:
                    raise ValueError(
                        f"files[{index}] (dir {entry.name!r}) must come before every other entry "
                        "from fd 3 on: wasi-libc stops looking for pre-opens at the first fd that is not one"
                    )
            else:
                seen_other = True
        return self

    @property
    def fd_names(self) -> list[str]:
        return [str(f.name) for f in self.files]
