"""The embedded test Steward of ``enarx run --test``: in process, no network, always there.

Its CA lives in the cache directory (``<cache>/test-steward``) and is made once, so the
root a relying party trusts (``curl --cacert``) stays the same from run to run. It issues
under ``enarx.test`` only (the CA is name-constrained), accepts the nil backend's empty
evidence and records every insecure reason in the certificate's claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from enarx._log import get_logger
from enarx.steward.ca import ROOT_CERT, init_ca, load_ca
from enarx.steward.errors import StewardError
from enarx.steward.issuer import Issuer
from enarx.steward.log import IssuanceLog
from enarx.steward.settings import config_from_mapping
from enarx.steward.tomltable import Source

log = get_logger("enarx.keep")


@dataclass
class EmbeddedTestSteward:
    directory: Path
    issuer: Issuer
    log: IssuanceLog

    @property
    def root_ca_path(self) -> Path:
        return self.directory / "ca" / ROOT_CERT

    def attest(self, csr: bytes) -> list[x509.Certificate]:
        """Leaf first, like the HTTP client returns it."""
        from enarx.keep.steward_client import StewardRefused

        try:
            issued = self.issuer.issue([csr])
        except StewardError as exc:
            raise StewardRefused(f"the embedded test Steward refused this Keep ({exc.code}): {exc.message}", code=exc.code) from None
        return [issued[0].certificate, *reversed(self.issuer.ca.chain)]

    def close(self) -> None:
        self.log.close()


def start(cache_dir: Path) -> EmbeddedTestSteward:
    directory = cache_dir / "test-steward"
    ca_dir = directory / "ca"
    now = datetime.now(UTC)
    if (ca_dir / ROOT_CERT).exists():
        ca = load_ca(ca_dir)
    else:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        ca = init_ca(ca_dir, now=now, test=True, common_name="Enarx embedded test Steward")
    config = config_from_mapping(
        {"mode": "test", "trust_domain": "enarx.test"}, Source(str(directory / "steward.toml")), {}, base=directory
    )
    issuance_log = IssuanceLog(str(directory / "steward.db"), sqlite_synchronous="NORMAL")
    issuer = Issuer(policy=config.policy, ca=ca, log=issuance_log, clock=lambda: datetime.now(UTC), crl_url=None)
    return EmbeddedTestSteward(directory, issuer, issuance_log)
