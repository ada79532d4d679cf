"""Registry metadata: users, repositories, tags and tree nodes, in SQLite or PostgreSQL.

One code path over two engines, as the Steward's issuance log: SQLite in WAL mode by default
(a file path), PostgreSQL for a ``postgresql://`` DSN (psycopg 3). Only the placeholder
differs. Each thread has its own connection and each write is one transaction, so the
``PRIMARY KEY`` constraints are what make every object create-only: two racing PUTs of the
same name get one ``201`` and one ``409``.

A tag is *complete* when every node its tree names has been stored. Until then it is
invisible (``404``, absent from listings): a publish that dies midway leaves nothing a
reader can fetch. ``expected`` holds, per tag, the entry each node must match: the tag's
own entry for the root, and each stored directory's entries for its children.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol

from enarx.db import Connections, DatabaseUnavailable
from enarx.registry.errors import RegistryError, conflict

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY, subject TEXT NOT NULL UNIQUE, record TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS repos (
        owner TEXT NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL, public INTEGER NOT NULL,
        PRIMARY KEY (owner, name))""",
    """CREATE TABLE IF NOT EXISTS tags (
        owner TEXT NOT NULL, repo TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
        media TEXT NOT NULL, meta TEXT NOT NULL, signer TEXT, complete INTEGER NOT NULL,
        PRIMARY KEY (owner, repo, name))""",
    """CREATE TABLE IF NOT EXISTS expected (
        owner TEXT NOT NULL, repo TEXT NOT NULL, tag TEXT NOT NULL, path TEXT NOT NULL,
        entry TEXT NOT NULL, PRIMARY KEY (owner, repo, tag, path))""",
    """CREATE TABLE IF NOT EXISTS nodes (
        owner TEXT NOT NULL, repo TEXT NOT NULL, tag TEXT NOT NULL, path TEXT NOT NULL,
        meta TEXT NOT NULL, blob TEXT NOT NULL, PRIMARY KEY (owner, repo, tag, path))""",
    """CREATE TABLE IF NOT EXISTS tokens (
        digest TEXT PRIMARY KEY, subject TEXT NOT NULL, scopes TEXT NOT NULL)""",
)


@dataclass(frozen=True)
class TagRow:
    body: bytes  # the tag entry exactly as uploaded (JSON or JWS)
    media: str
    meta: str  # the upload's Meta JSON (digest, length, type) for response headers
    signer: str | None
    complete: bool


@dataclass(frozen=True)
class NodeRow:
    meta: str
    blob: str


class _Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[object] = ...) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


def _unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return True
    with suppress(ImportError):
        import psycopg

        return isinstance(exc, psycopg.errors.UniqueViolation)
    return False


class MetaStore:
    """The metadata database; thread-safe (a connection per thread)."""

    def __init__(self, database: str, *, sqlite_synchronous: str = "NORMAL") -> None:
        self.database = database
        # WAL with synchronous=NORMAL never corrupts or half-applies a transaction; a power cut
        # may lose the last few commits, which a publisher sees as a failed PUT to retry (blobs
        # are fsynced before their row commits, so a row never names a missing blob).
        self._db = Connections(database, sqlite_synchronous=sqlite_synchronous)
        self.postgres = self._db.postgres
        with self._tx() as cur:
            for statement in SCHEMA:
                cur.execute(statement)

    @property
    def engine(self) -> str:
        return self._db.engine

    def _sql(self, sql: str) -> str:
        return self._db.sql(sql)

    @contextmanager
    def _tx(self) -> Iterator[_Cursor]:
        try:
            with self._db.transaction() as cur:
                yield _Translating(cur, self) if self.postgres else cur
        except RegistryError:
            raise
        except DatabaseUnavailable as exc:
            raise RegistryError(f"metadata database {exc}", status=503, code="registry.storage") from exc
        except Exception as exc:
            if _unique_violation(exc):
                raise conflict("Already exists") from exc
            if self._db.is_error(exc):
                raise RegistryError(f"metadata database error: {exc}", status=503, code="registry.storage") from exc
            raise

    def close(self) -> None:
        self._db.close()

    # -- users ----------------------------------------------------------------------------
    def create_user(self, name: str, subject: str, record: bytes) -> None:
        with self._tx() as cur:
            cur.execute("SELECT name FROM users WHERE name = ? OR subject = ?", (name, subject))
            if cur.fetchone():
                raise conflict("Already exists (the user, or a user for this subject)")
            cur.execute("INSERT INTO users (name, subject, record) VALUES (?, ?, ?)", (name, subject, record.decode()))

    def user(self, name: str) -> tuple[str, bytes] | None:
        with self._tx() as cur:
            cur.execute("SELECT subject, record FROM users WHERE name = ?", (name,))
            row = cur.fetchone()
        return (row[0], row[1].encode()) if row else None

    def user_by_subject(self, subject: str) -> str | None:
        with self._tx() as cur:
            cur.execute("SELECT name FROM users WHERE subject = ?", (subject,))
            row = cur.fetchone()
        return str(row[0]) if row else None

    # -- repositories ---------------------------------------------------------------------
    def create_repo(self, owner: str, name: str, config: bytes, public: bool) -> None:
        with self._tx() as cur:
            cur.execute("INSERT INTO repos (owner, name, config, public) VALUES (?, ?, ?, ?)",
                        (owner, name, config.decode(), int(public)))

    def repo(self, owner: str, name: str) -> tuple[bytes, bool] | None:
        with self._tx() as cur:
            cur.execute("SELECT config, public FROM repos WHERE owner = ? AND name = ?", (owner, name))
            row = cur.fetchone()
        return (row[0].encode(), bool(row[1])) if row else None

    # -- tags -----------------------------------------------------------------------------
    def create_tag(self, owner: str, repo: str, name: str, row: TagRow, root_entry: str) -> bool:
        """Create a tag awaiting its tree; ``False`` if an identical incomplete tag exists (a
        resumed publish). An existing complete tag, or a different one, is ``409``."""
        with self._tx() as cur:
            cur.execute("SELECT body, complete FROM tags WHERE owner = ? AND repo = ? AND name = ?", (owner, repo, name))
            existing = cur.fetchone()
            if existing:
                if not existing[1] and existing[0].encode() == row.body:
                    return False
                raise conflict("Already exists" if existing[1] else "Already exists (being published with a different tree)")
            cur.execute(
                "INSERT INTO tags (owner, repo, name, body, media, meta, signer, complete) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (owner, repo, name, row.body.decode(), row.media, row.meta, row.signer),
            )
            cur.execute("INSERT INTO expected (owner, repo, tag, path, entry) VALUES (?, ?, ?, '', ?)",
                        (owner, repo, name, root_entry))
        return True

    def tag(self, owner: str, repo: str, name: str) -> TagRow | None:
        with self._tx() as cur:
            cur.execute("SELECT body, media, meta, signer, complete FROM tags WHERE owner = ? AND repo = ? AND name = ?",
                        (owner, repo, name))
            row = cur.fetchone()
        return TagRow(row[0].encode(), row[1], row[2], row[3], bool(row[4])) if row else None

    def tags(self, owner: str, repo: str) -> list[str]:
        with self._tx() as cur:
            cur.execute("SELECT name FROM tags WHERE owner = ? AND repo = ? AND complete = 1", (owner, repo))
            return [str(r[0]) for r in cur.fetchall()]

    # -- tree nodes -----------------------------------------------------------------------
    def expected(self, owner: str, repo: str, tag: str, path: str) -> str | None:
        with self._tx() as cur:
            cur.execute("SELECT entry FROM expected WHERE owner = ? AND repo = ? AND tag = ? AND path = ?",
                        (owner, repo, tag, path))
            row = cur.fetchone()
        return str(row[0]) if row else None

    def create_node(self, owner: str, repo: str, tag: str, path: str, node: NodeRow,
                    children: Sequence[tuple[str, str]] = ()) -> bool:
        """Store a node (and, for a directory, what its children must be); mark the tag complete
        when nothing it names is missing. Returns whether the tag is now complete."""
        key = (owner, repo, tag)
        with self._tx() as cur:
            cur.execute("INSERT INTO nodes (owner, repo, tag, path, meta, blob) VALUES (?, ?, ?, ?, ?, ?)",
                        (*key, path, node.meta, node.blob))
            for child_path, entry in children:
                cur.execute("INSERT INTO expected (owner, repo, tag, path, entry) VALUES (?, ?, ?, ?, ?)",
                            (*key, child_path, entry))
            cur.execute("SELECT COUNT(*) FROM expected WHERE owner = ? AND repo = ? AND tag = ?", key)
            wanted = int(cur.fetchone()[0])
            cur.execute("SELECT COUNT(*) FROM nodes WHERE owner = ? AND repo = ? AND tag = ?", key)
            stored = int(cur.fetchone()[0])
            complete = wanted == stored
            if complete:
                cur.execute("UPDATE tags SET complete = 1 WHERE owner = ? AND repo = ? AND name = ?", key)
        return complete

    def node(self, owner: str, repo: str, tag: str, path: str) -> NodeRow | None:
        with self._tx() as cur:
            cur.execute("SELECT meta, blob FROM nodes WHERE owner = ? AND repo = ? AND tag = ? AND path = ?",
                        (owner, repo, tag, path))
            row = cur.fetchone()
        return NodeRow(row[0], row[1]) if row else None

    # -- local tokens ---------------------------------------------------------------------
    def add_token(self, digest: str, subject: str, scopes: str) -> None:
        with self._tx() as cur:
            cur.execute("INSERT INTO tokens (digest, subject, scopes) VALUES (?, ?, ?)", (digest, subject, scopes))

    def token(self, digest: str) -> tuple[str, str] | None:
        with self._tx() as cur:
            cur.execute("SELECT subject, scopes FROM tokens WHERE digest = ?", (digest,))
            row = cur.fetchone()
        return (str(row[0]), str(row[1])) if row else None


class _Translating:
    """A psycopg cursor taking ``?`` placeholders, so the SQL above serves both engines."""

    def __init__(self, cur: Any, store: MetaStore) -> None:
        self._cur = cur
        self._store = store

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self._cur.execute(self._store._sql(sql), params)

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())

    def fetchone(self) -> Any:
        return self._cur.fetchone()
