"""Prometheus metrics of one Steward app (its own registry, so apps in one process do not mix)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "StewardMetrics"]


@dataclass
class StewardMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "steward_requests", "HTTP requests by route and status", ["route", "status"], registry=self.registry
        )
        self.issued = Counter("steward_certificates_issued", "certificates issued", ["tee", "mode"], registry=self.registry)
        self.refused = Counter("steward_refusals", "refused CSRs by code", ["code"], registry=self.registry)
        self.issue_seconds = Histogram(
            "steward_issue_seconds", "time to verify, sign and log one request", registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
