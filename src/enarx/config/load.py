"""Reading Enarx.toml: parse, overlay ``[test]``, apply ``--set``, validate, locate errors.

Errors name ``file:line`` wherever the TOML allows it: syntax errors carry tomllib's own
position, and schema errors are placed by finding their key path in the source text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from enarx.config.effective import DEFAULT_DOCUMENT, EffectiveConfig
from enarx.errors import EnarxError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from enarx.config.schema import Config

# An Enarx.toml is a small manifest; Enarx itself caps package configs at 1 MB.
MAX_CONFIG_BYTES = 1_000_000


class ConfigIssue(NamedTuple):
    """One problem in a config file, where it is, and what is wrong."""

    path: str  # the file, or "<--set>" / "<default>"
    line: int | None
    location: str  # dotted key path, e.g. files[3].port
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.location}: {self.message}" if self.location else f"{where}: {self.message}"


class ConfigError(EnarxError):
    """The configuration is invalid; ``issues`` lists every problem found."""

    code = "config.invalid"

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = tuple(issues)
        first = str(self.issues[0]) if self.issues else "invalid configuration"
        more = f" (and {len(self.issues) - 1} more; run `enarx config validate`)" if len(self.issues) > 1 else ""
        super().__init__(first + more)


class LoadedConfig(NamedTuple):
    """A validated configuration and where it came from."""

    config: EffectiveConfig
    source: Path | None  # None: the built-in default (stdio only)
    base_dir: Path  # relative paths in the config (dir pre-opens, CA files) resolve here
    test_overlay_applied: bool = False


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(str(path), None, "", "no such file")]) from None
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(path), None, "", f"cannot read: {exc.strerror}")]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError([ConfigIssue(str(path), None, "", f"larger than {MAX_CONFIG_BYTES} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue(str(path), None, "", f"not UTF-8 ({exc.reason} at byte {exc.start})")]) from None
    import tomllib  # only when there is a file to read

    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line_match = re.search(r"at line (\d+)", message)
        line = int(line_match.group(1)) if line_match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        raise ConfigError([ConfigIssue(str(path), line, "", f"TOML syntax: {message}")]) from None


def overlay(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``top`` over ``base``: tables merge, everything else (arrays too) replaces."""
    import copy  # only configurations from a file are merged: `enarx run x.wasm` never loads copy

    merged = copy.deepcopy(dict(base))
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = overlay(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_override(item: str) -> tuple[list[str | int], Any]:
    """``KEY=VALUE`` with a TOML dotted key (numeric parts index arrays) and a TOML value.

    A value that is not valid TOML is taken as a plain string, so ``--set steward=https://x``
    needs no quotes.
    """
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError([ConfigIssue("<--set>", None, item, "expected KEY=VALUE, e.g. limits.memory=\"64MiB\"")])
    parts: list[str | int] = []
    for part in key.split("."):
        part = part.strip().strip('"')
        if not part:
            raise ConfigError([ConfigIssue("<--set>", None, key, "empty key part")])
        parts.append(int(part) if part.isdigit() else part)
    import tomllib

    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return parts, parsed


def apply_override(data: dict[str, Any], parts: Sequence[str | int], value: Any) -> None:
    target: Any = data
    for depth, part in enumerate(parts[:-1]):
        nxt = parts[depth + 1]
        if isinstance(part, int):
            if not isinstance(target, list) or part >= len(target):
                raise ConfigError([ConfigIssue("<--set>", None, _dotted(parts), f"no array element {part}")])
            target = target[part]
        else:
            if not isinstance(target, dict):
                raise ConfigError([ConfigIssue("<--set>", None, _dotted(parts), f"{part!r} is not inside a table")])
            target = target.setdefault(part, [] if isinstance(nxt, int) else {})
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(target, list) or last > len(target):
            raise ConfigError([ConfigIssue("<--set>", None, _dotted(parts), f"no array element {last}")])
        if last == len(target):
            target.append(value)
        else:
            target[last] = value
    else:
        if not isinstance(target, dict):
            raise ConfigError([ConfigIssue("<--set>", None, _dotted(parts), "not inside a table")])
        target[last] = value


def _dotted(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def effective_data(
    data: Mapping[str, Any], *, test: bool, overrides: Sequence[str] = ()
) -> tuple[dict[str, Any], bool]:
    """The raw table that will be validated: ``[test]`` overlaid when testing, then ``--set``."""
    data = dict(data)
    test_table = data.pop("test", None)
    applied = False
    if test_table is not None and not isinstance(test_table, Mapping):
        raise ConfigError([ConfigIssue("<config>", None, "test", "must be a table")])
    if test:
        # A test run never attests to the production Steward: its steward comes from [test]
        # alone, and without one `enarx run --test` starts an embedded test Steward.
        data.pop("steward", None)
    if test and test_table:
        if "test" in test_table:
            raise ConfigError([ConfigIssue("<config>", None, "test.test", "[test] cannot nest")])
        data = overlay(data, test_table)
        applied = True
    for item in overrides:
        parts, value = parse_override(item)
        apply_override(data, parts, value)
    return data, applied


def validate(data: Mapping[str, Any], *, source: str = "<config>", text: str | None = None) -> Config:
    # The schema (and pydantic) load only when there is a configuration to check.
    from pydantic import ValidationError

    from enarx.config.schema import Config

    try:
        return Config.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(issues_from(exc, source, text)) from None


def resolve(data: Mapping[str, Any], *, source: str = "<config>", text: str | None = None) -> EffectiveConfig:
    """Validate and fill defaults: the configuration as the runtime will use it."""
    return EffectiveConfig.from_document(validate(data, source=source, text=text).model_dump(mode="json"))


def issues_from(exc: ValidationError, source: str, text: str | None) -> list[ConfigIssue]:
    issues = []
    for error in exc.errors():
        loc = [p for p in error["loc"] if not (isinstance(p, str) and p in _UNION_TAGS)]
        location = _dotted(loc)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (not in the schema; see `enarx config schema`)"
        elif error["type"] == "union_tag_invalid" and isinstance(error.get("input"), dict):
            kind = error["input"].get("kind")
            message = f"unknown kind {kind!r}; expected one of null, stdin, stdout, stderr, listen, connect, dir"
        elif error["type"] == "union_tag_not_found":
            message = "missing key 'kind'"
        where = [*loc, "kind"] if error["type"] == "union_tag_invalid" else loc  # point at the kind
        line = locate(text, where) if text is not None else None
        issues.append(ConfigIssue(source, line, location, message))
    return issues


_UNION_TAGS = {"null", "stdin", "stdout", "stderr", "listen", "connect", "dir"}


def locate(text: str, loc: Sequence[str | int]) -> int | None:
    """Best-effort line of a key path in TOML source (arrays of tables and plain keys)."""
    lines = text.splitlines()
    table: list[str | int] = []  # current table path, with array-of-tables indices
    counts: dict[str, int] = {}
    best: int | None = None
    target_table = [p for p in loc[:-1]]
    header = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
    for number, line in enumerate(lines, start=1):
        match = header.match(line)
        if match:
            name = match.group(2).replace('"', "").replace("'", "")
            keys: list[str | int] = list(name.split("."))
            if match.group(1) == "[[":
                index = counts.get(name, 0)
                counts[name] = index + 1
                keys.append(index)
            table = keys
            if table == list(loc[: len(table)]) and best is None and len(table) == len(loc):
                best = number
            elif table == list(loc[: len(table)]):
                best = number if best is None else best
            continue
        key_match = re.match(r"^\s*([A-Za-z0-9_\-\"']+)\s*=", line)
        if key_match:
            key = key_match.group(1).strip("\"'")
            full = [*table, key]
            if full == list(loc[: len(full)]) and len(full) >= len(target_table) + 1:
                return number
    return best


def _schema_stamp() -> str:
    """Changes whenever the schema's source does, so a cached validation never outlives it."""
    import hashlib  # the cache is for configuration files; a run without one does not load it

    return hashlib.sha256(Path(__file__).with_name("schema.py").read_bytes()).hexdigest()


def _cache_path(cache_dir: Path, raw: bytes, test: bool, overrides: Sequence[str]) -> Path:
    import hashlib
    import json

    material = json.dumps([raw.hex(), test, list(overrides), _schema_stamp()])
    return cache_dir / "configs" / (hashlib.sha256(material.encode()).hexdigest() + ".json")


def _cached_document(path: Path) -> tuple[dict[str, Any], bool] | None:
    import json

    try:
        entry = json.loads(path.read_text())
        document, applied = entry["document"], entry["test_overlay_applied"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (document, bool(applied)) if isinstance(document, dict) else None


def _store_document(path: Path, document: Mapping[str, Any], applied: bool) -> None:
    import json

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"document": document, "test_overlay_applied": applied}))
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs the next run a validation


def load_config(
    path: Path | None, *, test: bool = False, overrides: Sequence[str] = (), cache_dir: Path | None = None
) -> LoadedConfig:
    """Load, overlay and validate an Enarx.toml; ``path=None`` gives Enarx's default (stdio).

    With ``cache_dir``, a configuration validated before (same bytes, overrides, test flag
    and schema) is taken from the cache: validating imports pydantic and builds the schema,
    most of a warm start. Like the module cache, it belongs to the Keep's own filesystem.
    """
    if path is None:
        if not overrides:
            return LoadedConfig(EffectiveConfig.from_document(DEFAULT_DOCUMENT), None, Path.cwd())
        data: dict[str, Any] = {"files": [dict(f) for f in DEFAULT_DOCUMENT["files"]]}
        effective, applied = effective_data(data, test=test, overrides=overrides)
        return LoadedConfig(resolve(effective, source="<default>"), None, Path.cwd(), applied)
    cached_at = None
    if cache_dir is not None:
        try:
            raw = path.read_bytes()
        except OSError:
            raw = None
        if raw is not None and len(raw) <= MAX_CONFIG_BYTES:
            cached_at = _cache_path(cache_dir, raw, test, overrides)
            hit = _cached_document(cached_at)
            if hit is not None:
                return LoadedConfig(EffectiveConfig.from_document(hit[0]), path, path.resolve().parent, hit[1])
    data, text = read_toml(path)
    effective, applied = effective_data(data, test=test, overrides=overrides)
    config = resolve(effective, source=str(path), text=text)
    if cached_at is not None:
        _store_document(cached_at, config.document, applied)
    return LoadedConfig(config, path, path.resolve().parent, applied)
