"""Content digests the Drawbridge way, and the application and deployment digests.

Byte-exact with Drawbridge (``crates/type/src/digest``, ``meta.rs``, ``tree/mod.rs``):

* ``Content-Digest``: ``sha-224=:<b64>:,sha-256=:<b64>:,...`` -- standard base64 *with*
  padding, algorithms in ascending order, joined by ``,`` with no space.
* A file's entry (``Meta``): ``{"digest":{<algo>:<b64>,...},"length":N,"type":"<media type>"}``;
  the type comes from the name: ``.wasm`` -> ``application/wasm``, ``.toml`` ->
  ``application/toml``, anything else ``application/octet-stream``.
* A directory's content: the compact JSON object ``{name: entry}`` with names sorted
  bytewise (a Rust ``BTreeMap<String, _>``); its own entry hashes those bytes and has the
  type ``application/vnd.drawbridge.directory.v1+json``.

The **application digest** is the SHA-256 of the package root directory's JSON, with
``Enarx.toml`` left out (DESIGN.md section 2). The **deployment digest** is the SHA-256 of
the RFC 8785 canonical JSON ``{"application": "<hex app digest>", "config": <effective
config>}``; see docs/identity.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

import rfc8785

from enarx.identity.errors import IdentityError

ALGORITHMS: tuple[str, ...] = ("sha-224", "sha-256", "sha-384", "sha-512")
_HASHLIB = {"sha-224": "sha224", "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512"}

MEDIA_WASM = "application/wasm"
MEDIA_TOML = "application/toml"
MEDIA_OCTETS = "application/octet-stream"
MEDIA_DIRECTORY = "application/vnd.drawbridge.directory.v1+json"

# Drawbridge's TreeName: ``[0-9A-Za-z._:-]+`` (crates/type/src/tree/name.rs).
_TREE_NAME = re.compile(r"[0-9A-Za-z._:-]+")
# The file a package carries its configuration in; not part of the application.
CONFIG_NAME = "Enarx.toml"
MODULE_NAME = "main.wasm"


def media_type(name: str) -> str:
    """The media type Drawbridge's ``Tree::from_path`` gives a file by its extension."""
    if name.endswith(".wasm"):
        return MEDIA_WASM
    if name.endswith(".toml"):
        return MEDIA_TOML
    return MEDIA_OCTETS


def digests(data: bytes, algorithms: Iterable[str] = ALGORITHMS) -> dict[str, bytes]:
    """Raw hash values of ``data``, keyed by Drawbridge algorithm name."""
    names: dict[str, str] = {}
    for algorithm in sorted(set(algorithms)):
        name = _HASHLIB.get(algorithm.lower())
        if name is None:
            raise IdentityError(
                "digest.algorithm", f"unknown digest algorithm {algorithm!r}",
                field="algorithm", expected=", ".join(ALGORITHMS), got=algorithm,
            )
        names[algorithm.lower()] = name
    if len(data) >= _PARALLEL_MIN and len(names) > 1:
        # hashlib releases the GIL on large inputs: the four algorithms of a big file run
        # side by side (sha-384/512 cost 4x sha-256, so they get their own thread).
        futures = {algo: _pool().submit(_hash, name, data) for algo, name in names.items()}
        return {algo: f.result() for algo, f in futures.items()}
    return {algo: hashlib.new(name, data).digest() for algo, name in names.items()}


# Below this, starting threads costs more than it saves.
_PARALLEL_MIN = 1 << 20
_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=4, thread_name_prefix="digest"))
    return _POOL[0]


def _hash(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


def content_digest_header(data: bytes, algorithms: Iterable[str] = ALGORITHMS) -> str:
    """The ``Content-Digest`` header value Drawbridge sends and expects for ``data``."""
    return format_content_digest(digests(data, algorithms))


def format_content_digest(values: Mapping[str, bytes]) -> str:
    return ",".join(f"{algo}=:{_b64(values[algo])}:" for algo in sorted(values))


def parse_content_digest(header: str) -> dict[str, bytes]:
    """Parse a ``Content-Digest`` value as Drawbridge does (split on ``,``, no trimming)."""
    out: dict[str, bytes] = {}
    if not header:
        raise IdentityError("digest.header", "empty Content-Digest", field="Content-Digest")
    for item in header.split(","):
        algo, sep, rest = item.partition("=")
        algo = algo.lower()
        if not sep or algo not in _HASHLIB or len(rest) < 2 or rest[0] != ":" or rest[-1] != ":":
            raise IdentityError(
                "digest.header", f"malformed Content-Digest item {item!r}",
                field="Content-Digest", expected="sha-NNN=:<base64>:", got=item,
            )
        try:
            value = base64.b64decode(rest[1:-1], validate=True)
        except ValueError as exc:
            raise IdentityError(
                "digest.header", f"bad base64 in Content-Digest item {item!r}", field="Content-Digest", got=item,
            ) from exc
        expected_len = hashlib.new(_HASHLIB[algo]).digest_size
        if len(value) != expected_len:
            raise IdentityError(
                "digest.header", f"{algo} digest is {len(value)} bytes, expected {expected_len}",
                field="Content-Digest", expected=expected_len, got=len(value),
            )
        out[algo] = value
    return out


@dataclass(frozen=True)
class Entry:
    """A Drawbridge ``TreeEntry``/``Meta``: digests, length and media type of one node."""

    digest: Mapping[str, bytes]
    length: int
    type: str

    @classmethod
    def of(cls, data: bytes, media: str, algorithms: Iterable[str] = ALGORITHMS) -> Entry:
        return cls(digest=digests(data, algorithms), length=len(data), type=media)

    def to_json(self) -> dict[str, object]:
        # Key order digest, length, type: the order of Meta's fields in Rust, which is also sorted.
        return {
            "digest": {algo: _b64(self.digest[algo]) for algo in sorted(self.digest)},
            "length": self.length,
            "type": self.type,
        }

    def to_bytes(self) -> bytes:
        return _compact(self.to_json())

    @classmethod
    def from_json(cls, value: object, *, where: str = "entry") -> Entry:
        """Parse a ``Meta``/``TreeEntry`` object; extra (custom) members are allowed, as in Drawbridge."""
        if not isinstance(value, dict):
            raise IdentityError("digest.entry", f"{where}: not a JSON object", field=where)
        raw_digest, length, media = value.get("digest"), value.get("length"), value.get("type")
        if not isinstance(raw_digest, dict) or not raw_digest:
            raise IdentityError("digest.entry", f"{where}: `digest` must be a non-empty object", field=f"{where}.digest")
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise IdentityError("digest.entry", f"{where}: `length` must be a non-negative integer",
                                field=f"{where}.length", got=length)
        if not isinstance(media, str) or not media:
            raise IdentityError("digest.entry", f"{where}: `type` must be a media type string", field=f"{where}.type")
        header = ",".join(f"{algo}=:{b64}:" for algo, b64 in raw_digest.items() if isinstance(b64, str))
        if header.count(",") + 1 != len(raw_digest):
            raise IdentityError("digest.entry", f"{where}: digest values must be base64 strings", field=f"{where}.digest")
        return cls(digest=parse_content_digest(header), length=length, type=media)

    def matches(self, other: Entry) -> bool:
        """Drawbridge's ``meta == entry.meta``: same digests, length and type."""
        return dict(self.digest) == dict(other.digest) and self.length == other.length and self.type == other.type


@dataclass(frozen=True)
class Tree:
    """A package tree: the root directory's JSON bytes and its entry."""

    directory: bytes
    entry: Entry

    @property
    def sha256(self) -> bytes:
        return self.entry.digest["sha-256"]


def build_tree(files: Mapping[str, bytes], algorithms: Iterable[str] = ALGORITHMS) -> Tree:
    """The Drawbridge tree of ``files`` (paths with ``/`` make subdirectories)."""
    return _build(files, algorithms, None)


def tree_nodes(files: Mapping[str, bytes], algorithms: Iterable[str] = ALGORITHMS) -> list[tuple[str, bytes, Entry]]:
    """Every node of the tree as ``(path, bytes, entry)``, parents before children (the root,
    path ``""``, first), each hashed once: what a client uploads, in Drawbridge's order."""
    out: list[tuple[str, bytes, Entry]] = []
    root = _build(files, algorithms, out)
    out.append(("", root.directory, root.entry))
    # _tree appends children before their directory; depth then path puts parents first.
    return sorted(out, key=lambda n: (n[0].count("/") + (1 if n[0] else 0), n[0]))


def _build(files: Mapping[str, bytes], algorithms: Iterable[str], out: list[tuple[str, bytes, Entry]] | None) -> Tree:
    algos = tuple(algorithms)
    nested: dict[str, object] = {}
    for path, data in files.items():
        parts = path.split("/")
        for part in parts:
            _check_name(part, path)
        node = nested
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise IdentityError("digest.path", f"{path!r}: {part!r} is both a file and a directory", field=path)
            node = child
        if parts[-1] in node:
            raise IdentityError("digest.path", f"{path!r}: duplicate or clashes with a directory", field=path)
        node[parts[-1]] = data
    return _tree(nested, algos, out, "")


def _tree(node: Mapping[str, object], algorithms: tuple[str, ...],
          out: list[tuple[str, bytes, Entry]] | None = None, prefix: str = "") -> Tree:
    entries: dict[str, dict[str, object]] = {}
    for name, value in node.items():
        path = prefix + name
        if isinstance(value, bytes | bytearray):
            entry = Entry.of(bytes(value), media_type(name), algorithms)
            if out is not None:
                out.append((path, bytes(value), entry))
        else:
            assert isinstance(value, Mapping)
            sub = _tree(value, algorithms, out, path + "/")
            entry = sub.entry
            if out is not None:
                out.append((path, sub.directory, entry))
        entries[name] = entry.to_json()
    # Sorting by code point equals Rust's bytewise UTF-8 order for BTreeMap<String, _>.
    body = _compact({name: entries[name] for name in sorted(entries)})
    return Tree(directory=body, entry=Entry.of(body, MEDIA_DIRECTORY, algorithms))


def parse_directory(data: bytes) -> dict[str, Entry]:
    """A directory node's JSON ``{name: entry}`` -> entries; names must be Drawbridge tree names."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IdentityError("digest.directory", f"directory is not JSON: {exc}", field="directory") from exc
    if not isinstance(value, dict):
        raise IdentityError("digest.directory", "directory is not a JSON object", field="directory")
    out: dict[str, Entry] = {}
    for name, entry in value.items():
        _check_name(name, name)
        out[name] = Entry.from_json(entry, where=name)
    return out


def application_digest(files: Mapping[str, bytes]) -> bytes:
    """SHA-256 tree digest of a package without its ``Enarx.toml`` (32 bytes).

    For a bare module pass ``{"main.wasm": module}``.
    """
    app_files = {path: data for path, data in files.items() if path != CONFIG_NAME}
    if MODULE_NAME not in app_files:
        raise IdentityError(
            "digest.package", f"a package must hold {MODULE_NAME}", field=MODULE_NAME,
            got=", ".join(sorted(files)) or "no files",
        )
    # Entries carry all four digests, as Drawbridge's client computes them by default: the
    # application digest is then the sha-256 a registry reports for the same tree.
    return build_tree(app_files).sha256


def deployment_document(app_digest: bytes, effective_config: Mapping[str, object]) -> bytes:
    """The RFC 8785 bytes the deployment digest hashes."""
    if len(app_digest) != 32:
        raise IdentityError(
            "digest.application", "application digest must be 32 bytes (sha-256)",
            field="application", expected=32, got=len(app_digest),
        )
    try:
        return bytes(rfc8785.dumps(cast(Any, {"application": app_digest.hex(), "config": dict(effective_config)})))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise IdentityError("digest.config", f"configuration is not canonical JSON: {exc}", field="config") from exc


def deployment_digest(app_digest: bytes, effective_config: Mapping[str, object]) -> bytes:
    """SHA-256 of :func:`deployment_document` (32 bytes)."""
    return hashlib.sha256(deployment_document(app_digest, effective_config)).digest()


def _check_name(name: str, path: str) -> None:
    if not _TREE_NAME.fullmatch(name) or name in (".", ".."):
        raise IdentityError(
            "digest.name", f"{path!r}: {name!r} is not a Drawbridge tree name",
            field=path, expected="[0-9A-Za-z._:-]+", got=name,
        )


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _compact(value: object) -> bytes:
    # serde_json::to_vec: no whitespace, non-ASCII as raw UTF-8. Names are ASCII by _TREE_NAME.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
