"""Run a Steward under uvicorn (``enarx steward serve``)."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from enarx.steward.service import build_steward
from enarx.steward.settings import StewardConfig, load_config

CONFIG_ENV = "STEWARD_CONFIG"


def app_from_env() -> Starlette:
    """uvicorn factory for multi-process serving: the config path comes from ``STEWARD_CONFIG``."""
    path = os.environ.get(CONFIG_ENV)
    if not path:
        raise RuntimeError(f"{CONFIG_ENV} is not set")
    return build_steward(load_config(Path(path), os.environ)).app


def serve(config: StewardConfig, config_path: Path, *, log_level: str = "info") -> None:
    """Serve until interrupted. One worker runs in-process; more are uvicorn worker processes,
    each building its own Steward from the same file (they share only the log)."""
    settings = config.settings
    if settings.workers > 1:
        os.environ[CONFIG_ENV] = str(config_path.resolve())
        uvicorn.run(
            "enarx.steward.serve:app_from_env", factory=True, host=settings.host, port=settings.port,
            workers=settings.workers, log_level=log_level, access_log=False,
        )
        return
    steward = build_steward(config)
    try:
        uvicorn.run(steward.app, host=settings.host, port=settings.port, log_level=log_level, access_log=False)
    finally:
        steward.close()
