"""Strict reading of TOML tables with errors that name the file, the key path and the line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from enarx.steward.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """Where a configuration came from, to point errors at a line."""

    name: str
    text: str = ""

    def where(self, path: str) -> str:
        line = self.line_of(path)
        return f"{self.name}:{line}: {path}" if line else f"{self.name}: {path}"

    def line_of(self, path: str) -> int | None:
        """Best effort: the line of ``key = `` inside the table ``[a.b]`` of a dotted path."""
        parts = [p for p in re.split(r"\.|\[\d+\]", path) if p]
        if not parts or not self.text:
            return None
        key, tables = parts[-1], parts[:-1]
        lines = self.text.splitlines()
        own_header = re.compile(r"^\s*\[+\s*" + r"\s*\.\s*".join(re.escape(p) for p in parts) + r"\s*\]+")
        for i, ln in enumerate(lines):
            if own_header.match(ln):
                return i + 1
        start = 0
        if tables:
            header = re.compile(r"^\s*\[+\s*" + r"\s*\.\s*".join(re.escape(t) for t in tables) + r"\s*\]+")
            start = next((i for i, ln in enumerate(lines) if header.match(ln)), -1)
            if start < 0:
                return None
        key_re = re.compile(r"^\s*\"?" + re.escape(key) + r"\"?\s*=")
        for i in range(start, len(lines)):
            if key_re.match(lines[i]):
                return i + 1
        return start + 1 if tables else None


class Table:
    """A TOML table read key by key; :meth:`done` refuses keys nobody asked for."""

    def __init__(self, data: Mapping[str, object], source: Source, path: str = "") -> None:
        self._data = data
        self._source = source
        self._path = path
        self._seen: set[str] = set()

    def _full(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self._source.where(self._full(key))}: {message}", field=self._full(key))

    def has(self, key: str) -> bool:
        return key in self._data

    def raw(self, key: str) -> object:
        self._seen.add(key)
        return self._data.get(key)

    def get(self, key: str, kind: type[T], default: T) -> T:
        value = self.raw(key)
        if value is None:
            return default
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(key, f"expected {kind.__name__}, got {type(value).__name__} {value!r}")
        return value

    def opt_str(self, key: str) -> str | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {value!r}")
        return value

    def opt_datetime(self, key: str) -> datetime | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError as exc:
                raise self.error(key, f"not an RFC 3339 date-time: {value!r}") from exc
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise self.error(key, f"expected an offset date-time such as 2023-02-01T00:00:00Z, got {value!r}")
        return value

    def str_list(self, key: str) -> list[str]:
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"expected a list of strings, got {value!r}")
        return list(value)

    def table(self, key: str) -> Table | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {value!r}")
        return Table(value, self._source, self._full(key))

    def mapping(self, key: str) -> dict[str, object] | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {value!r}")
        return value

    def keys(self) -> list[str]:
        return list(self._data)

    def done(self) -> None:
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise self.error(unknown[0], "unknown key (misspelt? see docs/steward.md)")


def read_toml(path: Path) -> tuple[dict[str, object], Source]:
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}", code="config.missing") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}", code="config.toml") from exc
    return data, Source(str(path), text)
