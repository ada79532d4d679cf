"""Assembling a Steward: the mode and the CA must agree; a clock override is logged loudly."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from enarx.steward.errors import ConfigError
from enarx.steward.service import build_steward
from enarx.steward.settings import load_config


def _config(tmp_path: Path, ca: Path, head: str) -> Path:
    shutil.copytree(ca, tmp_path / "ca")
    path = tmp_path / "steward.toml"
    path.write_text(head + '\n[server]\nca_dir = "ca"\n')
    return path


def test_production_refuses_a_test_ca(tmp_path: Path, ca_dirs: dict[str, Path]) -> None:
    path = _config(tmp_path, ca_dirs["test"], 'trust_domain = "steward.example"')
    with pytest.raises(ConfigError, match="holds a TEST CA"):
        build_steward(load_config(path, {}))


def test_test_mode_refuses_a_production_ca(tmp_path: Path, ca_dirs: dict[str, Path]) -> None:
    path = _config(tmp_path, ca_dirs["production"], 'mode = "test"')
    with pytest.raises(ConfigError, match="needs a test CA"):
        build_steward(load_config(path, {}))


def test_clock_override_is_logged_loudly(tmp_path: Path, ca_dirs: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    path = _config(tmp_path, ca_dirs["production"], 'trust_domain = "steward.example"\nclock = 2023-02-01T00:00:00Z')
    with caplog.at_level(logging.WARNING, logger="enarx.steward"):
        steward = build_steward(load_config(path, {}))
    try:
        assert any(r.levelno == logging.WARNING and "CLOCK OVERRIDE" in r.message and "2023-02-01" in r.message for r in caplog.records)
        assert steward.issuer.now().isoformat() == "2023-02-01T00:00:00+00:00"
    finally:
        steward.close()
