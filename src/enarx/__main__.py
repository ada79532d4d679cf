"""``python -m enarx`` is ``enarx``."""

from enarx.cli.main import entry

entry()
