"""Asking a Steward for the Keep's certificate, with Enarx's wire protocol.

``POST <steward URL>`` with ``Content-Type: application/pkcs10`` and the DER CSR; the answer
is a DER ``SEQUENCE OF Certificate``, CA first (Enarx's PkiPath), which we turn leaf first.
A refusal from this project's Steward is RFC 9457 problem+json carrying the verifier's code
and reason, and the Keep repeats them: Enarx's Steward answered with an empty 400.

An ``Attester`` is anything that turns a CSR into a chain: this HTTP client, or the debug
build's in-process test Steward.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from enarx.errors import EnarxError

if TYPE_CHECKING:
    import httpx

Attester = Callable[[bytes], list[x509.Certificate]]

# A Keep waits this long for its Steward before giving up on the run.
STEWARD_TIMEOUT = 30.0
# The largest chain a Steward may send back.
MAX_RESPONSE_BYTES = 1 << 20


class StewardRefused(EnarxError):
    """The Steward refused to certify this Keep; ``code`` is the Steward's own."""

    code = "steward.refused"


class StewardUnreachable(EnarxError):
    code = "steward.unreachable"


def http_attester(
    url: str,
    *,
    ca_files: Sequence[Path] = (),
    allow_http: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> Attester:
    """An attester that POSTs to ``url``: https only, unless ``allow_http`` (test Stewards)."""
    if url.startswith("http://") and not allow_http:
        raise EnarxError(
            f"refusing to send the Keep's CSR to {url} over plain http; use https, or --test/--unsafe",
            code="steward.insecure_url",
        )
    if not url.startswith(("https://", "http://")):
        raise EnarxError(f"steward {url!r} is not an http(s) URL", code="steward.url")
    verify: ssl.SSLContext | bool = True
    if ca_files:
        verify = ssl.create_default_context()
        for path in ca_files:
            verify.load_verify_locations(cafile=str(path))

    def attest(csr: bytes) -> list[x509.Certificate]:
        import httpx  # only a Keep that talks to a remote Steward pays for loading it

        from enarx.steward.wire import decode_pkipath

        try:
            with httpx.Client(verify=verify, timeout=STEWARD_TIMEOUT, transport=transport) as client:
                response = client.post(url, content=csr, headers={"Content-Type": "application/pkcs10"})
        except httpx.HTTPError as exc:
            raise StewardUnreachable(f"cannot reach the Steward at {url}: {exc}") from None
        if response.status_code != 200:
            raise _refusal(url, response)
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise StewardRefused(f"the Steward at {url} sent {len(response.content)} bytes, more than a chain")
        try:
            chain = decode_pkipath(response.content)
        except Exception as exc:  # a foreign format is the Steward's fault, reported as such
            raise StewardRefused(f"the Steward at {url} answered with something that is not a certificate chain: {exc}") from None
        if not chain:
            raise StewardRefused(f"the Steward at {url} sent an empty chain")
        return list(reversed(chain))

    return attest


def _refusal(url: str, response: httpx.Response) -> StewardRefused:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        code = str(problem.get("code") or "steward.refused")
        detail = problem.get("detail") or problem.get("title") or f"HTTP {response.status_code}"
        return StewardRefused(f"the Steward at {url} refused this Keep ({code}): {detail}", code=code)
    text = response.text.strip().splitlines()[0][:200] if response.text.strip() else "no reason given"
    return StewardRefused(f"the Steward at {url} refused this Keep (HTTP {response.status_code}): {text}")
