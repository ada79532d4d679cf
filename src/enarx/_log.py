"""Loggers that cost nothing until a record would be emitted.

Importing :mod:`logging` (with the ``threading``, ``traceback`` and ``string`` it pulls in) is
about a tenth of a warm ``enarx run`` (benchmarks/startup.py), and a run at the default level
logs nothing. So the runtime's modules take their logger from here: a call below the level
the command line configured returns at once, and the first record that would be emitted
imports :mod:`logging`, applies the configuration and forwards to the real logger.

Once :mod:`logging` is loaded by anyone (a test harness, a library), every call forwards, so
handlers and levels set through :mod:`logging` itself behave as they always do.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import logging

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40  # logging's own numbers, without importing it

FORMAT = "enarx: %(levelname)s: %(message)s"

_threshold = WARNING  # what an unconfigured "enarx" logger would let through
_pending: tuple[int, TextIO] | None = None


def configure(level: int, stream: TextIO) -> None:
    """Send the ``enarx`` loggers' records at ``level`` and above to ``stream``, one line each.

    Applied at once when :mod:`logging` is loaded, otherwise when the first record is."""
    global _threshold, _pending
    _threshold = level
    _pending = (level, stream)
    if "logging" in sys.modules:
        _apply_pending()


def _apply_pending() -> None:
    global _pending
    if _pending is None:
        return
    import logging

    level, stream = _pending
    _pending = None
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger("enarx")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class Logger:
    """The subset of :class:`logging.Logger` the runtime uses, deferring the import."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def real(self) -> logging.Logger:
        import logging

        _apply_pending()
        return logging.getLogger(self.name)

    def isEnabledFor(self, level: int) -> bool:
        if "logging" not in sys.modules:
            return level >= _threshold
        return self.real().isEnabledFor(level)

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self._emit(DEBUG, msg, args, kwargs)

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self._emit(INFO, msg, args, kwargs)

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self._emit(WARNING, msg, args, kwargs)

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self._emit(ERROR, msg, args, kwargs)

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("exc_info", True)
        self._emit(ERROR, msg, args, kwargs)

    def _emit(self, level: int, msg: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.isEnabledFor(level):
            # stacklevel 3: the record names the caller of debug()/info()/..., not this module.
            self.real().log(level, msg, *args, stacklevel=3, **kwargs)


def get_logger(name: str) -> Logger:
    return Logger(name)
