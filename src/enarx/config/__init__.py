"""Enarx.toml: typed schema, loading, the ``[test]`` overlay, ``--set`` overrides, JSON Schema."""

from enarx.config.load import ConfigError, ConfigIssue, LoadedConfig, load_config
from enarx.config.schema import (
    Config,
    ConnectFile,
    DirFile,
    Limits,
    ListenFile,
    NullFile,
    StderrFile,
    StdinFile,
    StdoutFile,
)

__all__ = [
    "Config",
    "ConfigError",
    "ConfigIssue",
    "ConnectFile",
    "DirFile",
    "Limits",
    "ListenFile",
    "LoadedConfig",
    "NullFile",
    "StderrFile",
    "StdinFile",
    "StdoutFile",
    "load_config",
]
