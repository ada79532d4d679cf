"""The argument parser every ``enarx`` command is built with.

It is :mod:`argparse`'s, with one change: help is sized to the terminal with
:func:`os.get_terminal_size` instead of :func:`shutil.get_terminal_size`. argparse builds a
formatter for every argument it registers, and importing :mod:`shutil` (with the
compression modules it loads) for that was a few milliseconds of every ``enarx run``
(benchmarks/startup.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def terminal_width() -> int:
    """What :func:`shutil.get_terminal_size` would say: ``$COLUMNS``, the terminal, or 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
        except (OSError, ValueError):
            columns = 0
    return (columns or 80) - 2  # argparse's own margin


class HelpFormatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, width or terminal_width())


class RawDescriptionHelpFormatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Description and epilog printed as written (examples, tables)."""


class Parser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose help uses :class:`HelpFormatter` by default;
    subcommand parsers are of this class too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
