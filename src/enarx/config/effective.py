"""The effective configuration as the runtime consumes it: plain frozen data, no pydantic.

The schema (:mod:`enarx.config.schema`) validates; this is what a validated configuration
*is* once defaults are filled in: ``document`` is its JSON form (the input of the
deployment digest), and the typed fields are read from that document. Keeping the runtime
on plain data lets ``enarx run module.wasm`` without a config start without importing
pydantic at all, which is most of a cold start (see benchmarks/startup.py). The records are
named tuples, not dataclasses, for the same reason: ``dataclasses`` imports ``inspect``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple


class FileEntry(NamedTuple):
    """One ``[[files]]`` entry with its defaults filled in; fields a kind lacks are ``None``."""

    kind: str
    name: str
    prot: str | None = None
    addr: str | None = None
    host: str | None = None
    port: int | None = None
    path: str | None = None
    writable: bool = False
    peer: str | None = None
    ca: tuple[str, ...] = ()
    client_auth: str = "none"
    peers: tuple[str, ...] = ()

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> FileEntry:
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in doc.items()}
        return cls(**values)


class EffectiveConfig(NamedTuple):
    steward: str | None
    app: str | None
    args: tuple[str, ...]
    env: Mapping[str, str]
    files: tuple[FileEntry, ...]
    ca: tuple[str, ...]
    memory: int | None
    wall_time: float | None
    cpu_time: float | None
    document: Mapping[str, Any]

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> EffectiveConfig:
        limits = doc.get("limits") or {}
        return cls(
            steward=doc.get("steward"),
            app=doc.get("app"),
            args=tuple(doc.get("args", ())),
            env=MappingProxyType(dict(doc.get("env", {}))),
            files=tuple(FileEntry.from_document(f) for f in doc.get("files", ())),
            ca=tuple(doc.get("ca", ())),
            memory=limits.get("memory"),
            wall_time=limits.get("wall_time"),
            cpu_time=limits.get("cpu_time"),
            document=doc,
        )

    @property
    def fd_names(self) -> list[str]:
        return [f.name for f in self.files]


# What `Config.model_validate({"files": [stdin, stdout, stderr]}).model_dump(mode="json")`
# gives; tests/config keep the two equal.
DEFAULT_DOCUMENT: Mapping[str, Any] = {
    "steward": None,
    "app": None,
    "args": [],
    "env": {},
    "files": [
        {"kind": "stdin", "name": "stdin"},
        {"kind": "stdout", "name": "stdout"},
        {"kind": "stderr", "name": "stderr"},
    ],
    "ca": [],
    "limits": {"memory": None, "wall_time": None, "cpu_time": None},
}
