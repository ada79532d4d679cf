"""WASI preview 1 constants and struct layouts (witx ``typenames.witx``), nothing else."""

from __future__ import annotations

import struct
from enum import IntEnum, IntFlag


class Filetype(IntEnum):
    UNKNOWN = 0
    BLOCK_DEVICE = 1
    CHARACTER_DEVICE = 2
    DIRECTORY = 3
    REGULAR_FILE = 4
    SOCKET_DGRAM = 5
    SOCKET_STREAM = 6
    SYMBOLIC_LINK = 7


class Rights(IntFlag):
    FD_DATASYNC = 1 << 0
    FD_READ = 1 << 1
    FD_SEEK = 1 << 2
    FD_FDSTAT_SET_FLAGS = 1 << 3
    FD_SYNC = 1 << 4
    FD_TELL = 1 << 5
    FD_WRITE = 1 << 6
    FD_ADVISE = 1 << 7
    FD_ALLOCATE = 1 << 8
    PATH_CREATE_DIRECTORY = 1 << 9
    PATH_CREATE_FILE = 1 << 10
    PATH_LINK_SOURCE = 1 << 11
    PATH_LINK_TARGET = 1 << 12
    PATH_OPEN = 1 << 13
    FD_READDIR = 1 << 14
    PATH_READLINK = 1 << 15
    PATH_RENAME_SOURCE = 1 << 16
    PATH_RENAME_TARGET = 1 << 17
    PATH_FILESTAT_GET = 1 << 18
    PATH_FILESTAT_SET_SIZE = 1 << 19
    PATH_FILESTAT_SET_TIMES = 1 << 20
    FD_FILESTAT_GET = 1 << 21
    FD_FILESTAT_SET_SIZE = 1 << 22
    FD_FILESTAT_SET_TIMES = 1 << 23
    PATH_SYMLINK = 1 << 24
    PATH_REMOVE_DIRECTORY = 1 << 25
    PATH_UNLINK_FILE = 1 << 26
    POLL_FD_READWRITE = 1 << 27
    SOCK_SHUTDOWN = 1 << 28
    SOCK_ACCEPT = 1 << 29


ALL_RIGHTS = Rights((1 << 30) - 1)
READ_ONLY_FILE_RIGHTS = (
    Rights.FD_READ | Rights.FD_SEEK | Rights.FD_TELL | Rights.FD_FILESTAT_GET | Rights.FD_ADVISE
    | Rights.POLL_FD_READWRITE | Rights.FD_FDSTAT_SET_FLAGS
)
READ_ONLY_DIR_RIGHTS = (
    Rights.PATH_OPEN | Rights.FD_READDIR | Rights.PATH_FILESTAT_GET | Rights.FD_FILESTAT_GET
    | Rights.PATH_READLINK
)


class Fdflags(IntFlag):
    APPEND = 1 << 0
    DSYNC = 1 << 1
    NONBLOCK = 1 << 2
    RSYNC = 1 << 3
    SYNC = 1 << 4


class Oflags(IntFlag):
    CREAT = 1 << 0
    DIRECTORY = 1 << 1
    EXCL = 1 << 2
    TRUNC = 1 << 3


LOOKUP_SYMLINK_FOLLOW = 1


class Fstflags(IntFlag):
    ATIM = 1 << 0
    ATIM_NOW = 1 << 1
    MTIM = 1 << 2
    MTIM_NOW = 1 << 3


class Clockid(IntEnum):
    REALTIME = 0
    MONOTONIC = 1
    PROCESS_CPUTIME_ID = 2
    THREAD_CPUTIME_ID = 3


class Whence(IntEnum):
    SET = 0
    CUR = 1
    END = 2


class Eventtype(IntEnum):
    CLOCK = 0
    FD_READ = 1
    FD_WRITE = 2


SUBCLOCKFLAGS_ABSTIME = 1
EVENTRWFLAGS_HANGUP = 1
RIFLAGS_RECV_PEEK = 1
RIFLAGS_RECV_WAITALL = 2
ROFLAGS_RECV_DATA_TRUNCATED = 1
SDFLAGS_RD = 1
SDFLAGS_WR = 2
PREOPENTYPE_DIR = 0

# Struct layouts, little-endian as wasm32 is.
IOVEC = struct.Struct("<II")  # buf, buf_len
FDSTAT = struct.Struct("<BxHxxxxQQ")  # filetype, flags, rights_base, rights_inheriting (24 bytes)
FILESTAT = struct.Struct("<QQBxxxxxxxQQQQQ")  # dev, ino, filetype, nlink, size, atim, mtim, ctim (64)
PRESTAT = struct.Struct("<BxxxI")  # tag, dir name length (8)
DIRENT = struct.Struct("<QQIBxxx")  # d_next, d_ino, d_namlen, d_type (24)
SUBSCRIPTION = struct.Struct("<QB7x32s")  # userdata, tag, union (48)
SUBSCRIPTION_CLOCK = struct.Struct("<IxxxxQQH")  # clock id, timeout, precision, flags
SUBSCRIPTION_FD = struct.Struct("<I")  # file descriptor
EVENT = struct.Struct("<QHBxxxxxQH6x")  # userdata, error, type, nbytes, flags (32)
U16 = struct.Struct("<H")
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")
assert FDSTAT.size == 24 and FILESTAT.size == 64 and SUBSCRIPTION.size == 48 and EVENT.size == 32
