"""A Drawbridge API client over httpx: users, repositories, tags, trees.

``transport=`` is injectable (``httpx.ASGITransport`` for in-process tests, ``MockTransport``
for unit tests). Every non-2xx answer becomes a :class:`RegistryError` carrying the status and
the server's one-line reason. Uploads state ``Content-Length``/``-Type``/``-Digest`` and stream
from memory in chunks so a progress callback can follow them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from enarx.identity.digests import Entry, Tree, format_content_digest, tree_nodes
from enarx.registry.errors import RegistryError
from enarx.registry.names import API_PREFIX
from enarx.registry.repoconfig import RepoConfig
from enarx.registry.signing import ENTRY_MEDIA, JWS_MEDIA, sign_entry

# (name, bytes done, bytes total): called as bytes move.
Progress = Callable[[str, int, int], None]
UPLOAD_CHUNK = 1 << 20
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


def raise_for(response: httpx.Response, what: str) -> None:
    if response.is_success:
        return
    try:
        reason = response.read().decode("utf-8", "replace").strip().splitlines()[0][:300]
    except (IndexError, httpx.HTTPError):
        reason = ""
    code = response.headers.get("x-enarx-error") or f"registry.http_{response.status_code}"
    raise RegistryError(f"{what}: {response.status_code} {response.reason_phrase}"
                        + (f": {reason}" if reason else ""), status=response.status_code, code=code)


@dataclass(frozen=True)
class TagInfo:
    body: bytes
    media: str
    signed: bool


class RegistryClient:
    """One registry (``base_url`` like ``https://host``; the API prefix is added here)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        verify: Any = True,
        cert: Any = None,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.origin = base_url.rstrip("/")  # for messages: which registry failed
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers["Accept-Encoding"] = "identity"  # digests are over the bytes as stored
        try:
            self.http = httpx.Client(base_url=base_url.rstrip("/") + API_PREFIX, headers=headers,
                                     transport=transport, verify=verify, cert=cert, timeout=timeout)
        except (OSError, ValueError) as exc:  # a bad --ca-bundle or client certificate
            raise RegistryError(f"cannot set up TLS: {exc}", status=0, code="registry.tls") from exc

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RegistryError(f"{what}: {self.origin}: {exc}", status=0,
                                code="registry.unreachable") from exc
        raise_for(response, what)
        return response

    def put(self, path: str, data: bytes, media: str, what: str, progress: Progress | None = None,
            entry: Entry | None = None) -> httpx.Response:
        """PUT ``data`` stating its metadata; ``entry`` saves rehashing bytes already hashed."""
        entry = entry or Entry.of(data, media)
        headers = {"Content-Type": media, "Content-Length": str(len(data)),
                   "Content-Digest": format_content_digest(entry.digest)}
        return self.request("PUT", path, what, content=_chunks(data, what, progress), headers=headers)

    # -- users and repositories -----------------------------------------------------------
    def register_user(self, user: str, subject: str) -> None:
        body = json.dumps({"subject": subject}, separators=(",", ":")).encode()
        self.put(f"/{user}", body, "application/json", f"register user {user}")

    def user_info(self, user: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/{user}", f"user {user}").json())

    def register_repo(self, user: str, repo: str, config: RepoConfig) -> None:
        self.put(f"/{user}/{repo}", config.to_bytes(), "application/json", f"register repository {user}/{repo}")

    def repo_config(self, user: str, repo: str) -> RepoConfig:
        return RepoConfig.parse(self.request("GET", f"/{user}/{repo}", f"repository {user}/{repo}").content)

    def tags(self, user: str, repo: str) -> list[str]:
        return [str(t) for t in self.request("GET", f"/{user}/{repo}/_tag", f"tags of {user}/{repo}").json()]

    def repo_info(self, user: str, repo: str) -> dict[str, Any]:
        """Enarx's ``repo info`` document: ``{"config": ..., "tags": [...]}``."""
        return {"config": self.repo_config(user, repo).to_json(), "tags": self.tags(user, repo)}

    # -- tags and trees -------------------------------------------------------------------
    def tag(self, user: str, repo: str, tag: str) -> TagInfo:
        r = self.request("GET", f"/{user}/{repo}/_tag/{tag}", f"tag {user}/{repo}:{tag}")
        media = r.headers.get("content-type", "").split(";")[0]
        return TagInfo(r.content, media, media == JWS_MEDIA)

    def publish(self, user: str, repo: str, tag: str, files: Mapping[str, bytes], *,
                signing_key: Any = None, progress: Progress | None = None) -> Tree:
        """Upload a package as Drawbridge's client does: the tag entry, then the tree, parents
        first. A node the server already holds with the same metadata (a resumed publish) is
        skipped; the tag becomes visible when its last node lands."""
        nodes = tree_nodes(files)
        root = nodes[0][2]
        entry = root.to_bytes()
        base = f"/{user}/{repo}/_tag/{tag}"
        if signing_key is not None:
            self.put(base, sign_entry(entry, signing_key), JWS_MEDIA, f"publish {user}/{repo}:{tag}")
        else:
            self.put(base, entry, ENTRY_MEDIA, f"publish {user}/{repo}:{tag}")
        for path, data, node in nodes:
            url = f"{base}/tree" + (f"/{path}" if path else "")
            try:
                self.put(url, data, node.type, f"upload /{path}", progress, node)
            except RegistryError as exc:
                if exc.status != 409:
                    raise
        return Tree(nodes[0][1], root)

    def publish_module(self, user: str, repo: str, tag: str, wasm: bytes, *, signing_key: Any = None,
                       progress: Progress | None = None) -> Entry:
        """A bare module as Enarx's ``package publish spec main.wasm`` does: the tag names the
        module itself (type ``application/wasm``) and the tree root is the module."""
        entry = Entry.of(wasm, "application/wasm")
        base = f"/{user}/{repo}/_tag/{tag}"
        body = sign_entry(entry.to_bytes(), signing_key) if signing_key is not None else entry.to_bytes()
        self.put(base, body, JWS_MEDIA if signing_key is not None else ENTRY_MEDIA, f"publish {user}/{repo}:{tag}")
        try:
            self.put(f"{base}/tree", wasm, entry.type, "upload main.wasm", progress, entry)
        except RegistryError as exc:
            if exc.status != 409:
                raise
        return entry


def _chunks(data: bytes, name: str, progress: Progress | None) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), UPLOAD_CHUNK):
        yield bytes(view[start:start + UPLOAD_CHUNK])
        if progress:
            progress(name, min(start + UPLOAD_CHUNK, len(data)), len(data))
    if not data:
        yield b""
