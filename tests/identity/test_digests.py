"""Drawbridge-exact digests (vectors from drawbridge crates/type), application and deployment digests."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
import rfc8785

from enarx.identity import (
    IdentityError,
    application_digest,
    build_tree,
    content_digest_header,
    deployment_digest,
)
from enarx.identity.digests import (
    MEDIA_DIRECTORY,
    Entry,
    deployment_document,
    media_type,
    parse_content_digest,
)

# drawbridge crates/type/src/digest/{algorithms,digests}.rs: the content b"foo".
FOO_HEADER = (
    "sha-224=:CAj2TmDViXn8tnbJbsk4Jw3qQkRa7vzTpOb42w==:,"
    "sha-256=:LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=:,"
    "sha-384=:mMEf/f3VQGdrGhN8saIrKnA1DJpEFx1rEYDGvly7LuP3nVMsih3Z7y6OCOdSo7q7:,"
    "sha-512=:9/u6bgY2+JDlb7vzKD5STG+jIErimDgtYkdB0NxmODJuKCxBvl5CVNiCB3LFUYosWowMf37aGVlKfrU5RT4e1w==:"
)


def test_content_digest_header_matches_drawbridge_vector() -> None:
    assert content_digest_header(b"foo") == FOO_HEADER


def test_content_digest_round_trip_and_order() -> None:
    parsed = parse_content_digest(FOO_HEADER)
    assert list(parsed) == ["sha-224", "sha-256", "sha-384", "sha-512"]
    assert parsed["sha-256"] == hashlib.sha256(b"foo").digest()
    assert content_digest_header(b"foo", ["sha-512", "sha-256"]).startswith("sha-256=:")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "sha-256=:LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=:, sha-512=:x:",  # RFC 9530 ", " is not Drawbridge's
        "md5=:rL0Y20zC+Fzt72VPzMSk2A==:",
        "sha-256=LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=",
        "sha-256=:AAAA:",  # wrong length
        "sha-256=:!!!:",
    ],
)
def test_parse_content_digest_rejects(header: str) -> None:
    with pytest.raises(IdentityError) as info:
        parse_content_digest(header)
    assert info.value.code == "digest.header"


def test_meta_json_shape() -> None:
    # drawbridge meta.rs: {"digest":{"sha-384":"<b64>"},"length":42,"type":"text/plain"}
    entry = Entry.of(b"x" * 42, "text/plain", ["sha-384"])
    b64 = base64.b64encode(hashlib.sha384(b"x" * 42).digest()).decode()
    assert entry.to_bytes() == ('{"digest":{"sha-384":"' + b64 + '"},"length":42,"type":"text/plain"}').encode()


def test_media_types() -> None:
    assert media_type("main.wasm") == "application/wasm"
    assert media_type("Enarx.toml") == "application/toml"
    assert media_type("README") == "application/octet-stream"


def _entry_json(data: bytes, media: str) -> str:
    d = {a: base64.b64encode(hashlib.new(a.replace("-", ""), data).digest()).decode() for a in ("sha-224", "sha-256", "sha-384", "sha-512")}
    digest = ",".join(f'"{a}":"{d[a]}"' for a in sorted(d))
    return f'{{"digest":{{{digest}}},"length":{len(data)},"type":"{media}"}}'


def test_directory_json_is_compact_sorted_and_hashed() -> None:
    wasm, toml = b"\0asm\1\0\0\0", b'args = ["x"]\n'
    tree = build_tree({"main.wasm": wasm, "Enarx.toml": toml})
    # 'E' (0x45) sorts before 'm' (0x6d): bytewise order.
    expected = (
        '{"Enarx.toml":' + _entry_json(toml, "application/toml")
        + ',"main.wasm":' + _entry_json(wasm, "application/wasm") + "}"
    ).encode()
    assert tree.directory == expected
    assert tree.entry.type == MEDIA_DIRECTORY
    assert tree.entry.length == len(expected)
    assert tree.sha256 == hashlib.sha256(expected).digest()
    assert tree.entry.digest["sha-512"] == hashlib.sha512(expected).digest()


def test_nested_directories_hash_their_subtree() -> None:
    tree = build_tree({"a/b.txt": b"1", "c": b"2"})
    doc = json.loads(tree.directory)
    assert doc["a"]["type"] == MEDIA_DIRECTORY
    inner = build_tree({"b.txt": b"1"})
    assert doc["a"]["length"] == len(inner.directory)


@pytest.mark.parametrize("name", ["a b", "../x", "é", "", "."])
def test_bad_tree_names(name: str) -> None:
    with pytest.raises(IdentityError):
        build_tree({name: b"x"})


def test_application_digest_leaves_out_config() -> None:
    wasm = b"\0asm\1\0\0\0"
    bare = application_digest({"main.wasm": wasm})
    assert bare == application_digest({"main.wasm": wasm, "Enarx.toml": b"anything"})
    assert bare == build_tree({"main.wasm": wasm}).sha256  # what Drawbridge reports for that tree
    assert bare != build_tree({"main.wasm": wasm}, ["sha-256"]).sha256
    assert bare != application_digest({"main.wasm": wasm + b"\0"})
    with pytest.raises(IdentityError) as info:
        application_digest({"Enarx.toml": b""})
    assert info.value.code == "digest.package"


def test_deployment_digest_is_sha256_of_canonical_document() -> None:
    app = hashlib.sha256(b"app").digest()
    config = {"env": {"B": "2", "A": "1"}, "args": ["x"], "files": []}
    doc = deployment_document(app, config)
    assert doc == rfc8785.dumps({"application": app.hex(), "config": config})
    assert doc.startswith(b'{"application":"' + app.hex().encode() + b'","config":{"args"')
    assert deployment_digest(app, config) == hashlib.sha256(doc).digest()
    # Key order of the input does not matter; values do.
    assert deployment_digest(app, {"files": [], "args": ["x"], "env": {"A": "1", "B": "2"}}) == deployment_digest(app, config)
    assert deployment_digest(app, {**config, "args": ["y"]}) != deployment_digest(app, config)


def test_deployment_digest_refuses_bad_input() -> None:
    with pytest.raises(IdentityError):
        deployment_digest(b"short", {})
    with pytest.raises(IdentityError) as info:
        deployment_digest(bytes(32), {"n": 2**60})  # outside I-JSON's exact integer range
    assert info.value.code == "digest.config"


def test_entry_and_directory_round_trip_through_json() -> None:
    from enarx.identity.digests import Entry, build_tree, parse_directory

    tree = build_tree({"main.wasm": b"\0asm", "Enarx.toml": b"x = 1"})
    entries = parse_directory(tree.directory)
    assert sorted(entries) == ["Enarx.toml", "main.wasm"]
    assert entries["main.wasm"].matches(Entry.of(b"\0asm", "application/wasm"))
    assert not entries["main.wasm"].matches(Entry.of(b"\0asm!", "application/wasm"))
    assert Entry.from_json(json.loads(tree.entry.to_bytes())).matches(tree.entry)


@pytest.mark.parametrize(
    "bad",
    [b"[]", b"{", b'{"..": {"digest": {"sha-256": "AA=="}, "length": 1, "type": "x"}}',
     b'{"a": {"digest": {}, "length": 1, "type": "x"}}', b'{"a": {"digest": {"sha-256": "AA=="}, "length": 1, "type": "x"}}',
     b'{"a": {"digest": {"sha-256": "' + b"A" * 43 + b'="}, "length": -1, "type": "x"}}'],
)
def test_parse_directory_refuses_malformed(bad: bytes) -> None:
    from enarx.identity.digests import parse_directory
    from enarx.identity.errors import IdentityError

    with pytest.raises(IdentityError):
        parse_directory(bad)


def test_documented_example_digests() -> None:
    """docs/identity.md section 5 quotes these values; they must not drift."""
    wasm = b"\0asm\x01\0\0\0"
    app = application_digest({"main.wasm": wasm})
    assert app.hex() == "48f3206ae32be618f459a0028b6b1988a63ad22d8db0cf429bbd024fea375ded"
    assert deployment_digest(app, {"args": [], "env": {}, "files": []}).hex() == (
        "aa1e83f4ec457a4426b3b51b17ed58ae440616d34e768a769e12313f1ff86181"
    )


def test_tree_nodes_lists_every_node_once_parents_first() -> None:
    from enarx.identity.digests import build_tree, parse_directory, tree_nodes

    files = {"main.wasm": b"\0asm", "d/x": b"x", "d/e/y": b"y", "big": bytes(range(256)) * 8192}
    nodes = tree_nodes(files)
    paths = [p for p, _, _ in nodes]
    assert paths == ["", "big", "d", "main.wasm", "d/e", "d/x", "d/e/y"]
    assert nodes[0][1:] == (build_tree(files).directory, build_tree(files).entry)
    by_path = {p: (data, entry) for p, data, entry in nodes}
    for path, (data, entry) in by_path.items():
        assert entry.matches(Entry.of(data, entry.type))  # each entry hashes its bytes
        if entry.type == "application/vnd.drawbridge.directory.v1+json":
            for name, child in parse_directory(data).items():
                assert child.matches(by_path[f"{path}/{name}" if path else name][1])


def test_large_inputs_hash_the_same_in_parallel() -> None:
    from enarx.identity.digests import ALGORITHMS, digests

    data = bytes(range(256)) * 8192  # 2 MiB: above the parallel threshold
    assert digests(data) == {a: hashlib.new(a.replace("-", ""), data).digest() for a in ALGORITHMS}
