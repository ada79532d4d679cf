"""Registry settings, assembled by ``enarx registry serve`` (or tests) and passed to the app."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from enarx.registry.auth import OidcSettings
from enarx.registry.blobs import BlobStore

# Enarx's own fetch limits (exec-wasmtime workload.rs): a module up to 100 MB, configs and
# directories up to 1 MB. The registry refuses what a Keep would refuse anyway.
MAX_FILE_BYTES = 100_000_000
MAX_DIRECTORY_BYTES = 1_000_000
# User records, repository configs and tag entries are small JSON documents.
MAX_DOCUMENT_BYTES = 64 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RegistrySettings:
    """Everything the service needs; the defaults are the embedded single-machine setup."""

    data_dir: Path
    database: str | None = None  # None: <data_dir>/registry.sqlite3; or a postgresql:// DSN
    blobs: BlobStore | None = None  # None: files under <data_dir>/blobs
    oidc: OidcSettings | None = None
    local_tokens: bool = True
    steward_roots: Sequence[x509.Certificate] = ()
    max_file_bytes: int = MAX_FILE_BYTES
    max_directory_bytes: int = MAX_DIRECTORY_BYTES
    clock: Callable[[], datetime] = field(default=_now)

    def database_url(self) -> str:
        return self.database or str(self.data_dir / "registry.sqlite3")
