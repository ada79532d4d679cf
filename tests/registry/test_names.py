"""Names and slugs: Drawbridge's character sets, semver tags, pins, and Enarx's slug splitting."""

from __future__ import annotations

import pytest

from enarx.registry.errors import RegistryError
from enarx.registry.names import (
    DEFAULT_HOST,
    is_tag_url,
    parse_pin,
    parse_repo_spec,
    parse_slug,
    parse_user_spec,
    repo_name,
    tag_name,
    tree_path,
    user_name,
)

PIN = "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alice/hello:1.0.0", ("https", DEFAULT_HOST, "alice", "hello", "1.0.0", None)),
        ("host.example/alice/hello:1.0.0", ("https", "host.example", "alice", "hello", "1.0.0", None)),
        ("host:8443/alice/he-llo:0.1.0-rc.1", ("https", "host:8443", "alice", "he-llo", "0.1.0-rc.1", None)),
        (f"http://127.0.0.1:8080/alice/hello:1.0.0@sha-256:{PIN}",
         ("http", "127.0.0.1:8080", "alice", "hello", "1.0.0", bytes.fromhex(PIN))),
    ],
)
def test_slugs_split_as_enarx_does(text: str, expected: tuple[object, ...]) -> None:
    s = parse_slug(text)
    assert (s.scheme, s.host, s.user, s.repo, s.tag, s.pin) == expected
    assert s.tag_url.endswith(f"/api/v0.1.0/{s.user}/{s.repo}/_tag/{s.tag}")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("alice/hello", "missing `:TAG`"),
        ("hello:1.0.0", "missing `USER/`"),
        ("alice/hello:latest", "semantic version"),
        ("alice/hello:1.0.0+build", "semantic version"),
        ("alice/hello:01.0.0", "semantic version"),
        ("al.ice/hello:1.0.0", "invalid user name"),
        ("alice/../hello:1.0.0", "invalid user name"),
        ("alice/hel_lo:1.0.0", "invalid repository name"),
        ("alice/hello:1.0.0@sha-256:abc", "digest pin"),
        ("alice/hello:1.0.0@sha-512:" + PIN, "digest pin"),
        ("ftp://h/alice/hello:1.0.0", "unsupported scheme"),
        ("/alice/hello:1.0.0", "invalid host"),
    ],
)
def test_bad_slugs_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(RegistryError, match=reason.replace("(", r"\(").replace("`", "`")):
        parse_slug(text)


def test_pin_accepts_hex_or_base64() -> None:
    import base64

    raw = bytes.fromhex(PIN)
    assert parse_pin(f"sha-256:{PIN}") == raw
    assert parse_pin("sha-256:" + base64.b64encode(raw).decode()) == raw
    assert parse_pin(f"SHA-256:{PIN.upper()}") == raw


@pytest.mark.parametrize("good", ["0", "a", "Z9", "x" * 64])
def test_user_names(good: str) -> None:
    assert user_name(good) == good


@pytest.mark.parametrize("bad", ["", "a-b", "a.b", "a/b", "..", "ä", "x" * 65, "a b"])
def test_bad_user_names(bad: str) -> None:
    with pytest.raises(RegistryError) as info:
        user_name(bad)
    assert info.value.status == 400


@pytest.mark.parametrize("bad", ["", "a.b", "a/b", "..", "a_b"])
def test_bad_repo_names(bad: str) -> None:
    with pytest.raises(RegistryError):
        repo_name(bad)


@pytest.mark.parametrize("good", ["0.0.0", "1.2.3", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0-x.7.z.92"])
def test_semver_tags(good: str) -> None:
    assert tag_name(good) == good


@pytest.mark.parametrize("bad", ["1", "1.2", "v1.2.3", "1.2.3-", "1.2.3-01", "1.2.3+x", "..", "1.2.3/x"])
def test_bad_tags(bad: str) -> None:
    with pytest.raises(RegistryError):
        tag_name(bad)


def test_tree_paths() -> None:
    assert tree_path("") == ()
    assert tree_path("a/b.wasm") == ("a", "b.wasm")
    for bad in ("..", "a/../b", "a//b", "./a", "a/.", "a b", "a/%2e", "/".join("a" * 20)):
        with pytest.raises(RegistryError):
            tree_path(bad)


def test_user_and_repo_specs() -> None:
    assert parse_user_spec("alice") == ("https", DEFAULT_HOST, "alice")
    assert parse_user_spec("http://h:1/alice") == ("http", "h:1", "alice")
    assert parse_repo_spec("h/alice/hello") == ("https", "h", "alice", "hello")
    with pytest.raises(RegistryError):
        parse_repo_spec("hello")


def test_tag_urls_are_told_from_slugs() -> None:
    assert is_tag_url("https://h/api/v0.1.0/alice/hello/_tag/1.0.0")
    assert not is_tag_url("https://h/alice/hello:1.0.0")
    assert not is_tag_url("alice/hello:1.0.0")
