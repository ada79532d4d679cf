"""Fetch a package and verify it as a Merkle tree: tag -> root directory -> each file.

The steps, each refusing with a :class:`VerificationError` (nothing is returned, so nothing
runs, unless every step passes):

1. **Tag.** GET the tag; its body must match its ``Content-Digest``. A signed tag (JWS) must
   verify with a trusted key; an unsigned one is refused when signatures are required.
   *Prevents a registry or network from substituting the tree the publisher tagged.*
2. **Pin.** When the slug pins ``@sha-256:...``, the entry's sha-256 must equal it (the check
   Enarx left open, enarx#2339). *Prevents a re-pointed or re-published tag.*
3. **Root.** GET ``tree``; its metadata must equal the tag entry and its bytes must hash to it.
4. **Files.** For each directory entry, GET it; metadata must equal the entry and the bytes,
   checked while they stream, must hash to it. Sizes are bounded before anything is read.
5. **Package.** ``main.wasm`` must be ``application/wasm``; ``Enarx.toml``, if present,
   ``application/toml`` (Enarx's ``get_package``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from enarx.identity.digests import (
    CONFIG_NAME,
    MEDIA_DIRECTORY,
    MEDIA_TOML,
    MEDIA_WASM,
    MODULE_NAME,
    Entry,
    parse_content_digest,
    parse_directory,
)
from enarx.identity.errors import IdentityError
from enarx.registry.client import Progress, RegistryClient, raise_for
from enarx.registry.errors import RegistryError, VerificationError
from enarx.registry.signing import JWS_MEDIA, verify_jws
from enarx.registry.verify import StreamVerifier, check_entry

MAX_TAG_BYTES = 64 * 1024
MAX_DIRECTORY_BYTES = 1_000_000
MAX_CONFIG_BYTES = 1_000_000
MAX_FILE_BYTES = 100_000_000
MAX_FILES = 1000


@dataclass(frozen=True)
class FetchedPackage:
    files: Mapping[str, bytes]
    entry: Entry  # the tag entry: the root directory's metadata
    signer: str | None  # JWK thumbprint of the key that signed the tag, if signed

    @property
    def tree_digest(self) -> bytes:
        return self.entry.digest["sha-256"]


@dataclass(frozen=True)
class TrustPolicy:
    pin: bytes | None = None
    trusted_keys: tuple[Mapping[str, str], ...] = ()
    require_signed: bool = False


def fetch_package(client: RegistryClient, tag_path: str, policy: TrustPolicy,
                  progress: Progress | None = None) -> FetchedPackage:
    """``tag_path`` is ``/{user}/{repo}/_tag/{tag}`` under the client's API base."""
    entry, signer = fetch_tag(client, tag_path, policy)
    return FetchedPackage(fetch_tree(client, tag_path, entry, progress), entry, signer)


def fetch_tag(client: RegistryClient, tag_path: str, policy: TrustPolicy) -> tuple[Entry, str | None]:
    """Steps 1 and 2: the verified tag entry and its signer."""
    # 1. Tag.
    body, media = _get(client, tag_path, None, MAX_TAG_BYTES, "tag", None)
    signer = None
    if media == JWS_MEDIA:
        if not policy.trusted_keys:
            raise VerificationError("the tag is signed but no trusted signer key was given (--signer)")
        try:
            body, signer = verify_jws(body, policy.trusted_keys)
        except RegistryError as exc:
            raise VerificationError(f"tag signature: {exc}") from exc
    elif policy.require_signed:
        raise VerificationError("the tag is not signed, and a signature is required")
    try:
        entry = Entry.from_json(json.loads(body), where="tag entry")
    except (ValueError, IdentityError) as exc:
        raise VerificationError(f"tag entry is malformed: {exc}") from exc
    if "sha-256" not in entry.digest:
        raise VerificationError("tag entry has no sha-256 digest")
    # 2. Pin.
    if policy.pin is not None and entry.digest["sha-256"] != policy.pin:
        raise VerificationError(f"tag digest sha-256:{entry.digest['sha-256'].hex()} is not the pinned "
                                f"sha-256:{policy.pin.hex()}")
    return entry, signer


def fetch_tree(client: RegistryClient, tag_path: str, entry: Entry,
               progress: Progress | None = None) -> dict[str, bytes]:
    """Steps 3 to 5: every file of the tree ``entry`` names, each verified against its parent."""
    files: dict[str, bytes] = {}
    if entry.type == MEDIA_WASM:  # a bare module tagged directly
        files[MODULE_NAME], _ = _get(client, f"{tag_path}/tree", entry, MAX_FILE_BYTES, "/", progress)
        return files
    if entry.type != MEDIA_DIRECTORY:
        raise VerificationError(f"tag entry type {entry.type!r} is neither a directory nor a module")
    # 3. Root, then 4. files (depth first).
    _walk(client, tag_path, "", entry, files, progress)
    # 5. Package.
    if MODULE_NAME not in files:
        raise VerificationError(f"the package has no {MODULE_NAME}")
    return files


def _walk(client: RegistryClient, tag_path: str, path: str, entry: Entry, files: dict[str, bytes],
          progress: Progress | None) -> None:
    url = f"{tag_path}/tree" + (f"/{path}" if path else "")
    body, _ = _get(client, url, entry, MAX_DIRECTORY_BYTES, f"/{path}", None)
    try:
        children = parse_directory(body)
    except IdentityError as exc:
        raise VerificationError(f"directory /{path}: {exc}") from exc
    for name, child in sorted(children.items()):
        child_path = f"{path}/{name}" if path else name
        if child.type == MEDIA_DIRECTORY:
            _walk(client, tag_path, child_path, child, files, progress)
            continue
        if child_path == MODULE_NAME and child.type != MEDIA_WASM:
            raise VerificationError(f"{MODULE_NAME} has type {child.type!r}, expected {MEDIA_WASM}")
        if child_path == CONFIG_NAME and child.type != MEDIA_TOML:
            raise VerificationError(f"{CONFIG_NAME} has type {child.type!r}, expected {MEDIA_TOML}")
        if len(files) >= MAX_FILES:
            raise VerificationError(f"the package has more than {MAX_FILES} files")
        limit = MAX_CONFIG_BYTES if child_path == CONFIG_NAME else MAX_FILE_BYTES
        files[child_path], _ = _get(client, f"{tag_path}/tree/{child_path}", child, limit, f"/{child_path}", progress)


def _get(client: RegistryClient, url: str, expected: Entry | None, limit: int, what: str,
         progress: Progress | None) -> tuple[bytes, str]:
    """GET a node; check its headers against ``expected`` (when given) and its bytes against the
    headers while streaming. Returns (body, media type)."""
    if expected is not None and expected.length > limit:
        raise VerificationError(f"{what}: {expected.length} bytes is more than the limit of {limit}")
    try:
        with client.http.stream("GET", url) as response:
            raise_for(response, f"fetch {what}")
            got = _header_meta(response, what)
            if expected is not None:
                check_entry(expected, got, what)
            verifier = StreamVerifier(got.digest, got.length, limit, what)
            chunks = []
            try:
                for chunk in response.iter_raw():
                    verifier.update(chunk)
                    chunks.append(chunk)
                    if progress:
                        progress(what, verifier.received, got.length)
                verifier.finish()
            finally:
                verifier.close()
    except httpx.HTTPError as exc:
        raise RegistryError(f"fetch {what} from {client.origin}: {exc}", status=0,
                            code="registry.unreachable") from exc
    except VerificationError:
        raise
    except RegistryError as exc:
        if exc.code in ("registry.digest", "registry.length"):
            raise VerificationError(f"fetch {exc.message}") from exc
        raise
    return b"".join(chunks), got.type


def _header_meta(response: httpx.Response, what: str) -> Entry:
    try:
        length = int(response.headers["content-length"])
        digests = parse_content_digest(response.headers["content-digest"])
        media = response.headers["content-type"].split(";")[0].strip()
    except (KeyError, ValueError, IdentityError) as exc:
        raise VerificationError(f"{what}: response lacks a valid Content-Digest, Content-Length or "
                                f"Content-Type ({exc})") from exc
    return Entry(digests, length, media)
