"""Registry failures: one exception type carrying the HTTP status and a stable code.

The service answers every refusal with the status and a one-line text reason (Drawbridge
clients print the body as is); the client raises the same type from a response, so a CLI
user sees the server's reason and the CLI maps the status to an exit code.
"""

from __future__ import annotations

from enarx.errors import EnarxError


class RegistryError(EnarxError):
    """A refused or failed registry operation: ``status`` is the HTTP status it maps to."""

    code = "registry.error"

    def __init__(self, message: str, *, status: int = 400, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


def bad_request(message: str, code: str = "registry.bad_request") -> RegistryError:
    return RegistryError(message, status=400, code=code)


def unauthorized(message: str) -> RegistryError:
    return RegistryError(message, status=401, code="registry.unauthorized")


def forbidden(message: str) -> RegistryError:
    return RegistryError(message, status=403, code="registry.forbidden")


def not_found(message: str) -> RegistryError:
    return RegistryError(message, status=404, code="registry.not_found")


def conflict(message: str) -> RegistryError:
    return RegistryError(message, status=409, code="registry.conflict")


def too_large(message: str) -> RegistryError:
    return RegistryError(message, status=413, code="registry.too_large")


class VerificationError(RegistryError):
    """Fetched content does not match what its parent (tag, directory, pin, signature) says."""

    code = "registry.verification"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=502, code=self.code)
