"""What a command may touch of the outside world, injected so tests can run the CLI in-process."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from datetime import datetime


def _utcnow() -> datetime:
    from datetime import UTC, datetime  # only the commands that need a clock pay for datetime

    return datetime.now(UTC)


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "enarx"


class Environment:
    """Streams, environment variables, cache directory and clock of one CLI invocation.

    Every argument defaults to the real process's; tests pass their own.
    """

    def __init__(
        self,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = _utcnow,
        cache_dir: Path | None = None,
    ) -> None:
        self.stdin = sys.stdin if stdin is None else stdin
        self.stdout = sys.stdout if stdout is None else stdout
        self.stderr = sys.stderr if stderr is None else stderr
        self.environ: Mapping[str, str] = dict(os.environ) if environ is None else environ
        self.clock = clock
        self.cache_dir = _default_cache_dir() if cache_dir is None else cache_dir

    def getenv(self, name: str, default: str | None = None) -> str | None:
        return self.environ.get(name, default)
