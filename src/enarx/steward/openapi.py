"""The OpenAPI 3.1 description of the Steward's HTTP API (served at ``GET /openapi.json``)."""

from __future__ import annotations

from typing import Any

from enarx import __version__

_PROBLEM = {"$ref": "#/components/responses/Problem"}


def openapi_document() -> dict[str, Any]:
    problem_responses = {str(code): _PROBLEM for code in (400, 401, 403, 413, 415)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Enarx Steward",
            "version": __version__,
            "description": (
                "Attestation CA for Enarx Keeps. `POST /` is Enarx's protocol, byte-compatible; "
                "`/v1/...` is this project's API. Refusals are RFC 9457 problem+json with a stable `code`."
            ),
        },
        "paths": {
            "/": {
                "get": {"summary": "Health check (Enarx)", "responses": {"200": {"description": "alive, empty body"}}},
                "post": {
                    "summary": "Attest and issue (Enarx protocol)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/pkcs10": {"schema": {"type": "string", "format": "binary"}},
                            "application/vnd.steward.pkcs10-bundle.v1": {"schema": {"type": "string", "format": "binary"}},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "pkcs10: DER SEQUENCE OF Certificate (root, intermediate, issued); "
                            "bundle: DER SEQUENCE { chain SEQUENCE OF Certificate, issued SEQUENCE OF Certificate }",
                            "content": {"application/pkix-pkipath": {}, "application/der": {}},
                        },
                        **problem_responses,
                    },
                },
            },
            "/v1/attest": {
                "post": {
                    "summary": "Attest a CSR (PEM or DER) and get a PEM chain plus the verified claims",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/pkcs10": {"schema": {"type": "string", "format": "binary"}},
                            "application/x-pem-file": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "issued",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Issued"}}},
                        },
                        **problem_responses,
                    },
                }
            },
            "/v1/ca": {
                "get": {
                    "summary": "Trust bundle: root and issuing CA, PEM",
                    "responses": {"200": {"description": "PEM", "content": {"application/pem-certificate-chain": {}}}},
                }
            },
            "/v1/crl": {
                "get": {
                    "summary": "CRL of revoked workload certificates (DER; ?format=pem for PEM)",
                    "parameters": [{"name": "format", "in": "query", "schema": {"enum": ["der", "pem"]}}],
                    "responses": {"200": {"description": "CRL", "content": {"application/pkix-crl": {}}}},
                }
            },
            "/healthz": {"get": {"summary": "Readiness: mode, trust domain, clock override, log", "responses": {"200": {"description": "JSON"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text"}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "JSON"}}}},
        },
        "components": {
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem details",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail", "code"],
                    "properties": {
                        "type": {"type": "string", "description": "urn:enarx:steward:<code>"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "code": {"type": "string", "description": "stable machine-readable reason, e.g. snp.signature"},
                        "field": {"type": "string"},
                        "expected": {},
                        "got": {},
                        "violations": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Issued": {
                    "type": "object",
                    "required": ["certificate_chain", "serial", "names", "decision", "verdict"],
                    "properties": {
                        "certificate_chain": {"type": "string", "description": "PEM: leaf, issuing CA, root"},
                        "serial": {"type": "string", "description": "hex"},
                        "not_before": {"type": "string", "format": "date-time"},
                        "not_after": {"type": "string", "format": "date-time"},
                        "names": {
                            "type": "object",
                            "properties": {"dns": {"type": "array", "items": {"type": "string"}}, "uri": {"type": "array", "items": {"type": "string"}}},
                        },
                        "claims": {"type": ["object", "null"]},
                        "decision": {"type": "object"},
                        "verdict": {"type": "object"},
                    },
                },
            },
        },
    }
