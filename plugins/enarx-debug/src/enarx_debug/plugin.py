"""The object ``enarx`` finds through the ``enarx.plugins`` entry point named ``debug``."""

from __future__ import annotations

from pathlib import Path

from enarx_debug import __version__
from enarx_debug.files import open_file


class DebugPlugin:
    name = "enarx-debug"
    version = __version__

    open_file = staticmethod(open_file)

    @staticmethod
    def start_test_steward(cache_dir: Path) -> object:
        from enarx_debug.test_steward import start  # the Steward's code loads only for --test

        return start(cache_dir)


PLUGIN = DebugPlugin()
