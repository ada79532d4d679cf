"""The object ``enarx`` finds through the ``enarx.plugins`` entry point named ``debug``."""

from __future__ import annotations

from enarx_debug import __version__
from enarx_debug.files import open_file


class DebugPlugin:
    name = "enarx-debug"
    version = __version__

    open_file = staticmethod(open_file)


PLUGIN = DebugPlugin()
