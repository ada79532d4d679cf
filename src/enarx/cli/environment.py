"""What a command may touch of the outside world, injected so tests can run the CLI in-process."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "enarx"


@dataclass
class Environment:
    """Streams, environment variables, cache directory and clock of one CLI invocation."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock: Callable[[], datetime] = _utcnow
    cache_dir: Path = field(default_factory=_default_cache_dir)

    def getenv(self, name: str, default: str | None = None) -> str | None:
        return self.environ.get(name, default)
