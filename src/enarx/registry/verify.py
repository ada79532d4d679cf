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
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from enarx.identity.digests import Entry
from enarx.registry.errors import RegistryError, bad_request, too_large

_HASHLIB = {"sha-224": "sha224", "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512"}
# A digest list of only sha-224 is not enough to name content we store or run.
STRONG = frozenset({"sha-256", "sha-384", "sha-512"})
BATCH = 1 << 20
# Bodies at least this large are hashed on worker lanes; smaller ones inline.
PARALLEL_MIN = 4 << 20
# Batches queued per lane before the receiver waits for the hashers.
MAX_INFLIGHT = 8


def _update_all(hashers: list[Any], data: bytes) -> None:
    for hasher in hashers:
        hasher.update(data)


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
        # sha-256 is always computed: it is the blob's storage key.
        self._hashers = {algo: hashlib.new(_HASHLIB[algo]) for algo in {*self.digests, "sha-256"}}
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._lanes: list[tuple[ThreadPoolExecutor, list[Any]]] = []
        self._inflight: deque[Future[None]] = deque()
        self.sha256 = ""

    def update(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.length:
            self.close()
            raise bad_request(
                f"{self.what}: Content length mismatch, expected {self.length}, got more", "registry.length"
            )
        # Network chunks are gathered into batches of about a megabyte; large bodies are hashed
        # on two ordered worker lanes (hashlib releases the GIL), so hashing overlaps with
        # receiving the next bytes instead of stalling the sender.
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        if self.length < PARALLEL_MIN:
            for hasher in self._hashers.values():
                hasher.update(data)
            return
        if not self._lanes:
            # sha-384/512 cost about four times sha-224/256: pair one slow with one fast.
            order = sorted(self._hashers, key=lambda a: a in ("sha-384", "sha-512"))
            groups: list[list[Any]] = [[], []]
            for i, algo in enumerate(order):
                groups[i % 2].append(self._hashers[algo])
            self._lanes = [(ThreadPoolExecutor(1, thread_name_prefix="verify"), g) for g in groups if g]
        for lane, hashers in self._lanes:
            self._inflight.append(lane.submit(_update_all, hashers, data))
        # Bound the memory held by batches not hashed yet (backpressure on a fast sender).
        while len(self._inflight) > MAX_INFLIGHT * len(self._lanes):
            self._inflight.popleft().result()

    def close(self) -> None:
        for lane, _ in self._lanes:
            lane.shutdown(wait=True)
        self._lanes = []

    def finish(self) -> dict[str, bytes]:
        if self.received != self.length:
            self.close()
            raise bad_request(
                f"{self.what}: Content length mismatch, expected {self.length}, got {self.received} "
                "(truncated body)", "registry.length",
            )
        self._flush()
        self.close()
        got = {algo: h.digest() for algo, h in self._hashers.items()}
        bad = sorted(algo for algo in self.digests if got[algo] != self.digests[algo])
        if bad:
            raise RegistryError(f"{self.what}: Content digest mismatch ({', '.join(bad)})", status=400,
                                code="registry.digest")
        self.sha256 = got["sha-256"].hex()
        return {algo: got[algo] for algo in self.digests}

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
