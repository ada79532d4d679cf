"""Bad input at the HTTP API: the right status and reason, and nothing stored (issue 6, section 6)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from enarx.identity.digests import MEDIA_DIRECTORY, Entry, build_tree, content_digest_header
from enarx.registry.app import Registry
from enarx.registry.auth import new_local_token
from enarx.registry.signing import ENTRY_MEDIA

from .conftest import add_user_token, package_files

pytestmark = pytest.mark.anyio
API = "/api/v0.1.0"
TAG = f"{API}/alice/hello/_tag/1.0.0"


@pytest.fixture
async def http(registry: Registry) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=registry.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
        yield c


@pytest.fixture
async def tokens(registry: Registry, http: httpx.AsyncClient) -> dict[str, str]:
    """alice owns public alice/hello with tag 1.0.0 created (tree not uploaded); bob exists."""
    out = {"alice": add_user_token(registry, "sub-alice"), "bob": add_user_token(registry, "sub-bob"),
           "readonly": add_user_token(registry, "sub-alice", "read:drawbridge_tags")}
    for user in ("alice", "bob"):
        r = await put(http, f"{API}/{user}", b'{"subject":"sub-%s"}' % user.encode(), "application/json", out[user])
        assert r.status_code == 201, r.text
    r = await put(http, f"{API}/alice/hello", b'{"public":true}', "application/json", out["alice"])
    assert r.status_code == 201, r.text
    tree = build_tree(package_files())
    r = await put(http, TAG, tree.entry.to_bytes(), ENTRY_MEDIA, out["alice"])
    assert r.status_code == 201, r.text
    return out


async def put(http: httpx.AsyncClient, url: str, body: bytes, media: str, token: str | None,
              headers: dict[str, str] | None = None) -> httpx.Response:
    h = {"Content-Type": media, "Content-Digest": content_digest_header(body), "Content-Length": str(len(body))}
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    return await http.put(url, content=body, headers={k: v for k, v in h.items() if v != ""})


def stored_blobs(registry: Registry) -> list[Path]:
    root = registry.settings.data_dir / "blobs"
    return [p for p in (root / "sha256").rglob("*") if p.is_file()] + list((root / "tmp").iterdir())


async def test_root_upload_with_wrong_digest_is_refused_and_nothing_stored(
    http: httpx.AsyncClient, tokens: dict[str, str], registry: Registry
) -> None:
    tree = build_tree(package_files())
    wrong = content_digest_header(b"something else")
    r = await put(http, TAG + "/tree", tree.directory, MEDIA_DIRECTORY, tokens["alice"], {"Content-Digest": wrong})
    assert r.status_code == 400
    assert "must equal the entry its parent gives" in r.text
    assert stored_blobs(registry) == []


@pytest.mark.parametrize(
    ("name", "mutate", "status", "reason"),
    [
        ("digest", lambda d: (d[:-1] + b"X", None), 400, "Content digest mismatch"),
        ("truncated", lambda d: (d[:-10], str(len(d))), 400, "truncated body"),
        ("longer", lambda d: (d + b"  ", str(len(d))), 400, "got more"),
    ],
)
async def test_body_not_matching_its_headers_is_refused_while_streaming(
    http: httpx.AsyncClient, tokens: dict[str, str], registry: Registry, name: str, mutate: object,
    status: int, reason: str,
) -> None:
    tree = build_tree(package_files())
    body, length = mutate(tree.directory)  # type: ignore[operator]
    headers = {"Content-Digest": content_digest_header(tree.directory), "Content-Length": length or str(len(body))}
    r = await put(http, TAG + "/tree", body, MEDIA_DIRECTORY, tokens["alice"], headers)
    assert (r.status_code, r.headers["x-enarx-error"]) == (status, "registry.digest" if name == "digest" else "registry.length")
    assert reason in r.text
    assert stored_blobs(registry) == []
    assert registry.meta.node("alice", "hello", "1.0.0", "") is None


async def test_oversized_upload_is_refused_before_reading(
    http: httpx.AsyncClient, tokens: dict[str, str], registry: Registry
) -> None:
    files = dict(package_files(), **{"big.bin": b"\0" * (registry.settings.max_file_bytes + 1)})
    tree = build_tree(files)
    r = await put(http, f"{API}/alice/hello/_tag/2.0.0", tree.entry.to_bytes(), ENTRY_MEDIA, tokens["alice"])
    assert r.status_code == 201
    r = await put(http, f"{API}/alice/hello/_tag/2.0.0/tree", tree.directory, MEDIA_DIRECTORY, tokens["alice"])
    assert r.status_code == 201
    big = files["big.bin"]
    entry = Entry.of(big, "application/octet-stream")
    # Declared honestly, but too large: refused on the headers.
    r = await http.put(f"{API}/alice/hello/_tag/2.0.0/tree/big.bin", content=b"",
                       headers={"Authorization": f"Bearer {tokens['alice']}", "Content-Type": entry.type,
                                "Content-Length": str(entry.length), "Content-Digest": content_digest_header(big)})
    assert r.status_code == 413
    assert "more than the limit" in r.text
    assert registry.meta.node("alice", "hello", "2.0.0", "big.bin") is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"{API}/al.ice", "invalid user name"),
        (f"{API}/alice/he%2Fllo", "expected /{user}/{repo}"),
        (f"{API}/alice/hel.lo", "invalid repository name"),
        (f"{API}/alice/hello/_tag/latest", "semantic version"),
        (f"{API}/alice/hello/_tag/%2E%2E", "semantic version"),
        (f"{API}/alice/hello/_tag/1.0.0/tree/%2E%2E/etc", "not . or .."),
        (f"{API}/alice/hello/_tag/1.0.0/tree/a/%2E/b", "not . or .."),
        (f"{API}/alice/hello/_tag/1.0.0/tree/sp%20ace", "invalid tree path component"),
        (f"{API}/alice/a/b", "expected /{user}/{repo}"),
    ],
)
async def test_names_drawbridge_refuses_are_400(
    http: httpx.AsyncClient, tokens: dict[str, str], url: str, reason: str
) -> None:
    r = await put(http, url, b"{}", "application/json", tokens["alice"])
    assert r.status_code == 400, r.text
    assert reason in r.text
    assert (await http.get(url)).status_code == 400


async def test_writes_need_the_owners_token_with_the_right_scope(
    http: httpx.AsyncClient, tokens: dict[str, str], registry: Registry
) -> None:
    tree = build_tree(package_files())
    url = TAG + "/tree"
    cases = [
        (None, 401, "Bearer token header missing"),
        ("enarx_not-a-token", 401, "unknown token"),
        (tokens["bob"], 403, "not `alice`"),
        (tokens["readonly"], 403, "lacks the scope write:drawbridge_tags"),
    ]
    for token, status, reason in cases:
        r = await put(http, url, tree.directory, MEDIA_DIRECTORY, token)
        assert (r.status_code, reason in r.text) == (status, True), r.text
    r = await put(http, f"{API}/alice/other", b'{"public":true}', "application/json", tokens["bob"])
    assert r.status_code == 403
    assert registry.meta.repo("alice", "other") is None
    r = await put(http, f"{API}/carol", b'{"subject":"sub-carol"}', "application/json", tokens["bob"])
    assert (r.status_code, r.text) == (401, "OpenID Connect subject mismatch")


async def test_create_only_everything_is_409_the_second_time(
    http: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    r = await put(http, f"{API}/alice", b'{"subject":"sub-alice"}', "application/json", tokens["alice"])
    assert r.status_code == 409
    r = await put(http, f"{API}/alice/hello", b'{"public":false}', "application/json", tokens["alice"])
    assert r.status_code == 409
    other = build_tree({"main.wasm": b"\0asm\1\0\0\0"})
    r = await put(http, TAG, other.entry.to_bytes(), ENTRY_MEDIA, tokens["alice"])
    assert r.status_code == 409
    tree = build_tree(package_files())
    r = await put(http, TAG + "/tree", tree.directory, MEDIA_DIRECTORY, tokens["alice"])
    assert r.status_code == 201
    r = await put(http, TAG + "/tree", tree.directory, MEDIA_DIRECTORY, tokens["alice"])
    assert r.status_code == 409


async def test_node_not_named_by_a_parent_and_wrong_media_types(
    http: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    r = await put(http, TAG + "/tree/main.wasm", package_files()["main.wasm"], "application/wasm", tokens["alice"])
    assert r.status_code == 400
    assert "upload parents first" in r.text
    entry = build_tree(package_files()).entry.to_bytes()
    r = await put(http, f"{API}/alice/hello/_tag/3.0.0", entry, "text/plain", tokens["alice"])
    assert (r.status_code, "Invalid content type" in r.text) == (400, True)
    r = await put(http, f"{API}/alice/hello/_tag/3.0.0", entry, ENTRY_MEDIA, tokens["alice"], {"Content-Digest": ""})
    assert (r.status_code, "At least one content digest" in r.text) == (400, True)
    only224 = "sha-224=:" + content_digest_header(entry, ["sha-224"]).split("=:", 1)[1]
    r = await put(http, f"{API}/alice/hello/_tag/3.0.0", entry, ENTRY_MEDIA, tokens["alice"], {"Content-Digest": only224})
    assert (r.status_code, "must include sha-256" in r.text) == (400, True)
    r = await put(http, f"{API}/alice/hello/_tag/3.0.0", b"{}", ENTRY_MEDIA, tokens["alice"])
    assert r.status_code == 400
    text_entry = Entry.of(b"hello", "text/plain").to_bytes()
    r = await put(http, f"{API}/alice/hello/_tag/3.0.0", text_entry, ENTRY_MEDIA, tokens["alice"])
    assert (r.status_code, "must be application/vnd.drawbridge.directory.v1+json" in r.text) == (400, True)
    r = await put(http, f"{API}/alice/hello2", b'{"public":true,"extra":1}', "application/json", tokens["alice"])
    assert (r.status_code, "unknown keys" in r.text) == (400, True)


async def test_api_versions_and_unknown_routes(http: httpx.AsyncClient) -> None:
    assert (await http.get(f"{API}/alice")).status_code == 404
    assert (await http.get("/api/v0.2.0/alice")).status_code == 501
    assert (await http.get("/api/v1.0.0/alice")).status_code == 501
    assert (await http.get("/api/vx/alice")).status_code == 400
    assert (await http.get("/api/v0.1.0/")).status_code == 404
    assert (await http.get("/api/v0.1.0/alice/hello/_nope")).status_code == 404


async def test_unknown_local_token_never_matches_a_stored_digest(registry: Registry) -> None:
    token, digest = new_local_token()
    assert token.startswith("enarx_") and len(digest) == 64 and token not in digest
    assert registry.meta.token(digest) is None


async def test_racing_creates_get_one_201_and_one_409(http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    import asyncio

    body = b'{"public":true}'
    results = await asyncio.gather(*(put(http, f"{API}/alice/race", body, "application/json", tokens["alice"])
                                     for _ in range(4)))
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409]
