"""The Drawbridge-compatible package registry: service, storage, client (docs/registry.md).

Names resolve lazily (PEP 562): ``enarx deploy`` of a cached package imports
``enarx.registry.names``/``errors`` and must not pay for starlette, httpx or the database
drivers it does not use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Authenticator": "auth",
    "FetchedPackage": "fetch",
    "FileBlobStore": "blobs",
    "MetaStore": "meta",
    "OidcSettings": "auth",
    "Registry": "app",
    "RegistryClient": "client",
    "RegistryError": "errors",
    "RegistrySettings": "settings",
    "RepoConfig": "repoconfig",
    "S3BlobStore": "blobs",
    "Slug": "names",
    "StreamVerifier": "verify",
    "TrustPolicy": "fetch",
    "VerificationError": "errors",
    "fetch_package": "fetch",
    "parse_slug": "names",
    "sign_entry": "signing",
    "verify_jws": "signing",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'enarx.registry' has no attribute {name!r}")
    return getattr(importlib.import_module(f"enarx.registry.{module}"), name)
