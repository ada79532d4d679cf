"""Blob storage (atomic, content-addressed, crash-safe) and the metadata store on both engines."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from enarx.registry.blobs import FileBlobStore
from enarx.registry.errors import RegistryError
from enarx.registry.meta import MetaStore, NodeRow, TagRow
from tests.conftest import postgres_dsn


def test_blob_is_filed_under_its_own_sha256(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    writer = store.writer()
    writer.write(b"hello ")
    writer.write(b"world")
    key = writer.commit(hashlib.sha256(b"hello world").hexdigest())
    assert store.path_for(key).read_bytes() == b"hello world"
    assert store.read(key) == b"hello world"
    assert b"".join(store.iter(key, chunk=3)) == b"hello world"
    assert list((tmp_path / "tmp").iterdir()) == []


def test_identical_content_is_stored_once(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    keys = set()
    for _ in range(2):
        w = store.writer()
        w.write(b"same")
        keys.add(w.commit(hashlib.sha256(b"same").hexdigest()))
    assert len(keys) == 1
    assert len([p for p in (tmp_path / "sha256").rglob("*") if p.is_file()]) == 1


def test_an_aborted_or_crashed_upload_leaves_nothing_visible(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    w = store.writer()
    w.write(b"half an upload")
    w.abort()
    assert list((tmp_path / "tmp").iterdir()) == []
    # A crash: the process dies between write and commit, leaving its temp file.
    crashed = store.writer()
    crashed.write(b"never committed")
    assert len(list((tmp_path / "tmp").iterdir())) == 1
    assert not any(p.is_file() for p in (tmp_path / "sha256").rglob("*"))
    restarted = FileBlobStore(tmp_path)  # start-up sweeps what the crash left
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not restarted.exists(hashlib.sha256(b"never committed").hexdigest())


def test_keys_that_are_not_sha256_hex_are_refused(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    for bad in ("../../etc/passwd", "AB" * 32, "a" * 63):
        with pytest.raises(RegistryError):
            store.path_for(bad)


def exercise(meta: MetaStore) -> None:
    meta.create_user("alice", "sub-a", b'{"subject":"sub-a"}')
    with pytest.raises(RegistryError) as info:
        meta.create_user("alice2", "sub-a", b"{}")
    assert info.value.status == 409
    assert meta.user_by_subject("sub-a") == "alice"
    meta.create_repo("alice", "hello", b'{"public":true}', True)
    with pytest.raises(RegistryError):
        meta.create_repo("alice", "hello", b'{"public":false}', False)
    assert meta.repo("alice", "hello") == (b'{"public":true}', True)
    row = TagRow(b"{entry}", "application/vnd.drawbridge.entry.v1+json", "{}", None, False)
    assert meta.create_tag("alice", "hello", "1.0.0", row, "{root}") is True
    assert meta.create_tag("alice", "hello", "1.0.0", row, "{root}") is False  # resumed publish
    assert meta.tags("alice", "hello") == []
    assert meta.expected("alice", "hello", "1.0.0", "") == "{root}"
    assert meta.create_node("alice", "hello", "1.0.0", "", NodeRow("{}", "0" * 64), [("main.wasm", "{w}")]) is False
    with pytest.raises(RegistryError):
        meta.create_node("alice", "hello", "1.0.0", "", NodeRow("{}", "0" * 64))
    assert meta.create_node("alice", "hello", "1.0.0", "main.wasm", NodeRow("{w}", "1" * 64)) is True
    assert meta.tags("alice", "hello") == ["1.0.0"]
    tag = meta.tag("alice", "hello", "1.0.0")
    assert tag is not None and tag.complete
    with pytest.raises(RegistryError):
        meta.create_tag("alice", "hello", "1.0.0", row, "{root}")
    meta.add_token("d" * 64, "sub-a", "read:drawbridge_tags")
    assert meta.token("d" * 64) == ("sub-a", "read:drawbridge_tags")


def test_sqlite_metadata(tmp_path: Path) -> None:
    meta = MetaStore(str(tmp_path / "m.sqlite3"))
    try:
        exercise(meta)
        assert meta.engine == "sqlite"
    finally:
        meta.close()


@pytest.mark.postgres
def test_postgresql_metadata_same_code_path() -> None:
    database = postgres_dsn()  # a fresh schema in the throwaway test cluster

    meta = MetaStore(database)
    try:
        assert meta.engine == "postgresql"
        exercise(meta)
    finally:
        meta.close()


@pytest.mark.postgres
def test_postgresql_backs_a_whole_publish_and_fetch(tmp_path: Path, portal: object) -> None:
    database = postgres_dsn()  # a fresh schema in the throwaway test cluster

    from enarx.registry.app import Registry
    from enarx.registry.client import RegistryClient
    from enarx.registry.fetch import TrustPolicy, fetch_package
    from enarx.registry.repoconfig import RepoConfig
    from enarx.registry.settings import RegistrySettings

    from .conftest import SyncASGITransport, add_user_token, package_files

    registry = Registry(RegistrySettings(tmp_path, database=database))
    try:
        token = add_user_token(registry, "sub-alice")
        with RegistryClient("http://r", token=token, transport=SyncASGITransport(registry.app, portal)) as c:
            c.register_user("alice", "sub-alice")
            c.register_repo("alice", "hello", RepoConfig(public=True))
            tree = c.publish("alice", "hello", "1.0.0", package_files())
            fetched = fetch_package(c, "/alice/hello/_tag/1.0.0", TrustPolicy(pin=tree.sha256))
        assert dict(fetched.files) == package_files()
        assert registry.meta.engine == "postgresql"
    finally:
        registry.close()
