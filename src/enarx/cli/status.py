"""Exit statuses of the ``enarx`` command, one per failure class.

``enarx run`` passes the workload's own exit code through, so the statuses the runtime
itself uses sit where shells and ``timeout(1)``/``env(1)`` put theirs (124..137), out of
the way of the small codes programs usually return.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1  # a command failed for a reason it printed
    USAGE = 2  # bad command line (argparse's own code)
    REFUSED = 3  # evidence or a policy refused (attest verify, steward checks)
    INSECURE = 4  # a secure run refused an insecure deployment
    TIME_LIMIT = 124  # the workload ran past its wall or CPU time limit (as timeout(1))
    RUNTIME_ERROR = 125  # enarx could not start the workload: config, files, sockets
    MODULE_INVALID = 126  # the module is not runnable wasm (as a shell's "cannot execute")
    TRAP = 134  # the workload trapped (as SIGABRT: 128 + 6)
    MEMORY_LIMIT = 137  # the workload hit its memory limit (as the OOM killer: 128 + 9)
