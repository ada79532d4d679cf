"""Fixtures: a registry per test, local tokens for two users, a sync in-process transport."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest

from enarx.registry.app import Registry
from enarx.registry.auth import ALL_SCOPES, new_local_token
from enarx.registry.client import RegistryClient
from enarx.registry.settings import RegistrySettings

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello"
ECHO = ROOT / "examples" / "echo-tcp"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _Body(httpx.SyncByteStream):
    # Not httpx.ByteStream: a Response over one of those counts as already read, and the
    # client under test streams responses with iter_raw().
    def __init__(self, data: bytes) -> None:
        self._data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self._data


class SyncASGITransport(httpx.BaseTransport):
    """httpx's ASGITransport driven from sync code through an anyio portal (one event loop)."""

    def __init__(self, app: Any, portal: Any, scope_extensions: dict[str, Any] | None = None) -> None:
        self._portal = portal
        self._app = app
        self._extensions = scope_extensions

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def go() -> httpx.Response:
            app = self._app
            if self._extensions:
                inner, extra = app, self._extensions

                async def app(scope: Any, receive: Any, send: Any) -> None:
                    scope = dict(scope, extensions={**scope.get("extensions", {}), **extra})
                    await inner(scope, receive, send)

            transport = httpx.ASGITransport(app=app)
            req = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            resp = await transport.handle_async_request(req)
            content = await resp.aread()
            return httpx.Response(resp.status_code, headers=resp.headers, stream=_Body(content))

        return self._portal.call(go)  # type: ignore[no-any-return]


@pytest.fixture
def portal() -> Iterator[Any]:
    with anyio.from_thread.start_blocking_portal() as p:
        yield p


def add_user_token(registry: Registry, subject: str, scopes: str = ALL_SCOPES) -> str:
    token, digest = new_local_token()
    registry.meta.add_token(digest, subject, scopes)
    return token


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    reg = Registry(RegistrySettings(tmp_path / "registry", clock=lambda: NOW, max_file_bytes=30_000_000))
    yield reg
    reg.close()


ClientFactory = Callable[..., RegistryClient]


@pytest.fixture
def make_client(registry: Registry, portal: Any) -> Iterator[ClientFactory]:
    with ExitStack() as stack:
        def factory(token: str | None = None, extensions: dict[str, Any] | None = None) -> RegistryClient:
            transport = SyncASGITransport(registry.app, portal, extensions)
            return stack.enter_context(RegistryClient("http://registry.test", token=token, transport=transport))

        yield factory


@pytest.fixture
def alice(registry: Registry, make_client: ClientFactory) -> RegistryClient:
    """A client for user `alice`, registered, with a public repo `hello`."""
    from enarx.registry.repoconfig import RepoConfig

    client = make_client(add_user_token(registry, "sub-alice"))
    client.register_user("alice", "sub-alice")
    client.register_repo("alice", "hello", RepoConfig(public=True))
    return client


def package_files(path: Path = HELLO) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.iterdir() if p.name in ("main.wasm", "Enarx.toml")}
