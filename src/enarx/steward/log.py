"""The issuance log: every certificate the Steward hands out, committed before it leaves.

One code path over two engines: SQLite in WAL mode (the default, a file path) and PostgreSQL
(a ``postgresql://`` DSN, psycopg 3). Values are stored as text (hex serials, RFC 3339 times,
JSON, PEM) so both engines hold and return byte-identical records, and the SQL differs only
in its placeholder. Each thread gets its own connection; each write is one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cryptography import x509

from enarx.db import Connections, DatabaseUnavailable
from enarx.steward.ca import Revoked
from enarx.steward.errors import StewardError

SCHEMA = """
CREATE TABLE IF NOT EXISTS issuance (
    serial TEXT PRIMARY KEY,
    issued_at TEXT NOT NULL,
    not_after TEXT NOT NULL,
    tee TEXT NOT NULL,
    apps TEXT NOT NULL,
    claims TEXT,
    evidence_digest TEXT NOT NULL,
    decision TEXT NOT NULL,
    certificate TEXT NOT NULL,
    revoked_at TEXT,
    revocation_reason TEXT
)
"""
_COLUMNS = (
    "serial", "issued_at", "not_after", "tee", "apps", "claims", "evidence_digest", "decision",
    "certificate", "revoked_at", "revocation_reason",
)
REASONS = tuple(r.name for r in x509.ReasonFlags if r is not x509.ReasonFlags.remove_from_crl)


def format_serial(serial: int) -> str:
    return format(serial, "x")


def parse_serial(text: str) -> int:
    """Accept ``0x``-prefixed, colon-separated (openssl) or plain hex serials."""
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "")
    try:
        value = int(cleaned, 16)
    except ValueError as exc:
        raise StewardError("log.serial", f"{text!r} is not a hexadecimal serial number", field="serial", got=text) from exc
    if value <= 0:
        raise StewardError("log.serial", "serial numbers are positive", field="serial", got=text)
    return value


@dataclass(frozen=True)
class IssuanceRecord:
    serial: int
    issued_at: datetime
    not_after: datetime
    tee: str
    apps: tuple[str, ...]
    claims: dict[str, object] | None
    evidence_digest: str  # sha-256 hex of the evidence extension's value
    decision: dict[str, object]
    certificate_pem: str
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "serial": format_serial(self.serial),
            "issued_at": self.issued_at.isoformat(),
            "not_after": self.not_after.isoformat(),
            "tee": self.tee,
            "apps": list(self.apps),
            "claims": self.claims,
            "evidence_digest": self.evidence_digest,
            "decision": self.decision,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revocation_reason": self.revocation_reason,
        }

    def _row(self) -> tuple[object, ...]:
        return (
            format_serial(self.serial), self.issued_at.isoformat(), self.not_after.isoformat(), self.tee,
            json.dumps(list(self.apps)), None if self.claims is None else json.dumps(self.claims, sort_keys=True),
            self.evidence_digest, json.dumps(self.decision, sort_keys=True), self.certificate_pem,
            self.revoked_at.isoformat() if self.revoked_at else None, self.revocation_reason,
        )

    @classmethod
    def _from_row(cls, row: Sequence[Any]) -> IssuanceRecord:
        r = dict(zip(_COLUMNS, row, strict=True))
        return cls(
            serial=int(r["serial"], 16),
            issued_at=datetime.fromisoformat(r["issued_at"]),
            not_after=datetime.fromisoformat(r["not_after"]),
            tee=r["tee"],
            apps=tuple(json.loads(r["apps"])),
            claims=None if r["claims"] is None else json.loads(r["claims"]),
            evidence_digest=r["evidence_digest"],
            decision=json.loads(r["decision"]),
            certificate_pem=r["certificate"],
            revoked_at=datetime.fromisoformat(r["revoked_at"]) if r["revoked_at"] else None,
            revocation_reason=r["revocation_reason"],
        )


class _Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[object] = ...) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


class IssuanceLog:
    """The log over one database; thread-safe (a connection per thread)."""

    def __init__(self, database: str, *, sqlite_synchronous: str = "FULL") -> None:
        self.database = database
        self._db = Connections(database, sqlite_synchronous=sqlite_synchronous)
        self._sqlite_synchronous = sqlite_synchronous.upper()
        self.postgres = self._db.postgres
        self._ensure_schema()

    @property
    def engine(self) -> str:
        return self._db.engine

    @property
    def commit_waits(self) -> bool:
        """Whether a commit waits on the network (PostgreSQL) or on an fsync (SQLite FULL or
        EXTRA); with SQLite NORMAL in WAL mode it is a write into the WAL and returns at once."""
        return self.postgres or self._sqlite_synchronous != "NORMAL"

    # -- connections ---------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return self._db.sql(sql)

    @contextmanager
    def _transaction(self) -> Iterator[_Cursor]:
        try:
            with self._db.transaction() as cur:
                yield cur
        except StewardError:
            raise
        except DatabaseUnavailable as exc:
            raise StewardError("log.unavailable", f"issuance log {exc}", status=503) from exc
        except Exception as exc:
            if not self._db.is_error(exc):
                raise
            raise StewardError("log.unavailable", f"issuance log error: {exc}", status=503) from exc

    def _ensure_schema(self) -> None:
        for attempt in range(3):
            try:
                with self._transaction() as cur:
                    cur.execute(SCHEMA)
                    cur.execute("CREATE INDEX IF NOT EXISTS issuance_revoked ON issuance (revoked_at)")
                return
            except StewardError:
                # Two processes creating the schema at once on PostgreSQL collide on the catalog.
                if attempt == 2:
                    raise

    # -- API -----------------------------------------------------------------------------
    def record(self, records: Sequence[IssuanceRecord]) -> None:
        """Commit ``records`` in one transaction (a bundle is logged all or nothing)."""
        placeholders = ", ".join("?" for _ in _COLUMNS)
        with self._transaction() as cur:
            for rec in records:
                cur.execute(self._sql(f"INSERT INTO issuance ({', '.join(_COLUMNS)}) VALUES ({placeholders})"), rec._row())

    def get(self, serial: int) -> IssuanceRecord | None:
        with self._transaction() as cur:
            cur.execute(self._sql(f"SELECT {', '.join(_COLUMNS)} FROM issuance WHERE serial = ?"), (format_serial(serial),))
            row = cur.fetchone()
        return None if row is None else IssuanceRecord._from_row(row)

    def records(self, *, limit: int = 100, offset: int = 0) -> list[IssuanceRecord]:
        with self._transaction() as cur:
            cur.execute(
                self._sql(f"SELECT {', '.join(_COLUMNS)} FROM issuance ORDER BY issued_at DESC, serial LIMIT ? OFFSET ?"),
                (limit, offset),
            )
            rows = cur.fetchall()
        return [IssuanceRecord._from_row(r) for r in rows]

    def serials(self) -> set[int]:
        with self._transaction() as cur:
            cur.execute("SELECT serial FROM issuance")
            return {int(r[0], 16) for r in cur.fetchall()}

    def count(self) -> int:
        with self._transaction() as cur:
            cur.execute("SELECT COUNT(*) FROM issuance")
            return int(cur.fetchone()[0])

    def revoke(self, serial: int, *, at: datetime, reason: str = "unspecified") -> IssuanceRecord:
        if reason not in REASONS:
            raise StewardError("log.reason", f"unknown revocation reason {reason!r}", field="reason", expected=", ".join(REASONS), got=reason)
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT revoked_at FROM issuance WHERE serial = ?"), (format_serial(serial),))
            row = cur.fetchone()
            if row is None:
                raise StewardError("log.unknown_serial", f"no certificate with serial {format_serial(serial)} was issued", status=404, field="serial", got=format_serial(serial))
            if row[0] is not None:
                raise StewardError("log.already_revoked", f"serial {format_serial(serial)} was revoked at {row[0]}", status=409, field="serial")
            cur.execute(
                self._sql("UPDATE issuance SET revoked_at = ?, revocation_reason = ? WHERE serial = ?"),
                (at.isoformat(), reason, format_serial(serial)),
            )
        record = self.get(serial)
        assert record is not None
        return record

    def revoked(self) -> list[Revoked]:
        """Revoked certificates that have not expired yet... and those that have: a CRL keeps all."""
        with self._transaction() as cur:
            cur.execute("SELECT serial, revoked_at, revocation_reason FROM issuance WHERE revoked_at IS NOT NULL ORDER BY revoked_at, serial")
            rows = cur.fetchall()
        return [
            Revoked(serial=int(s, 16), revoked_at=datetime.fromisoformat(at), reason=x509.ReasonFlags[reason] if reason else None)
            for s, at, reason in rows
        ]

    def close(self) -> None:
        self._db.close()
