"""Fetched packages on local disk, one directory per tree digest.

An entry is written as a temp directory renamed into place, so it is whole or absent. The
disk is the host's, not the Keep's: an entry is re-hashed when read and dropped if it no
longer has the digest it is filed under, so a tampered cache is refetched, never run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from enarx.identity.digests import build_tree
from enarx.identity.errors import IdentityError
from enarx.package.build import read_package_dir


class PackageCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, tree_sha256: bytes) -> Path:
        return self.directory / tree_sha256.hex()

    def load(self, tree_sha256: bytes) -> tuple[Path, dict[str, bytes]] | None:
        path = self.path_for(tree_sha256)
        if not path.is_dir():
            return None
        try:
            files = read_package_dir(path)
            ok = build_tree(files).sha256 == tree_sha256
        except (IdentityError, OSError, ValueError):
            ok = False
        except Exception:  # PackageError and friends: an unusable entry is simply refetched
            ok = False
        if not ok:
            shutil.rmtree(path, ignore_errors=True)
            return None
        return path, files

    def store(self, tree_sha256: bytes, files: Mapping[str, bytes]) -> Path:
        final = self.path_for(tree_sha256)
        if final.is_dir():
            return final
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.directory, prefix=".partial-"))
        try:
            for rel, data in files.items():
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, final)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if final.is_dir():  # a concurrent fetch stored the same package
                return final
            raise
        return final
