"""enarx._log: loggers that import nothing until a record would be emitted."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from enarx import _log

log = _log.get_logger("enarx.probe")
_log.configure(_log.WARNING, sys.stderr)
log.debug("not shown %s", 1)
log.info("not shown either")
print("logging" in sys.modules)

def caller():
    log.warning("shown %s", "once")

caller()
print("logging" in sys.modules)
import logging
print(logging.getLogger("enarx.probe").handlers == [] and logging.getLogger("enarx").level == logging.WARNING)
try:
    raise ValueError("boom")
except ValueError:
    log.exception("failed")
"""


def test_nothing_is_imported_below_the_level_and_records_look_as_configured() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False", "True", "True"]
    lines = done.stderr.splitlines()
    assert lines[0] == "enarx: WARNING: shown once"
    assert lines[1] == "enarx: ERROR: failed" and "ValueError: boom" in done.stderr


def test_once_logging_is_loaded_its_own_configuration_rules() -> None:
    """A harness (pytest, an embedding service) that configured logging sees every record it asks for."""
    import logging

    from enarx import _log

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("enarx.test-log")
    handler = Keep(level=logging.DEBUG)
    logger.addHandler(handler)
    old_level, logger.level = logger.level, logging.DEBUG
    try:

        def where_it_was_called() -> None:
            _log.get_logger("enarx.test-log").debug("seen %d", 3)

        where_it_was_called()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert [r.getMessage() for r in records] == ["seen 3"]
    assert records[0].funcName == "where_it_was_called"  # the caller, not enarx._log
