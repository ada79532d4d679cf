"""Checking bytes against what their parent says, while they stream. Sans-IO.

One :class:`StreamVerifier` serves both ends: the service checks an upload against the
``Content-Digest`` and ``Content-Length`` the client declared (Drawbridge's
``create_verified``), and the client checks each downloaded node against the entry its
parent gave for it (Enarx's ``workload.rs``: tag -> root directory -> each file). A body is
refused as soon as it runs past its declared length, so an oversized upload costs the
service at most one chunk more than the limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from enarx.identity.digests import Entry
from enarx.registry.errors import RegistryError, bad_request, too_large

_HASHLIB = {"sha-224": "sha224", "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512"}
# A digest list of only sha-224 is not enough to name content we store or run.
STRONG = frozenset({"sha-256", "sha-384", "sha-512"})


def require_strong(digests: Mapping[str, bytes], what: str) -> None:
    if not STRONG & set(digests):
        raise bad_request(f"{what}: Content-Digest must include sha-256, sha-384 or sha-512", "registry.digest")


@dataclass
class StreamVerifier:
    """Feed chunks with :meth:`update`, then :meth:`finish`; raises :class:`RegistryError`."""

    digests: Mapping[str, bytes]
    length: int
    limit: int
    what: str = "body"
    received: int = 0

    def __post_init__(self) -> None:
        if self.length > self.limit:
            raise too_large(f"{self.what}: {self.length} bytes is more than the limit of {self.limit}")
        require_strong(self.digests, self.what)
        self._hashers = {algo: hashlib.new(_HASHLIB[algo]) for algo in self.digests}

    def update(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.length:
            raise bad_request(
                f"{self.what}: Content length mismatch, expected {self.length}, got more", "registry.length"
            )
        for hasher in self._hashers.values():
            hasher.update(chunk)

    def finish(self) -> dict[str, bytes]:
        if self.received != self.length:
            raise bad_request(
                f"{self.what}: Content length mismatch, expected {self.length}, got {self.received} "
                "(truncated body)", "registry.length",
            )
        got = {algo: h.digest() for algo, h in self._hashers.items()}
        bad = sorted(algo for algo, value in got.items() if value != self.digests[algo])
        if bad:
            raise RegistryError(f"{self.what}: Content digest mismatch ({', '.join(bad)})", status=400,
                                code="registry.digest")
        return got

    @classmethod
    def for_entry(cls, entry: Entry, limit: int, what: str) -> StreamVerifier:
        return cls(entry.digest, entry.length, limit, what)


def check_entry(expected: Entry, got: Entry, what: str) -> None:
    """The metadata a server sent for a node must equal its parent's entry (Merkle step)."""
    if not expected.matches(got):
        detail = []
        if expected.type != got.type:
            detail.append(f"type {got.type!r}, expected {expected.type!r}")
        if expected.length != got.length:
            detail.append(f"length {got.length}, expected {expected.length}")
        if dict(expected.digest) != dict(got.digest):
            detail.append("digest differs")
        raise RegistryError(f"{what}: does not match its parent entry ({'; '.join(detail)})", status=502,
                            code="registry.verification")
