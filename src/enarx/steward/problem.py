"""RFC 9457 problem details: every refusal as ``application/problem+json`` with a stable code."""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import JSONResponse

from enarx.steward.errors import StewardError

PROBLEM_MEDIA = "application/problem+json"
TYPE_PREFIX = "urn:enarx:steward:"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA


def problem(error: StewardError) -> ProblemResponse:
    """``type`` is a URN per code; ``code``, ``field``, ``expected``, ``got`` and ``violations``
    are extension members carrying the verifier's reason."""
    body: dict[str, object] = {
        "type": TYPE_PREFIX + error.code,
        "title": HTTPStatus(error.status).phrase,
        "status": error.status,
        "detail": error.message,
    }
    body.update({k: v for k, v in error.to_json().items() if k != "reason"})
    return ProblemResponse(body, status_code=error.status)
