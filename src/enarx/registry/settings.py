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


@dataclass(frozen=True)
class ServeOptions:
    """What ``enarx registry serve`` was told, as plain data: a worker process rebuilds its
    :class:`RegistrySettings` from these (they travel as JSON in an environment variable)."""

    data_dir: str
    database: str | None = None
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_keys: tuple[str, ...] = ()
    local_tokens: bool = True
    steward_ca: str | None = None
    max_file_bytes: int = MAX_FILE_BYTES

    def to_json(self) -> str:
        import dataclasses
        import json

        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeOptions:
        import json

        value = json.loads(text)
        value["oidc_keys"] = tuple(value.get("oidc_keys", ()))
        return cls(**value)

    def settings(self, clock: Callable[[], datetime] = _now) -> RegistrySettings:
        from cryptography.hazmat.primitives import serialization

        from enarx.registry.blobs import S3BlobStore
        from enarx.registry.errors import RegistryError

        def read(path: str, what: str) -> bytes:
            try:
                return Path(path).read_bytes()
            except OSError as exc:
                raise RegistryError(f"{what} {path}: {exc.strerror}", status=0, code="registry.config") from exc

        oidc = None
        if self.oidc_issuer or self.oidc_audience:
            if not (self.oidc_issuer and self.oidc_audience and (self.oidc_jwks_url or self.oidc_keys)):
                raise RegistryError("OIDC needs --oidc-issuer, --oidc-audience and --oidc-jwks-url or --oidc-key",
                                    status=0, code="registry.config")
            keys = [serialization.load_pem_public_key(read(p, "--oidc-key")) for p in self.oidc_keys]
            oidc = OidcSettings(self.oidc_issuer, self.oidc_audience, keys=keys, jwks_url=self.oidc_jwks_url)
        roots: list[x509.Certificate] = []
        if self.steward_ca:
            try:
                roots = x509.load_pem_x509_certificates(read(self.steward_ca, "--steward-ca"))
            except ValueError as exc:
                raise RegistryError(f"--steward-ca {self.steward_ca}: {exc}", status=0, code="registry.config") from exc
        blobs = None
        if self.s3_bucket:
            blobs = S3BlobStore(self.s3_bucket, prefix=self.s3_prefix, endpoint_url=self.s3_endpoint)
        return RegistrySettings(Path(self.data_dir), database=self.database, blobs=blobs, oidc=oidc,
                                local_tokens=self.local_tokens, steward_roots=roots,
                                max_file_bytes=self.max_file_bytes, clock=clock)
