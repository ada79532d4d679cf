"""Publish and fetch through the in-process service: the Merkle chain, pins, tampering, resumes."""

from __future__ import annotations

import pytest

from enarx.identity.digests import build_tree
from enarx.registry.app import Registry
from enarx.registry.client import RegistryClient
from enarx.registry.errors import RegistryError, VerificationError
from enarx.registry.fetch import TrustPolicy, fetch_package

from .conftest import ClientFactory, package_files

TAG = "/alice/hello/_tag/1.0.0"


def test_publish_then_fetch_round_trips_the_package(alice: RegistryClient) -> None:
    files = package_files()
    tree = alice.publish("alice", "hello", "1.0.0", files)
    fetched = fetch_package(alice, TAG, TrustPolicy(pin=tree.sha256))
    assert dict(fetched.files) == files
    assert fetched.tree_digest == build_tree(files).sha256
    assert fetched.signer is None
    assert alice.repo_info("alice", "hello") == {"config": {"public": True}, "tags": ["1.0.0"]}


def test_anonymous_reader_fetches_a_public_package(alice: RegistryClient, make_client: ClientFactory) -> None:
    alice.publish("alice", "hello", "1.0.0", package_files())
    fetched = fetch_package(make_client(), TAG, TrustPolicy())
    assert set(fetched.files) == {"main.wasm", "Enarx.toml"}


def test_pin_mismatch_is_refused(alice: RegistryClient) -> None:
    alice.publish("alice", "hello", "1.0.0", package_files())
    with pytest.raises(VerificationError, match="not the pinned"):
        fetch_package(alice, TAG, TrustPolicy(pin=b"\x01" * 32))


def test_tampered_blob_behind_a_valid_tag_is_refused(alice: RegistryClient, registry: Registry) -> None:
    tree = alice.publish("alice", "hello", "1.0.0", package_files())
    node = registry.meta.node("alice", "hello", "1.0.0", "main.wasm")
    assert node is not None
    path = registry.blobs.path_for(node.blob)  # type: ignore[attr-defined]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(VerificationError, match="digest mismatch"):
        fetch_package(alice, TAG, TrustPolicy(pin=tree.sha256))


def test_incomplete_tag_is_invisible_and_a_resumed_publish_completes_it(
    alice: RegistryClient, make_client: ClientFactory
) -> None:
    files = package_files()
    tree = build_tree(files)
    # Only the tag entry and the root directory: what a publish that died midway leaves.
    alice.put(TAG, tree.entry.to_bytes(), "application/vnd.drawbridge.entry.v1+json", "tag")
    alice.put(TAG + "/tree", tree.directory, "application/vnd.drawbridge.directory.v1+json", "root")
    reader = make_client()
    with pytest.raises(RegistryError) as info:
        fetch_package(reader, TAG, TrustPolicy())
    assert info.value.status == 404
    assert reader.tags("alice", "hello") == []
    alice.publish("alice", "hello", "1.0.0", files)
    assert reader.tags("alice", "hello") == ["1.0.0"]
    assert dict(fetch_package(reader, TAG, TrustPolicy()).files) == files


def test_overwriting_a_tag_is_a_conflict(alice: RegistryClient) -> None:
    alice.publish("alice", "hello", "1.0.0", package_files())
    other = dict(package_files(), **{"extra.txt": b"changed"})
    with pytest.raises(RegistryError) as info:
        alice.publish("alice", "hello", "1.0.0", other)
    assert info.value.status == 409
    assert set(fetch_package(alice, TAG, TrustPolicy()).files) == {"main.wasm", "Enarx.toml"}


def test_nested_files_round_trip(alice: RegistryClient) -> None:
    files = dict(package_files(), **{"data/a.txt": b"a", "data/sub/b.bin": b"\0" * 1000})
    tree = alice.publish("alice", "hello", "2.0.0-rc.1", files)
    fetched = fetch_package(alice, "/alice/hello/_tag/2.0.0-rc.1", TrustPolicy(pin=tree.sha256))
    assert dict(fetched.files) == files


def test_head_gives_the_metadata_without_the_body(alice: RegistryClient) -> None:
    files = package_files()
    alice.publish("alice", "hello", "1.0.0", files)
    r = alice.request("HEAD", TAG + "/tree/main.wasm", "head")
    assert r.content == b""
    assert int(r.headers["content-length"]) == len(files["main.wasm"])
    assert r.headers["content-type"] == "application/wasm"
    assert r.headers["content-digest"].startswith("sha-224=:")


def test_a_bare_module_tag_round_trips(alice: RegistryClient) -> None:
    wasm = package_files()["main.wasm"]
    entry = alice.publish_module("alice", "hello", "0.1.0", wasm)
    assert entry.type == "application/wasm"
    fetched = fetch_package(alice, "/alice/hello/_tag/0.1.0", TrustPolicy(pin=entry.digest["sha-256"]))
    assert dict(fetched.files) == {"main.wasm": wasm}


def test_progress_is_reported_for_every_byte_both_ways(alice: RegistryClient) -> None:
    big = bytes(range(256)) * 4096 * 5  # 5 MiB: above the CLI's progress-bar threshold
    files = dict(package_files(), **{"big.bin": big})
    seen: dict[str, list[tuple[int, int]]] = {}

    def progress(name: str, done: int, total: int) -> None:
        seen.setdefault(name, []).append((done, total))

    tree = alice.publish("alice", "hello", "1.0.0", files, progress=progress)
    assert seen["upload /big.bin"][-1] == (len(big), len(big))
    seen.clear()
    fetch_package(alice, TAG, TrustPolicy(pin=tree.sha256), progress)
    done = [d for d, _ in seen["/big.bin"]]
    assert done == sorted(done) and done[-1] == len(big)


def test_cli_progress_bars_draw_only_for_large_transfers_on_a_terminal() -> None:
    import io

    from enarx.cli.environment import Environment
    from enarx.cli.registry_common import PROGRESS_MIN_BYTES, progress_bars

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, size, drawn in ((Terminal(), 100, False), (Terminal(), PROGRESS_MIN_BYTES, True),
                                (io.StringIO(), PROGRESS_MIN_BYTES, False)):  # logs stay clean
        with progress_bars(Environment(stderr=stream)) as update:
            assert update is not None
            update("main.wasm", size // 2, size)
            update("main.wasm", size, size)
        assert ("main.wasm" in stream.getvalue()) == drawn
