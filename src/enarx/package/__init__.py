"""Packages: a directory holding ``main.wasm`` and ``Enarx.toml`` (plus optional files).

``build`` checks one and computes its digests; ``cache`` keeps fetched packages by tree digest.
docs/packages.md describes the format and the digests.
"""

from enarx.package.build import (
    PackageError,
    PackageReport,
    build_package,
    check_files,
    check_module,
    effective_config,
    read_package_dir,
)
from enarx.package.cache import PackageCache

__all__ = [
    "PackageCache",
    "PackageError",
    "PackageReport",
    "build_package",
    "check_files",
    "check_module",
    "effective_config",
    "read_package_dir",
]
