"""Enarx.toml: typed schema, loading, the ``[test]`` overlay, ``--set`` overrides, JSON Schema.

The pydantic schema lives in :mod:`enarx.config.schema` and is imported only when a
configuration is validated; the runtime consumes :class:`EffectiveConfig`.
"""

from enarx.config.effective import EffectiveConfig, FileEntry
from enarx.config.load import ConfigError, ConfigIssue, LoadedConfig, load_config

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "EffectiveConfig",
    "FileEntry",
    "LoadedConfig",
    "load_config",
]
