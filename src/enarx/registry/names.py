"""Names the registry accepts, and package slugs. Sans-IO: strings in, values or errors out.

The character sets are Drawbridge's (``crates/type/src/{user,repository,tag,tree}``):

* user ``[0-9A-Za-z]+``; repository ``[0-9A-Za-z-]+``;
* tag: a semantic version (Drawbridge 0.2, which Enarx's client speaks, parses tags with
  ``semver::Version``), e.g. ``1.2.3`` or ``0.1.0-rc.1``; no ``+build`` (a ``+`` in a URL
  path is ambiguous through proxies that turn it into a space);
* tree path: ``/``-separated names of ``[0-9A-Za-z._:-]+``, never ``.`` or ``..``.

Lengths are capped here (Drawbridge does not) so names fit an index and a log line.

A **slug** names a package version: ``[scheme://][host[:port]/]user/repo:tag[@sha-256:DIGEST]``.
The optional pin is the tag's tree digest (sha-256, 64 hex digits or Content-Digest base64);
Enarx never checked the top-level digest against anything the user gave (enarx#2339).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from enarx.registry.errors import RegistryError, bad_request

API_VERSION = "0.1.0"
API_PREFIX = f"/api/v{API_VERSION}"
# Enarx's default package host; a slug without a host goes there unless ENARX_REGISTRY says otherwise.
DEFAULT_HOST = "store.profian.com"

MAX_USER = 64
MAX_REPO = 64
MAX_TAG = 128
MAX_PATH = 1024
MAX_PATH_DEPTH = 16

_USER = re.compile(r"[0-9A-Za-z]+")
_REPO = re.compile(r"[0-9A-Za-z-]+")
_TREE_NAME = re.compile(r"[0-9A-Za-z._:-]+")
# semver.org's regular expression without build metadata.
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
)
_HEX64 = re.compile(r"[0-9a-f]{64}")


def user_name(value: str) -> str:
    if not value:
        raise bad_request("user name cannot be empty", "registry.name")
    if len(value) > MAX_USER or not _USER.fullmatch(value):
        raise bad_request(f"invalid user name {value[:80]!r}: use 1-{MAX_USER} of [0-9A-Za-z]", "registry.name")
    return value


def repo_name(value: str) -> str:
    if not value:
        raise bad_request("repository name cannot be empty", "registry.name")
    if len(value) > MAX_REPO or not _REPO.fullmatch(value):
        raise bad_request(
            f"invalid repository name {value[:80]!r}: use 1-{MAX_REPO} of [0-9A-Za-z-]", "registry.name"
        )
    return value


def tag_name(value: str) -> str:
    if len(value) > MAX_TAG or not _SEMVER.fullmatch(value):
        raise bad_request(
            f"invalid tag name {value[:80]!r}: a tag is a semantic version such as 1.2.3 or 1.0.0-rc.1",
            "registry.name",
        )
    return value


def tree_path(value: str) -> tuple[str, ...]:
    """``""`` is the root; otherwise each ``/``-separated part is a Drawbridge tree name."""
    if value in ("", "/"):
        return ()
    if len(value) > MAX_PATH:
        raise bad_request(f"tree path longer than {MAX_PATH} characters", "registry.name")
    parts = tuple(value.strip("/").split("/"))
    if len(parts) > MAX_PATH_DEPTH:
        raise bad_request(f"tree path deeper than {MAX_PATH_DEPTH} levels", "registry.name")
    for part in parts:
        tree_name(part)
    return parts


def tree_name(part: str) -> str:
    if part in ("", ".", "..") or not _TREE_NAME.fullmatch(part):
        raise bad_request(f"invalid tree path component {part[:80]!r}: use [0-9A-Za-z._:-], not . or ..", "registry.name")
    return part


def parse_pin(text: str) -> bytes:
    """``sha-256:<64 hex>`` or ``sha-256:<base64>`` -> the 32-byte digest."""
    algo, sep, value = text.partition(":")
    if not sep or algo.lower() != "sha-256":
        raise bad_request(f"digest pin {text!r} must be sha-256:<64 hex digits>", "registry.slug")
    if _HEX64.fullmatch(value.lower()):
        return bytes.fromhex(value)
    try:
        raw = base64.b64decode(value.strip(":"), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise bad_request(f"digest pin {text!r} must be sha-256:<64 hex digits>", "registry.slug")
    return raw


@dataclass(frozen=True)
class Slug:
    """A package version in a registry; ``pin`` is the expected tree sha-256, if given."""

    scheme: str
    host: str
    user: str
    repo: str
    tag: str
    pin: bytes | None = None

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}{API_PREFIX}"

    @property
    def tag_url(self) -> str:
        return f"{self.base_url}/{self.user}/{self.repo}/_tag/{self.tag}"

    def __str__(self) -> str:
        pin = f"@sha-256:{self.pin.hex()}" if self.pin else ""
        return f"{self.host}/{self.user}/{self.repo}:{self.tag}{pin}"


def parse_slug(text: str, *, default_host: str = DEFAULT_HOST) -> Slug:
    """Parse ``[scheme://][host/]user/repo:tag[@sha-256:...]`` the way Enarx's ``parse_tag`` splits
    it: the tag after the last ``:``, the repository after the last ``/``, the user after the
    last ``/`` of what remains, and a host before that."""
    scheme = "https"
    rest = text
    if "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme not in ("http", "https"):
            raise bad_request(f"{text!r}: unsupported scheme {scheme!r} (use https)", "registry.slug")
    pin: bytes | None = None
    if "@" in rest:
        rest, _, pin_text = rest.rpartition("@")
        pin = parse_pin(pin_text)
    head, sep, tag = rest.rpartition(":")
    if not sep or "/" in tag:
        raise bad_request(f"{text!r}: missing `:TAG` (expected [host/]user/repo:tag)", "registry.slug")
    head, sep, repo = head.rpartition("/")
    if not sep:
        raise bad_request(f"{text!r}: missing `USER/` (expected [host/]user/repo:tag)", "registry.slug")
    host, sep, user = head.rpartition("/")
    if not sep:
        host = default_host
    if not host or "/" in host or "@" in host:
        raise bad_request(f"{text!r}: invalid host {host!r}", "registry.slug")
    return Slug(scheme, host, user_name(user), repo_name(repo), tag_name(tag), pin)


def parse_user_spec(text: str, *, default_host: str = DEFAULT_HOST) -> tuple[str, str, str]:
    """``[scheme://][host/]user`` -> (scheme, host, user)."""
    scheme, rest = ("https", text)
    if "://" in text:
        scheme, _, rest = text.partition("://")
    host, sep, user = rest.rpartition("/")
    return scheme, (host if sep else default_host), user_name(user)


def parse_repo_spec(text: str, *, default_host: str = DEFAULT_HOST) -> tuple[str, str, str, str]:
    """``[scheme://][host/]user/repo`` -> (scheme, host, user, repo)."""
    scheme, rest = ("https", text)
    if "://" in text:
        scheme, _, rest = text.partition("://")
    head, sep, repo = rest.rpartition("/")
    if not sep:
        raise bad_request(f"{text!r}: expected [host/]user/repo", "registry.slug")
    host, sep, user = head.rpartition("/")
    return scheme, (host if sep else default_host), user_name(user), repo_name(repo)


def is_tag_url(text: str) -> bool:
    """A full Drawbridge tag URL (``.../api/vX/user/repo/_tag/tag``) rather than a slug."""
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and parts.path.startswith("/api/v") and "/_tag/" in parts.path


__all__ = [
    "API_PREFIX",
    "API_VERSION",
    "DEFAULT_HOST",
    "RegistryError",
    "Slug",
    "is_tag_url",
    "parse_pin",
    "parse_repo_spec",
    "parse_slug",
    "parse_user_spec",
    "repo_name",
    "tag_name",
    "tree_name",
    "tree_path",
    "user_name",
]
