"""Find the shared test vectors (../shared/vectors, or ``$ENARX_VECTORS``).

Tests that need a vector call :func:`vector`; when the vectors are absent the test is skipped
with a reason, except under ``CI=true``, where a missing vector is a failure (CI must never
pass by skipping what it was meant to check).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parent.parent


def vectors_dir() -> Path:
    """The vectors directory; skips (or fails under CI=true) when it does not exist."""
    configured = os.environ.get("ENARX_VECTORS")
    path = Path(configured) if configured else _REPO_ROOT.parent / "shared" / "vectors"
    if not path.is_dir():
        _missing(f"test vectors not found at {path} (set ENARX_VECTORS)")
    return path


def vector(relpath: str) -> bytes:
    """The bytes of one vector file, by its path relative to the vectors directory."""
    path = vectors_dir() / relpath
    if not path.is_file():
        _missing(f"test vector {relpath} not found under {path.parent}")
    return path.read_bytes()


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)
