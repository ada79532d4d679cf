"""Where node contents live: content-addressed blobs, written so a crash leaves nothing visible.

A blob's key is the hex SHA-256 of its bytes, computed by the service while the upload
streamed (``verify.StreamVerifier``; never taken from the client), so identical files are
stored once and a key always names its content.

* :class:`FileBlobStore` (the default): ``<root>/tmp/`` receives the upload; on commit the
  file is fsynced and renamed to ``<root>/sha256/<2 hex>/<62 hex>``, and the directory is
  fsynced. ``rename`` is atomic, so a reader sees the whole blob or none; a crash leaves only
  a temp file, which :meth:`FileBlobStore.sweep` removes at start.
* :class:`S3BlobStore` (optional, ``boto3``): the upload is spooled locally and sent with one
  PUT on commit; S3 makes an object visible only once its PUT completes.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from enarx.registry.errors import RegistryError

CHUNK = 1 << 20
# Uploads above this are spooled to disk by the S3 store instead of held in memory.
SPOOL_IN_MEMORY = 8 << 20


class BlobWriter(Protocol):
    def write(self, chunk: bytes) -> None: ...
    def commit(self, key: str) -> str: ...  # key: the hex sha-256 the caller computed of the bytes
    def abort(self) -> None: ...


class BlobStore(Protocol):
    def writer(self) -> BlobWriter: ...
    def read(self, key: str) -> bytes: ...
    def iter(self, key: str, chunk: int = CHUNK) -> Iterator[bytes]: ...
    def exists(self, key: str) -> bool: ...


def _check_key(key: str) -> str:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise RegistryError(f"invalid blob key {key[:80]!r}", status=500, code="registry.storage")
    return key


class _FileWriter:
    def __init__(self, store: FileBlobStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.tmp, prefix="upload-")
        self._file: IO[bytes] = os.fdopen(fd, "wb")
        self._path = Path(name)
        self._done = False

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def commit(self, key: str) -> str:
        final = self._store.path_for(key)
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            final.parent.mkdir(parents=True, exist_ok=True)
            # Same bytes, same key: an existing blob is already right, keep it untouched.
            if final.exists():
                self._path.unlink(missing_ok=True)
            else:
                os.replace(self._path, final)
                _fsync_dir(final.parent)
        except OSError as exc:
            self.abort()
            raise RegistryError(f"storage failure: {exc.strerror}", status=500, code="registry.storage") from exc
        self._done = True
        return key

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        if not self._file.closed:
            self._file.close()
        self._path.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileBlobStore:
    """Blobs under a directory on the local filesystem."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        (root / "sha256").mkdir(exist_ok=True)
        self.sweep()

    def sweep(self) -> int:
        """Remove uploads a crash left behind; they were never visible."""
        removed = 0
        for stale in self.tmp.glob("upload-*"):
            stale.unlink(missing_ok=True)
            removed += 1
        return removed

    def path_for(self, key: str) -> Path:
        key = _check_key(key)
        return self.root / "sha256" / key[:2] / key[2:]

    def writer(self) -> BlobWriter:
        return _FileWriter(self)

    def read(self, key: str) -> bytes:
        try:
            return self.path_for(key).read_bytes()
        except FileNotFoundError:
            raise RegistryError("blob missing from storage", status=500, code="registry.storage") from None

    def iter(self, key: str, chunk: int = CHUNK) -> Iterator[bytes]:
        try:
            f = self.path_for(key).open("rb")
        except FileNotFoundError:
            raise RegistryError("blob missing from storage", status=500, code="registry.storage") from None
        with f:
            while data := f.read(chunk):
                yield data

    def exists(self, key: str) -> bool:
        return self.path_for(key).exists()


class _S3Writer:
    def __init__(self, store: S3BlobStore) -> None:
        self._store = store
        self._spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (closed on commit/abort)

    def write(self, chunk: bytes) -> None:
        self._spool.write(chunk)

    def commit(self, key: str) -> str:
        _check_key(key)
        try:
            if not self._store.exists(key):
                self._spool.seek(0)
                self._store.client.upload_fileobj(self._spool, self._store.bucket, self._store.object_name(key))
        except Exception as exc:  # botocore errors: one boundary for the optional backend
            raise RegistryError(f"storage failure: {exc}", status=500, code="registry.storage") from exc
        finally:
            self._spool.close()
        return key

    def abort(self) -> None:
        self._spool.close()


class S3BlobStore:
    """Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW); needs ``boto3``."""

    def __init__(self, bucket: str, *, prefix: str = "", client: Any = None, endpoint_url: str | None = None) -> None:
        if client is None:
            try:
                boto3 = importlib.import_module("boto3")
            except ImportError as exc:
                raise RegistryError(
                    "the S3 blob store needs boto3: pip install 'enarx[s3]'", status=500, code="registry.config"
                ) from exc
            client = boto3.client("s3", endpoint_url=endpoint_url)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def object_name(self, key: str) -> str:
        return f"{self.prefix}sha256/{_check_key(key)}"

    def writer(self) -> BlobWriter:
        return _S3Writer(self)

    def read(self, key: str) -> bytes:
        return b"".join(self.iter(key))

    def iter(self, key: str, chunk: int = CHUNK) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.object_name(key))["Body"]
        except Exception as exc:
            raise RegistryError(f"storage failure: {exc}", status=500, code="registry.storage") from exc
        while data := body.read(chunk):
            yield data

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_name(key))
        except Exception:
            return False
        return True
