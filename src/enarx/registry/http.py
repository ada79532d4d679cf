"""Small HTTP helpers shared by the service handlers: metadata headers and bounded bodies."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from enarx.identity.digests import Entry, format_content_digest, parse_content_digest
from enarx.identity.errors import IdentityError
from enarx.registry.errors import RegistryError, bad_request, too_large
from enarx.registry.verify import StreamVerifier


def error_response(exc: RegistryError) -> Response:
    # Drawbridge answers refusals with a text reason; the code header is for machines.
    return PlainTextResponse(exc.message, status_code=exc.status, headers={"X-Enarx-Error": exc.code})


def declared_meta(request: Request, *, digest_required: bool) -> Entry | None:
    """Drawbridge's ``Meta`` from the request headers: Content-Digest, -Length and -Type."""
    length_header = request.headers.get("content-length")
    if length_header is None:
        raise RegistryError("Content-Length is required (no chunked uploads)", status=411, code="registry.length")
    try:
        length = int(length_header)
    except ValueError:
        raise bad_request(f"invalid Content-Length {length_header[:40]!r}", "registry.length") from None
    if length < 0:
        raise bad_request("invalid Content-Length", "registry.length")
    media = request.headers.get("content-type", "").split(";")[0].strip()
    if not media:
        raise bad_request("Content-Type is required", "registry.type")
    header = request.headers.get("content-digest")
    if not header:
        if digest_required:
            raise bad_request("At least one content digest value must be specified", "registry.digest")
        return Entry(digest={}, length=length, type=media)
    try:
        digests = parse_content_digest(header)
    except IdentityError as exc:
        raise bad_request(f"invalid Content-Digest: {exc}", "registry.digest") from exc
    return Entry(digest=digests, length=length, type=media)


async def read_small(request: Request, meta: Entry, limit: int, what: str) -> bytes:
    """Read a bounded body, verifying declared digests (if any) and length while it streams."""
    if meta.length > limit:
        raise too_large(f"{what}: {meta.length} bytes is more than the limit of {limit}")
    chunks: list[bytes] = []
    received = 0
    verifier = StreamVerifier(meta.digest, meta.length, limit, what) if meta.digest else None
    async for chunk in request.stream():
        received += len(chunk)
        if received > meta.length:
            raise bad_request(f"{what}: Content length mismatch, expected {meta.length}, got more", "registry.length")
        if verifier:
            verifier.update(chunk)
        chunks.append(chunk)
    if verifier:
        verifier.finish()
    elif received != meta.length:
        raise bad_request(f"{what}: Content length mismatch, expected {meta.length}, got {received}", "registry.length")
    return b"".join(chunks)


def meta_headers(meta: Entry) -> dict[str, str]:
    headers = {"content-length": str(meta.length), "content-type": meta.type}
    if meta.digest:
        headers["content-digest"] = format_content_digest(meta.digest)
    return headers


def meta_from_json(text: str) -> Entry:
    return Entry.from_json(json.loads(text))


def json_object(body: bytes, what: str) -> dict[str, object]:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"{what} is not JSON: {exc}", "registry.json") from exc
    if not isinstance(value, dict):
        raise bad_request(f"{what} must be a JSON object", "registry.json")
    return value
