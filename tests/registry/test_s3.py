"""The optional S3-compatible blob store, against moto's in-process S3 (no network)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from enarx.registry.app import Registry
from enarx.registry.blobs import S3BlobStore
from enarx.registry.client import RegistryClient
from enarx.registry.fetch import TrustPolicy, fetch_package
from enarx.registry.repoconfig import RepoConfig
from enarx.registry.settings import RegistrySettings

from .conftest import SyncASGITransport, add_user_token, package_files

BUCKET = "enarx-blobs"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    try:
        import boto3
        from moto import mock_aws
    except ImportError:
        reason = "boto3 and moto are dev dependencies (pip install -e '.[dev]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def objects(client: Any) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_blobs_are_single_objects_named_by_sha256(s3: Any) -> None:
    store = S3BlobStore(BUCKET, prefix="reg", client=s3)
    for _ in range(2):  # identical content is stored once
        w = store.writer()
        w.write(b"hello ")
        w.write(b"world")
        key = w.commit(hashlib.sha256(b"hello world").hexdigest())
    assert objects(s3) == [f"reg/sha256/{key}"]
    assert store.read(key) == b"hello world" and store.exists(key)
    aborted = store.writer()
    aborted.write(b"never committed")
    aborted.abort()
    assert objects(s3) == [f"reg/sha256/{key}"]


def test_publish_and_fetch_with_blobs_in_s3(s3: Any, tmp_path: Path, portal: Any) -> None:
    registry = Registry(RegistrySettings(tmp_path, blobs=S3BlobStore(BUCKET, client=s3)))
    try:
        token = add_user_token(registry, "sub-alice")
        with RegistryClient("http://r", token=token, transport=SyncASGITransport(registry.app, portal)) as c:
            c.register_user("alice", "sub-alice")
            c.register_repo("alice", "hello", RepoConfig(public=True))
            tree = c.publish("alice", "hello", "1.0.0", package_files())
            fetched = fetch_package(c, "/alice/hello/_tag/1.0.0", TrustPolicy(pin=tree.sha256))
        assert dict(fetched.files) == package_files()
        assert len(objects(s3)) == 3  # root directory, main.wasm, Enarx.toml
        assert not (tmp_path / "blobs").exists()
    finally:
        registry.close()
