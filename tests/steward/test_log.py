"""The issuance log on SQLite and PostgreSQL: same code path, same records."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from enarx.steward.errors import StewardError
from enarx.steward.log import IssuanceLog, IssuanceRecord, format_serial, parse_serial
from enarx.steward.wire import MEDIA_PKCS10, decode_pkipath
from tests.steward.conftest import StewardFactory, postgres_dsn
from tests.steward.csrs import claims, nil_csr

T0 = datetime(2023, 2, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(tmp_path / "log.db") if request.param == "sqlite" else postgres_dsn()


def _record(serial: int, **kw: object) -> IssuanceRecord:
    base: dict[str, object] = {
        "serial": serial, "issued_at": T0, "not_after": T0 + timedelta(hours=24), "tee": "nil", "apps": ("pay",),
        "claims": {"version": 1}, "evidence_digest": "00" * 32, "decision": {"mode": "test"},
        "certificate_pem": "-----BEGIN CERTIFICATE-----\n...\n",
    }
    base.update(kw)
    return IssuanceRecord(**base)  # type: ignore[arg-type]


def test_record_get_revoke(database: str) -> None:
    log = IssuanceLog(database)
    try:
        big = (1 << 127) + 12345  # 128-bit serials do not fit SQL integers: stored as hex text
        log.record([_record(big), _record(7, apps=(), claims=None)])
        assert log.get(big) == _record(big)
        assert log.get(7) == _record(7, apps=(), claims=None)
        assert log.get(8) is None
        assert log.serials() == {big, 7} and log.count() == 2
        revoked = log.revoke(7, at=T0 + timedelta(hours=1), reason="key_compromise")
        assert revoked.revoked_at == T0 + timedelta(hours=1) and revoked.revocation_reason == "key_compromise"
        [entry] = log.revoked()
        assert entry.serial == 7 and entry.reason == x509.ReasonFlags.key_compromise
        with pytest.raises(StewardError) as info:
            log.revoke(7, at=T0)
        assert info.value.code == "log.already_revoked"
        with pytest.raises(StewardError) as info:
            log.revoke(99, at=T0)
        assert info.value.code == "log.unknown_serial" and info.value.status == 404
        with pytest.raises(StewardError) as info:
            log.revoke(big, at=T0, reason="bored")
        assert info.value.code == "log.reason"
        assert [r.serial for r in log.records(limit=1)] == [big] or [r.serial for r in log.records(limit=1)] == [7]
    finally:
        log.close()


def test_duplicate_serial_fails_whole_transaction(database: str) -> None:
    log = IssuanceLog(database)
    try:
        log.record([_record(1)])
        with pytest.raises(StewardError) as info:
            log.record([_record(2), _record(1)])
        assert info.value.code == "log.unavailable"
        assert log.serials() == {1}  # record 2 rolled back with the duplicate
    finally:
        log.close()


def test_concurrent_writers(database: str) -> None:
    log = IssuanceLog(database)
    try:
        def write(start: int) -> None:
            for i in range(start, start + 25):
                log.record([_record(i)])

        threads = [threading.Thread(target=write, args=(1 + 100 * t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert log.count() == 100
    finally:
        log.close()


@pytest.mark.anyio
async def test_steward_logs_before_answering(make_steward: StewardFactory, database: str) -> None:
    steward = make_steward(database=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=steward.app), base_url="http://s") as c:
        r = await c.post("/", content=nil_csr(with_claims=claims(apps=("pay",))), headers={"content-type": MEDIA_PKCS10})
        leaf = decode_pkipath(r.content)[-1]
        record = steward.log.get(leaf.serial_number)
        assert record is not None and record.apps == ("pay",)
        assert x509.load_pem_x509_certificate(record.certificate_pem.encode()) == leaf
        steward.log.revoke(leaf.serial_number, at=T0)
        crl = x509.load_der_x509_crl((await c.get("/v1/crl")).content)
        assert crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None
        assert (await c.get("/healthz")).json()["log"] == steward.log.engine


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize(("text", "value"), [("ff", 255), ("0xFF", 255), ("0F:A0", 0xFA0), ("1", 1)])
def test_parse_serial(text: str, value: int) -> None:
    assert parse_serial(text) == value
    assert parse_serial(format_serial(value)) == value


@pytest.mark.parametrize("text", ["", "xyz", "0", "-1"])
def test_parse_serial_refuses(text: str) -> None:
    with pytest.raises(StewardError):
        parse_serial(text)


def test_unreachable_postgres_is_a_clear_error() -> None:
    with pytest.raises(StewardError) as info:
        IssuanceLog("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert info.value.code == "log.unavailable" and info.value.status == 503
    assert "nobody" not in str(info.value) or "…" in str(info.value)


@pytest.mark.anyio
async def test_no_certificate_leaves_when_the_log_cannot_commit(make_steward: StewardFactory, tmp_path: Path) -> None:
    steward = make_steward()
    (tmp_path / "log-0.db").unlink()  # the database file goes away under the running Steward
    steward.log.close()
    (tmp_path / "log-0.db").mkdir()  # and something that is not a database takes its place
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=steward.app), base_url="http://s") as c:
        r = await c.post("/", content=nil_csr(), headers={"content-type": MEDIA_PKCS10})
    assert r.status_code == 503 and r.json()["code"] == "log.unavailable"
    assert b"CERTIFICATE" not in r.content and r.headers["content-type"] == "application/problem+json"
