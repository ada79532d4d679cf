"""What a successful verification returns: the verified claims of one piece of evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Tee = Literal["snp", "sgx", "tdx", "nil"]


@dataclass(frozen=True)
class Verdict:
    """Verified evidence.

    ``measurement`` is the launch measurement a policy pins: SNP MEASUREMENT, SGX MRENCLAVE,
    TDX MRTD (empty for ``nil``). ``claims`` holds every verified field in JSON-ready form
    (bytes as lowercase hex), for logs, certificates and ``--json`` output.
    """

    tee: Tee
    measurement: bytes
    report_data: bytes
    debug: bool
    tcb_status: str | None = None
    advisories: tuple[str, ...] = ()
    claims: Mapping[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "tee": self.tee,
            "measurement": self.measurement.hex(),
            "report_data": self.report_data.hex(),
            "debug": self.debug,
            "tcb_status": self.tcb_status,
            "advisories": list(self.advisories),
            "claims": dict(self.claims),
        }
