"""WASI preview 1 errno values, and the one exception a host function may raise for a guest error."""

from __future__ import annotations

import errno as _os_errno
from enum import IntEnum


class Errno(IntEnum):
    SUCCESS = 0
    TOOBIG = 1
    ACCES = 2
    ADDRINUSE = 3
    ADDRNOTAVAIL = 4
    AFNOSUPPORT = 5
    AGAIN = 6
    ALREADY = 7
    BADF = 8
    BADMSG = 9
    BUSY = 10
    CANCELED = 11
    CHILD = 12
    CONNABORTED = 13
    CONNREFUSED = 14
    CONNRESET = 15
    DEADLK = 16
    DESTADDRREQ = 17
    DOM = 18
    DQUOT = 19
    EXIST = 20
    FAULT = 21
    FBIG = 22
    HOSTUNREACH = 23
    IDRM = 24
    ILSEQ = 25
    INPROGRESS = 26
    INTR = 27
    INVAL = 28
    IO = 29
    ISCONN = 30
    ISDIR = 31
    LOOP = 32
    MFILE = 33
    MLINK = 34
    MSGSIZE = 35
    MULTIHOP = 36
    NAMETOOLONG = 37
    NETDOWN = 38
    NETRESET = 39
    NETUNREACH = 40
    NFILE = 41
    NOBUFS = 42
    NODEV = 43
    NOENT = 44
    NOEXEC = 45
    NOLCK = 46
    NOLINK = 47
    NOMEM = 48
    NOMSG = 49
    NOPROTOOPT = 50
    NOSPC = 51
    NOSYS = 52
    NOTCONN = 53
    NOTDIR = 54
    NOTEMPTY = 55
    NOTRECOVERABLE = 56
    NOTSOCK = 57
    NOTSUP = 58
    NOTTY = 59
    NXIO = 60
    OVERFLOW = 61
    OWNERDEAD = 62
    PERM = 63
    PIPE = 64
    PROTO = 65
    PROTONOSUPPORT = 66
    PROTOTYPE = 67
    RANGE = 68
    ROFS = 69
    SPIPE = 70
    SRCH = 71
    STALE = 72
    TIMEDOUT = 73
    TXTBSY = 74
    XDEV = 75
    NOTCAPABLE = 76


class WasiError(Exception):
    """A guest-visible failure: the host function returns ``errno`` to the guest.

    ``reason`` is for the runtime's debug log; the guest only ever sees the number.
    """

    def __init__(self, errno: Errno, reason: str = "") -> None:
        super().__init__(f"{errno.name}: {reason}" if reason else errno.name)
        self.errno = errno
        self.reason = reason


# Host OS errno -> WASI errno, by name: the two enumerations share names (minus the E).
_FROM_OS: dict[int, Errno] = {}
for _name in dir(_os_errno):
    if _name.startswith("E") and _name[1:] in Errno.__members__:
        _FROM_OS[getattr(_os_errno, _name)] = Errno[_name[1:]]
_FROM_OS[_os_errno.EWOULDBLOCK] = Errno.AGAIN
_FROM_OS[_os_errno.EOPNOTSUPP] = Errno.NOTSUP


def from_os_error(exc: OSError) -> WasiError:
    """Translate a host ``OSError`` into the guest's errno (``IO`` when there is no match)."""
    code = _FROM_OS.get(exc.errno or 0, Errno.IO)
    return WasiError(code, f"host: {exc.strerror or exc}")
