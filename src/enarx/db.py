"""Connections to the embedded default (SQLite in WAL mode) or to PostgreSQL, one per thread,
and the transactions over them.

The Steward's issuance log and the registry's metadata share this plumbing; each keeps its
own schema and error codes. Queries are written with ``?`` placeholders and
:meth:`Connections.sql` turns them into PostgreSQL's ``%s``.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any


class DatabaseUnavailable(Exception):
    """The database could not be opened; the message names it (credentials redacted)."""


def is_postgres(database: str) -> bool:
    return database.startswith(("postgresql://", "postgres://"))


def redacted(database: str) -> str:
    """The database name or URL without a password, for messages and logs."""
    if not is_postgres(database):
        return database
    head, _, tail = database.partition("@")
    return f"{head.split(':')[0]}://…@{tail}" if tail else database


class Connections:
    """A connection per thread to ``database`` (a SQLite path or a PostgreSQL URL)."""

    def __init__(self, database: str, *, sqlite_synchronous: str = "FULL") -> None:
        self.database = database
        self.postgres = is_postgres(database)
        self._synchronous = sqlite_synchronous.upper()
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._writer = threading.Lock()  # SQLite: one writing transaction at a time in this process
        self._lockfile: int | None = None  # ... and an flock on "<database>.lock" across processes

    @property
    def engine(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    def get(self) -> Any:
        """This thread's connection, opened on first use (autocommit; transactions are explicit)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            if self.postgres:
                import psycopg  # only a PostgreSQL deployment loads the driver

                conn = psycopg.connect(self.database, autocommit=True)
            else:
                conn = sqlite3.connect(self.database, timeout=30.0, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={self._synchronous}")
                conn.execute("PRAGMA busy_timeout=30000")
        except Exception as exc:  # sqlite3.Error, psycopg.Error: one boundary for both engines
            raise DatabaseUnavailable(f"{redacted(self.database)} is unavailable: {exc}") from exc
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    def drop(self) -> None:
        """Forget this thread's connection (after a PostgreSQL error it may be unusable)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with suppress(Exception):
                conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside one transaction on this thread's connection, committed on leaving
        the block and rolled back on an exception.

        SQLite: ``BEGIN IMMEDIATE`` with one writer at a time, by a thread lock in the process
        and an ``flock`` across processes (service workers, the CLI). SQLite's own busy handler
        backs off by sleeping (up to 100 ms a try), which under concurrent writers costs far
        more than a lock that wakes the next writer at once. PostgreSQL: ``BEGIN`` ... ``COMMIT``
        on the autocommit connection; after a driver error the connection is dropped, as it
        may be unusable. Errors propagate for the caller to name (:meth:`is_error`).
        """
        conn = self.get()
        if self.postgres:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    yield cur
            except Exception as exc:
                if self.is_error(exc):
                    self.drop()
                raise
            return
        with self._writer:
            fcntl.flock(self._lock_fd(), fcntl.LOCK_EX)
            try:
                cur = conn.cursor()
                cur.execute("BEGIN IMMEDIATE")
                try:
                    yield cur
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
                cur.execute("COMMIT")
            finally:
                fcntl.flock(self._lock_fd(), fcntl.LOCK_UN)

    def _lock_fd(self) -> int:
        if self._lockfile is None:
            self._lockfile = os.open(self.database + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        return self._lockfile

    def sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def is_error(self, exc: BaseException) -> bool:
        """Whether ``exc`` comes from the database driver (as opposed to a bug of ours)."""
        return isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("psycopg")

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with suppress(Exception):
                conn.close()
        self._local = threading.local()
        if self._lockfile is not None:
            os.close(self._lockfile)
            self._lockfile = None
