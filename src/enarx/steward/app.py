"""The Steward's HTTP surface (ASGI, starlette), assembled from constructor arguments.

Enarx's protocol (``GET /``, ``POST /``) byte for byte, and the project's versioned API
(``/v1/...``, described by ``GET /openapi.json``). Every refusal is RFC 9457 problem+json;
bad input is a 4xx, never a 5xx. Verification and signing run on the event loop (CPU work
under the GIL), the log commit in a worker thread, and the response is built only after the
log committed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from enarx._log import get_logger
from enarx.steward.ca import build_crl
from enarx.steward.errors import StewardError
from enarx.steward.groupcommit import GroupCommit
from enarx.steward.issuer import Issued, Issuer
from enarx.steward.log import IssuanceRecord
from enarx.steward.metrics import CONTENT_TYPE_LATEST, StewardMetrics
from enarx.steward.openapi import openapi_document
from enarx.steward.problem import problem
from enarx.steward.wire import (
    MEDIA_BUNDLE,
    MEDIA_PKCS10,
    decode_bundle_request,
    encode_bundle_output,
    pkipath_of_der,
)

log = get_logger("enarx.steward")

PEM_CSR_TYPES = frozenset({MEDIA_PKCS10, "application/x-pem-file", "text/plain", "application/octet-stream"})
# Bundles up to this many CSRs are verified on the event loop (about 5 ms each for SNP).
INLINE_CSRS = 4
# Past the limit we still read (and discard) this much, so the client gets its 413 instead of a
# reset connection; beyond it the connection is simply closed.
DRAIN_LIMIT = 64 << 20


@dataclass(frozen=True)
class AppLimits:
    max_body_bytes: int = 1 << 20
    max_bundle: int = 64
    crl_validity: timedelta = timedelta(hours=24)


def create_app(
    issuer: Issuer,
    *,
    limits: AppLimits | None = None,
    metrics: StewardMetrics | None = None,
    committer: GroupCommit[IssuanceRecord] | None = None,
) -> Starlette:
    """The Steward ASGI app over ``issuer`` (which holds the policy, CA, log and clock).

    ``committer`` writes the issuance log; the caller owns it (and closes it).
    """
    limits = limits or AppLimits()
    committer = committer or GroupCommit(issuer.log.record)
    metrics = metrics or StewardMetrics()
    ca = issuer.ca
    chain_der = [c.public_bytes(Encoding.DER) for c in ca.chain]  # the prefix of every PkiPath answer

    def route(name: str, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            try:
                response = await handler(request)
            except StewardError as exc:
                if exc.status < 500:
                    metrics.refused.labels(code=exc.code).inc()
                    log.info("refused %s: %s %s", name, exc.code, exc.message)
                else:
                    log.error("failed %s: %s %s", name, exc.code, exc.message)
                response = problem(exc)
            except Exception:
                log.exception("internal error in %s", name)
                response = problem(StewardError("internal", "internal error (logged)", status=500))
            metrics.requests.labels(route=name, status=str(response.status_code)).inc()
            return response

        return wrapped

    async def issue(csrs: list[bytes]) -> list[Issued]:
        started = time.perf_counter()
        # Verifying and signing is CPU work under the GIL: on the event loop it costs less than
        # handing it to a thread (threads only add GIL contention; measured 1.4-2x slower).
        # Large bundles go to a thread so the loop keeps serving. The commit waits on disk or
        # network, so it runs in the log's writer thread, shared with the requests that come
        # in meanwhile (see groupcommit.py); the response is built only after it.
        if len(csrs) <= INLINE_CSRS:
            issued = issuer.prepare(csrs)
        else:
            issued = await run_in_threadpool(issuer.prepare, csrs)
        await committer.commit([item.record for item in issued])
        metrics.issue_seconds.observe(time.perf_counter() - started)
        for item in issued:
            metrics.issued.labels(tee=item.verdict.tee, mode=issuer.policy.mode).inc()
        return issued

    async def health(request: Request) -> Response:
        return Response(status_code=200)

    async def enarx_attest(request: Request) -> Response:
        content_type = request.headers.get("content-type")
        # Enarx matches the header exactly (no parameters) and answers 400 otherwise.
        if content_type not in (MEDIA_PKCS10, MEDIA_BUNDLE):
            raise StewardError(
                "request.content_type", f"Content-Type must be {MEDIA_PKCS10} or {MEDIA_BUNDLE}",
                field="Content-Type", expected=f"{MEDIA_PKCS10}, {MEDIA_BUNDLE}", got=content_type or "none",
            )
        body = await _read_body(request, limits.max_body_bytes)
        if content_type == MEDIA_PKCS10:
            (one,) = await issue([body])
            return Response(pkipath_of_der([*chain_der, one.certificate.public_bytes(Encoding.DER)]), media_type="application/pkix-pkipath")
        csrs = decode_bundle_request(body, limit=limits.max_bundle)
        issued = await issue(csrs)
        return Response(encode_bundle_output(ca.chain, [i.certificate for i in issued]), media_type="application/der")

    async def v1_attest(request: Request) -> Response:
        content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type not in PEM_CSR_TYPES:
            raise StewardError(
                "request.content_type", f"Content-Type must be one of {', '.join(sorted(PEM_CSR_TYPES))}",
                status=415, field="Content-Type", got=content_type or "none",
            )
        body = await _read_body(request, limits.max_body_bytes)
        der = _csr_der(body)
        (one,) = await issue([der])
        chain_pem = "".join(
            c.public_bytes(Encoding.PEM).decode("ascii") for c in (one.certificate, ca.certificate, ca.root)
        )
        return JSONResponse({"certificate_chain": chain_pem, **one.to_json()})

    async def v1_ca(request: Request) -> Response:
        pem = b"".join(c.public_bytes(Encoding.PEM) for c in (ca.root, ca.certificate))
        return Response(pem, media_type="application/pem-certificate-chain")

    async def v1_crl(request: Request) -> Response:
        def build() -> x509.CertificateRevocationList:
            now = issuer.now()
            return build_crl(
                ca, issuer.log.revoked(), now=now, next_update=limits.crl_validity, number=int(now.timestamp() * 1000)
            )

        crl = await run_in_threadpool(build)
        if request.query_params.get("format") == "pem":
            return Response(crl.public_bytes(Encoding.PEM), media_type="application/x-pem-file")
        return Response(crl.public_bytes(Encoding.DER), media_type="application/pkix-crl")

    async def healthz(request: Request) -> Response:
        count = await run_in_threadpool(issuer.log.count)
        return JSONResponse(
            {
                "status": "ok",
                "mode": issuer.policy.mode,
                "trust_domain": issuer.policy.trust_domain,
                "clock_override": issuer.policy.clock.isoformat() if issuer.policy.clock else None,
                "log": issuer.log.engine,
                "issued": count,
            }
        )

    async def prometheus(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    routes = [
        Route("/", route("health", health), methods=["GET"]),
        Route("/", route("enarx", enarx_attest), methods=["POST"]),
        Route("/v1/attest", route("v1_attest", v1_attest), methods=["POST"]),
        Route("/v1/ca", route("v1_ca", v1_ca), methods=["GET"]),
        Route("/v1/crl", route("v1_crl", v1_crl), methods=["GET"]),
        Route("/healthz", route("healthz", healthz), methods=["GET"]),
        Route("/metrics", route("metrics", prometheus), methods=["GET"]),
        Route("/openapi.json", route("openapi", openapi), methods=["GET"]),
    ]
    async def http_error(request: Request, exc: Exception) -> Response:
        # Unknown paths and methods get problem+json too, with a code of their own.
        assert isinstance(exc, HTTPException)
        code = {404: "request.not_found", 405: "request.method"}.get(exc.status_code, "request.invalid")
        metrics.requests.labels(route="other", status=str(exc.status_code)).inc()
        return problem(StewardError(code, str(exc.detail), status=exc.status_code))

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.issuer = issuer
    app.state.metrics = metrics
    return app


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        raise StewardError("request.content_length", "Content-Length is not a number", field="Content-Length", got=declared)
    body = bytearray()
    too_large = declared is not None and int(declared) > limit
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if too_large or seen > limit:
            too_large = True
            if seen > DRAIN_LIMIT:
                break
            continue
        body += chunk
    if too_large:
        raise StewardError(
            "request.too_large", f"request body exceeds {limit} bytes", status=413,
            field="body", expected=limit, got=int(declared) if declared else seen,
        )
    if not body:
        raise StewardError("request.empty", "request body is empty", field="body")
    return bytes(body)


def _csr_der(body: bytes) -> bytes:
    """DER from a PEM or DER CSR body."""
    stripped = body.lstrip()
    if not stripped.startswith(b"-----BEGIN"):
        return body
    try:
        return x509.load_pem_x509_csr(stripped).public_bytes(Encoding.DER)
    except ValueError as exc:
        raise StewardError("csr.malformed", f"PEM body is not a CSR: {exc}", field="body") from exc
