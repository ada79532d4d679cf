"""A client that drops the connection mid-upload leaves nothing behind (real server, raw socket)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

from enarx.identity.digests import Entry, build_tree, format_content_digest
from enarx.registry.app import Registry
from enarx.registry.client import RegistryClient
from enarx.registry.repoconfig import RepoConfig
from enarx.registry.serve import Listen, running
from enarx.registry.settings import RegistrySettings

from ..conftest import free_port
from .conftest import add_user_token


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_upload_cut_off_midway_stores_nothing(tmp_path: Path) -> None:
    registry = Registry(RegistrySettings(tmp_path / "r"))
    big = bytes(range(256)) * 4096 * 8  # 8 MiB
    files = {"main.wasm": b"\0asm\1\0\0\0", "big.bin": big}
    tree = build_tree(files)
    port = free_port()
    try:
        token = add_user_token(registry, "sub-alice")
        with running(registry.app, Listen("127.0.0.1", port)):
            with RegistryClient(f"http://127.0.0.1:{port}", token=token) as client:
                client.register_user("alice", "sub-alice")
                client.register_repo("alice", "hello", RepoConfig(public=True))
                base = "/alice/hello/_tag/1.0.0"
                client.put(base, tree.entry.to_bytes(), "application/vnd.drawbridge.entry.v1+json", "tag")
                client.put(base + "/tree", tree.directory, "application/vnd.drawbridge.directory.v1+json", "root")
            entry = Entry.of(big, "application/octet-stream")
            head = (
                f"PUT /api/v0.1.0/alice/hello/_tag/1.0.0/tree/big.bin HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: {entry.type}\r\n"
                f"Content-Length: {entry.length}\r\nContent-Digest: {format_content_digest(entry.digest)}\r\n\r\n"
            ).encode()
            tmp = registry.settings.data_dir / "blobs" / "tmp"
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(head + big[: len(big) // 2])
                # The upload is under way: its temp file exists, invisible to readers.
                assert wait_until(lambda: any(tmp.iterdir()))
            # The connection is gone: the temp file is removed, nothing was committed.
            assert wait_until(lambda: not any(tmp.iterdir()))
        stored = [p for p in (registry.settings.data_dir / "blobs" / "sha256").rglob("*") if p.is_file()]
        assert len(stored) == 1  # the root directory only
        assert registry.meta.node("alice", "hello", "1.0.0", "big.bin") is None
        tag = registry.meta.tag("alice", "hello", "1.0.0")
        assert tag is not None and not tag.complete
    finally:
        registry.close()
