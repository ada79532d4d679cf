"""The Drawbridge-compatible HTTP API (``/api/v0.1.0/...``) as a starlette app.

Routing follows Drawbridge's ``handle.rs``: ``/{user}``, ``/{user}/{repo}``,
``/{user}/{repo}/_tag``, ``/{user}/{repo}/_tag/{tag}``, ``/{user}/{repo}/_tag/{tag}/tree/{path}``;
GET/HEAD read, PUT creates (never replaces: an existing object is ``409``). Every PUT states
``Content-Length``, ``Content-Type`` and (for tags and trees) ``Content-Digest``; the body is
checked against them while it streams, and a tree node must also equal the entry its parent
gave for it (Drawbridge's open TODO #77), so a stored tree is a verified Merkle tree.
Refusals are ``text/plain`` reasons with the stable code in ``X-Enarx-Error``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from enarx.identity.digests import MEDIA_DIRECTORY, MEDIA_WASM, Entry, parse_directory
from enarx.identity.errors import IdentityError
from enarx.registry import names
from enarx.registry.auth import Authenticator, Principal
from enarx.registry.blobs import BlobStore, FileBlobStore
from enarx.registry.errors import (
    RegistryError,
    bad_request,
    conflict,
    forbidden,
    not_found,
    too_large,
    unauthorized,
)
from enarx.registry.http import (
    declared_meta,
    error_response,
    json_object,
    meta_from_json,
    meta_headers,
    read_small,
)
from enarx.registry.meta import MetaStore, NodeRow, TagRow
from enarx.registry.repoconfig import RepoConfig
from enarx.registry.settings import MAX_DOCUMENT_BYTES, RegistrySettings
from enarx.registry.signing import ENTRY_MEDIA, JWS_MEDIA, verify_jws
from enarx.registry.verify import StreamVerifier, require_strong

SERVER_VERSION = (0, 1, 0)


class Registry:
    """The service: metadata, blobs, authentication and the ASGI app over them."""

    def __init__(self, settings: RegistrySettings) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.meta = MetaStore(settings.database_url())
        self.blobs: BlobStore = settings.blobs or FileBlobStore(settings.data_dir / "blobs")
        self.auth = Authenticator(self.meta, settings.oidc, settings.local_tokens, settings.steward_roots)
        self.app = Starlette(routes=[
            Route("/api/{rest:path}", self._dispatch, methods=["GET", "HEAD", "PUT"]),
            Route("/healthz", lambda _r: PlainTextResponse("ok"), methods=["GET"]),
        ])

    def close(self) -> None:
        self.meta.close()

    # -- dispatch -------------------------------------------------------------------------
    async def _dispatch(self, request: Request) -> Response:
        try:
            return await self._route(request)
        except RegistryError as exc:
            return error_response(exc)

    async def _route(self, request: Request) -> Response:
        rest: str = request.path_params["rest"]
        version, _, path = rest.partition("/")
        _check_version(version)
        head, sep, tail = path.strip("/").partition("/_")
        parts = [p for p in head.split("/") if p] if head else []
        if not parts:
            raise not_found(f"Route `/{rest}` not found")
        method = request.method
        user = names.user_name(parts[0])
        if len(parts) == 1 and not sep:
            return await self._user(request, method, user)
        if len(parts) != 2:
            raise bad_request("Failed to parse repository name: expected /{user}/{repo}", "registry.name")
        repo = names.repo_name(parts[1])
        if not sep:
            return await self._repo(request, method, user, repo)
        pieces = ("_" + tail).split("/", 3)
        if pieces[0] != "_tag":
            raise not_found("Route not found on repository")
        if len(pieces) == 1 or (len(pieces) == 2 and not pieces[1]):
            if method != "GET":
                raise RegistryError("Method not allowed for repository tag query endpoint", status=405)
            return await self._tag_list(request, user, repo)
        tag = names.tag_name(pieces[1])
        if len(pieces) == 2:
            return await self._tag(request, method, user, repo, tag)
        if pieces[2] != "tree":
            raise not_found("Route not found on tag")
        tree = names.tree_path(pieces[3] if len(pieces) > 3 else "")
        return await self._tree(request, method, user, repo, tag, "/".join(tree))

    async def _principal(self, request: Request) -> Principal:
        now = self.settings.clock()
        principal = self.auth.bearer(request.headers.get("authorization"), now)
        if principal.subject is None:
            chain = _client_chain(request)
            if chain:
                principal = await run_in_threadpool(self.auth.keep, chain, now)
        return principal

    async def _db(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await run_in_threadpool(fn, *args)

    async def _owner(self, request: Request, user: str, context: Any) -> Principal:
        """The caller must be ``user`` (by token subject) with write scope on ``context``."""
        principal = await self._principal(request)
        if principal.subject is None:
            raise unauthorized("Bearer token header missing")
        principal.require(context, "write")
        record = await self._db(self.meta.user, user)
        if record is None:
            raise not_found(f"User `{user}` does not exist")
        if record[0] != principal.subject:
            me = await self._db(self.meta.user_by_subject, principal.subject)
            raise forbidden(f"You are logged in as `{me or principal.subject}`, not `{user}`: "
                            "you can only write to your own repositories")
        return principal

    async def _readable(self, request: Request, user: str, repo: str) -> RepoConfig:
        found = await self._db(self.meta.repo, user, repo)
        if found is None:
            raise not_found("Repository does not exist")
        config = RepoConfig.parse(found[0])
        if config.public:
            return config
        principal = await self._principal(request)
        if principal.keep_certificate is not None:
            return config
        if principal.subject is None:
            raise unauthorized("Repository is private: a token of its owner or a Steward-issued certificate is needed")
        record = await self._db(self.meta.user, user)
        if record is None or record[0] != principal.subject:
            raise forbidden("Repository is private and belongs to another user")
        principal.require("repositories", "read")
        return config

    # -- users ----------------------------------------------------------------------------
    async def _user(self, request: Request, method: str, user: str) -> Response:
        if method == "PUT":
            principal = await self._principal(request)
            if principal.subject is None:
                raise unauthorized("Bearer token header missing")
            principal.require("users", "write")
            meta = declared_meta(request, digest_required=False)
            assert meta is not None
            _media(meta, "application/json")
            body = await read_small(request, meta, MAX_DOCUMENT_BYTES, "user record")
            record = json_object(body, "user record")
            if set(record) != {"subject"} or not isinstance(record["subject"], str):
                raise bad_request('a user record is {"subject": "<OIDC subject>"}', "registry.json")
            if record["subject"] != principal.subject:
                raise unauthorized("OpenID Connect subject mismatch")
            await self._db(self.meta.create_user, user, principal.subject, body)
            return Response(status_code=201)
        principal = await self._principal(request)
        found = await self._db(self.meta.user, user)
        if found is None:
            raise not_found("User does not exist")
        if principal.subject is None:
            raise unauthorized("Bearer token header missing")
        if found[0] != principal.subject:
            raise forbidden(f"only `{user}` may read its user record")
        return _document(method, found[1], "application/json")

    # -- repositories ---------------------------------------------------------------------
    async def _repo(self, request: Request, method: str, user: str, repo: str) -> Response:
        if method == "PUT":
            await self._owner(request, user, "repositories")
            meta = declared_meta(request, digest_required=False)
            assert meta is not None
            _media(meta, "application/json")
            body = await read_small(request, meta, MAX_DOCUMENT_BYTES, "repository config")
            config = RepoConfig.parse(body)
            await self._db(self.meta.create_repo, user, repo, body, config.public)
            return Response(status_code=201)
        await self._readable(request, user, repo)
        found = await self._db(self.meta.repo, user, repo)
        return _document(method, found[0], "application/json")

    async def _tag_list(self, request: Request, user: str, repo: str) -> Response:
        await self._readable(request, user, repo)
        tags = await self._db(self.meta.tags, user, repo)
        return JSONResponse(sorted(tags, key=_semver_key))

    # -- tags -----------------------------------------------------------------------------
    async def _tag(self, request: Request, method: str, user: str, repo: str, tag: str) -> Response:
        if method == "PUT":
            return await self._put_tag(request, user, repo, tag)
        await self._readable(request, user, repo)
        row: TagRow | None = await self._db(self.meta.tag, user, repo, tag)
        if row is None or not row.complete:
            raise not_found("Tag does not exist" if row is None else "Tag is still being published")
        headers = meta_headers(meta_from_json(row.meta))
        if row.signer:
            headers["x-enarx-signer"] = row.signer
        return Response(b"" if method == "HEAD" else row.body, headers=headers)

    async def _put_tag(self, request: Request, user: str, repo: str, tag: str) -> Response:
        await self._owner(request, user, "tags")
        found = await self._db(self.meta.repo, user, repo)
        if found is None:
            raise not_found("Repository does not exist")
        config = RepoConfig.parse(found[0])
        meta = declared_meta(request, digest_required=True)
        assert meta is not None
        require_strong(meta.digest, "tag entry")
        if meta.type not in (ENTRY_MEDIA, JWS_MEDIA):
            raise bad_request(f"Invalid content type {meta.type!r}: use {ENTRY_MEDIA} or {JWS_MEDIA}", "registry.type")
        body = await read_small(request, meta, MAX_DOCUMENT_BYTES, "tag entry")
        signer = None
        if meta.type == JWS_MEDIA:
            entry_bytes, signer = verify_jws(body, config.signing_keys)
        elif config.require_signed:
            raise forbidden(f"repository {user}/{repo} requires signed tags")
        else:
            entry_bytes = body
        try:
            entry = Entry.from_json(json_object(entry_bytes, "tag entry"), where="tag entry")
        except IdentityError as exc:
            raise bad_request(str(exc), "registry.json") from exc
        require_strong(entry.digest, "tag entry")
        if entry.type not in (MEDIA_DIRECTORY, MEDIA_WASM):
            # Enarx runs a tag naming a directory (a package) or a module; nothing else.
            raise bad_request(f"tag entry type {entry.type!r} must be {MEDIA_DIRECTORY} or {MEDIA_WASM}",
                              "registry.type")
        row = TagRow(body, meta.type, meta.to_bytes().decode(), signer, False)
        created = await self._db(self.meta.create_tag, user, repo, tag, row, entry.to_bytes().decode())
        return Response(status_code=201 if created else 200)

    # -- trees ----------------------------------------------------------------------------
    async def _tree(self, request: Request, method: str, user: str, repo: str, tag: str, path: str) -> Response:
        if method == "PUT":
            return await self._put_node(request, user, repo, tag, path)
        await self._readable(request, user, repo)
        row = await self._db(self.meta.tag, user, repo, tag)
        if row is None or not row.complete:
            raise not_found("Tag does not exist" if row is None else "Tag is still being published")
        node: NodeRow | None = await self._db(self.meta.node, user, repo, tag, path)
        if node is None:
            raise not_found("Path does not exist")
        headers = meta_headers(meta_from_json(node.meta))
        if method == "HEAD":
            return Response(b"", headers=headers)
        return StreamingResponse(self.blobs.iter(node.blob), headers=headers)

    async def _put_node(self, request: Request, user: str, repo: str, tag: str, path: str) -> Response:
        await self._owner(request, user, "tags")
        where = f"tree node `/{path}`"
        meta = declared_meta(request, digest_required=True)
        assert meta is not None
        row = await self._db(self.meta.tag, user, repo, tag)
        if row is None:
            raise not_found("Tag does not exist: PUT the tag entry first")
        if await self._db(self.meta.node, user, repo, tag, path) is not None:
            raise conflict("Already exists")
        expected_json = await self._db(self.meta.expected, user, repo, tag, path)
        if expected_json is None:
            raise bad_request(f"{where} is not named by its parent directory (upload parents first)", "registry.tree")
        expected = meta_from_json(expected_json)
        if not expected.matches(meta):
            raise bad_request(f"{where}: Content-Digest, Content-Length and Content-Type must equal the "
                              "entry its parent gives", "registry.tree")
        is_dir = meta.type == MEDIA_DIRECTORY
        limit = self.settings.max_directory_bytes if is_dir else self.settings.max_file_bytes
        if meta.length > limit:
            raise too_large(f"{where}: {meta.length} bytes is more than the limit of {limit}")
        verifier = StreamVerifier(meta.digest, meta.length, limit, where)
        writer = self.blobs.writer()
        dir_chunks: list[bytes] = []
        try:
            async for chunk in request.stream():
                verifier.update(chunk)
                writer.write(chunk)
                if is_dir:
                    dir_chunks.append(chunk)
            verifier.finish()
        except BaseException:
            writer.abort()
            verifier.close()
            raise
        children: list[tuple[str, str]] = []
        if is_dir:
            try:
                entries = parse_directory(b"".join(dir_chunks))
            except IdentityError as exc:
                writer.abort()
                raise bad_request(f"{where}: {exc}", "registry.tree") from exc
            prefix = f"{path}/" if path else ""
            children = [(prefix + name, e.to_bytes().decode()) for name, e in entries.items()]
        key = await run_in_threadpool(writer.commit, verifier.sha256)
        await self._db(self.meta.create_node, user, repo, tag, path, NodeRow(meta.to_bytes().decode(), key), children)
        return Response(status_code=201)


def _check_version(text: str) -> None:
    if not text.startswith("v"):
        raise not_found("Route not found: expected /api/v<version>/...")
    try:
        major, minor, _patch = (int(x) for x in text[1:].split("."))
    except ValueError:
        raise bad_request(f"Failed to parse SemVer version from {text[:40]!r}", "registry.version") from None
    if major > SERVER_VERSION[0] or (SERVER_VERSION[0] == 0 and minor > SERVER_VERSION[1]):
        raise RegistryError(f"Unsupported API version `{text[1:]}`", status=501, code="registry.version")


def _media(meta: Entry, expected: str) -> None:
    if meta.type != expected:
        raise bad_request(f"Content-Type must be {expected}", "registry.type")


def _document(method: str, body: bytes, media: str) -> Response:
    entry = Entry.of(body, media)
    return Response(b"" if method == "HEAD" else body, headers=meta_headers(entry))


def _client_chain(request: Request) -> list[bytes]:
    """The ASGI TLS extension's client chain (PEM strings), as ``serve.py`` fills it in."""
    tls = request.scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    out = []
    for item in chain:
        if isinstance(item, bytes):
            out.append(item)
        else:
            out.append(x509.load_pem_x509_certificate(str(item).encode()).public_bytes(Encoding.DER))
    return out


def _semver_key(tag: str) -> tuple[Any, ...]:
    core, _, pre = tag.partition("-")
    nums = tuple(int(x) for x in core.split("."))
    # A release sorts after its pre-releases (semver 11.3).
    pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ((2, 0, ""),)
    return (nums, pre_key)

